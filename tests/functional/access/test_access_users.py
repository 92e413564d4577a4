"""Admins manage users; a change takes effect on the user's next request and is logged."""

from __future__ import annotations

from factories import file_dossier, metadata
from support import PASSWORD, assert_error


def token_for(app, username, password=PASSWORD):
    return app.post_json("/api/v1/auth/token", {"username": username, "password": password},
                         status=200).json["token"]  # fmt: skip


def test_only_admins_manage_users(api):
    for user in ("archivist", "auditor", "privacy", "records"):
        api.get("/api/v1/users", user, status=403)
        api.post_json("/api/v1/users", {"username": "x", "role": "auditor", "password": "p"},
                      user, status=403)  # fmt: skip
    names = {u["username"] for u in api.get("/api/v1/users", "admin").json["results"]}
    assert {"archivist", "auditor", "admin"} <= names


def test_create_validate_and_conflict(api):
    created = api.post_json("/api/v1/users", {"username": "zhaoliu", "role": "auditor",
                                              "password": PASSWORD, "clearance": "confidential"},
                            "admin", status=201).json  # fmt: skip
    assert created["role"] == "auditor" and created["clearance"] == "confidential"
    again = api.post_json("/api/v1/users", {"username": "zhaoliu", "role": "auditor",
                                            "password": PASSWORD}, "admin", status=409)  # fmt: skip
    assert_error(again, 409, "conflict", "username")
    bad = api.post_json("/api/v1/users", {"username": "qian", "role": "king",
                                          "password": PASSWORD}, "admin", status=422)  # fmt: skip
    assert_error(bad, 422, "invalid", "role")
    short = api.post_json("/api/v1/users", {"username": "sun", "role": "auditor",
                                            "password": "short"}, "admin", status=422)  # fmt: skip
    assert_error(short, 422, "invalid", "password")


def test_role_and_clearance_changes_apply_on_the_next_request(api, app):
    api.post_json("/api/v1/users", {"username": "zhou", "role": "auditor", "password": PASSWORD,
                                    "clearance": "internal"}, "admin", status=201)  # fmt: skip
    token = {"Authorization": f"Bearer {token_for(app, 'zhou')}"}
    confidential = file_dossier(api, metadata(confidentiality="confidential")).json
    app.get(f"/api/v1/dossiers/{confidential['id']}", headers=token, status=404)
    api.app.patch_json("/api/v1/users/zhou", {"clearance": "confidential"},
                       headers=api.headers("admin"), status=200)  # fmt: skip
    app.get(f"/api/v1/dossiers/{confidential['id']}", headers=token, status=200)
    api.app.patch_json("/api/v1/users/zhou", {"role": "privacy_officer"},
                       headers=api.headers("admin"), status=200)  # fmt: skip
    app.get(f"/api/v1/dossiers/{confidential['id']}", headers=token, status=403)
    api.app.patch_json("/api/v1/users/zhou", {"active": False}, headers=api.headers("admin"))
    app.get("/api/v1/access-log", headers=token, status=401)
    changes = api.get("/api/v1/access-log?action=user_change", "privacy").json["entries"]
    details = " ".join(entry["detail"] for entry in changes)
    assert "clearance internal -> confidential" in details and "deactivated" in details
    api.app.patch_json("/api/v1/users/nobody", {"active": True}, headers=api.headers("admin"),
                       status=404)  # fmt: skip
    api.app.patch_json("/api/v1/users/zhou", {"password": "x"}, headers=api.headers("admin"),
                       status=422)  # fmt: skip


def test_no_entry_no_content(api, monkeypatch):
    """An action whose access-log entry cannot be written is refused."""
    from archive_app.access.accesslog import AccessLog

    dossier = file_dossier(api).json

    def broken(self, event):
        raise OSError("disk full")

    monkeypatch.setattr(AccessLog, "append_now", broken)
    document = dossier["documents"][0]["id"]
    response = api.get(f"/api/v1/dossiers/{dossier['id']}/documents/{document}", "auditor",
                       status=500)  # fmt: skip
    assert b"%PDF" not in response.body
    api.get(f"/api/v1/dossiers/{dossier['id']}", "auditor", status=500)
