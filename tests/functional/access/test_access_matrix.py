"""The contract's role × action matrix (§3), on every dossier route, with clearance and logging."""

from __future__ import annotations

import os

import pytest
from factories import complete_files, metadata, metadata_part, pdf
from sqlalchemy import create_engine, select

from archive_app.access.models import AccessLogEntry

ROLES = ["archivist", "auditor", "privacy", "records", "admin", None]


@pytest.fixture(scope="module")
def dossiers(wsgi_app, tokens):
    """One confidential and one restricted dossier, filed by the archivist."""
    import webtest

    app = webtest.TestApp(wsgi_app)
    made = {}
    for level in ("confidential", "restricted"):
        body = app.post(
            "/api/v1/dossiers", params=[metadata_part(metadata(confidentiality=level))],
            upload_files=complete_files(),
            headers={"Authorization": f"Bearer {tokens['archivist']}"},
        ).json  # fmt: skip
        made[level] = body
    return made


def log_entries(**filters):
    engine = create_engine(os.environ["ARCHIVE_SQLALCHEMY_URL"])
    with engine.connect() as connection:
        query = select(AccessLogEntry)
        for name, value in filters.items():
            query = query.where(getattr(AccessLogEntry, name) == value)
        rows = connection.execute(query).all()
    engine.dispose()
    return rows


# (method, url template, expected status per role: archivist, auditor, privacy, records, admin,
# anonymous) on the confidential dossier, which every reader's clearance reaches.
MATRIX = [
    ("GET", "/api/v1/dossiers/{id}", [200, 200, 403, 200, 403, 401]),
    ("GET", "/api/v1/dossiers?complaint_no={no}", [200, 200, 403, 200, 403, 401]),
    ("GET", "/api/v1/dossiers/{id}/documents/{doc}", [200, 200, 403, 403, 403, 401]),
    ("POST", "/api/v1/dossiers/{id}/documents", [201, 403, 403, 403, 403, 401]),
    ("POST", "/api/v1/dossiers", [201, 403, 403, 403, 403, 401]),
    ("GET", "/api/v1/dossiers/" + "0" * 32, [404, 404, 403, 404, 403, 401]),
    ("GET", "/api/v1/dossiers/{missing}/documents/{doc}", [404, 404, 403, 403, 403, 401]),
]


ACTIONS = {
    "/api/v1/dossiers/{id}": "view",
    "/api/v1/dossiers?complaint_no={no}": "search",
    "/api/v1/dossiers/{id}/documents/{doc}": "download",
    "/api/v1/dossiers/{id}/documents": "append",
    "/api/v1/dossiers": "file",
    "/api/v1/dossiers/" + "0" * 32: "view",
    "/api/v1/dossiers/{missing}/documents/{doc}": "download",
}


@pytest.mark.parametrize(("method", "template", "expected"), MATRIX)
@pytest.mark.parametrize("role_index", range(len(ROLES)))
def test_role_matrix(api, dossiers, method, template, expected, role_index):
    user = ROLES[role_index]
    dossier = dossiers["confidential"]
    url = template.format(id=dossier["id"], no=dossier["complaint_no"],
                          doc=dossier["documents"][0]["id"], missing="f" * 32)  # fmt: skip
    status = expected[role_index]
    action = ACTIONS[template]
    before = len(log_entries(username=user, action=action))
    if method == "GET":
        response = api.get(url, user, status=status)
    elif url.endswith("/documents"):
        response = api.post(url, user, upload_files=[("attachment", "a.pdf", pdf())],
                            status=status)  # fmt: skip
    else:
        response = api.post(url, user, params=[metadata_part(metadata())],
                            upload_files=complete_files(), status=status)  # fmt: skip
    if status in (200, 201):
        assert len(log_entries(username=user, action=action, outcome="ok")) > 0
        assert len(log_entries(username=user, action=action)) > before, "every success is logged"
    if status in (401, 403):
        assert response.json["error"] == ("unauthorized" if status == 401 else "forbidden")
        denied = log_entries(outcome="denied", username=user, action=action)
        assert len(log_entries(username=user, action=action)) > before and denied, (
            "a denial must be logged"
        )


def test_above_clearance_is_not_revealed(api, dossiers):
    restricted = dossiers["restricted"]
    doc = restricted["documents"][0]["id"]
    for url in (f"/api/v1/dossiers/{restricted['id']}",
                f"/api/v1/dossiers/{restricted['id']}/documents/{doc}"):  # fmt: skip
        body = api.get(url, "auditor", status=404).json  # auditor has clearance confidential
        assert body["error"] == "not_found"
        assert api.get(url, "archivist", status=200)
    found = api.get(f"/api/v1/dossiers?complaint_no={restricted['complaint_no']}", "auditor").json
    assert found == {"results": []}
    entries = api.get(f"/api/v1/access-log?user=auditor&dossier_id={restricted['id']}"
                      "&outcome=denied", "privacy").json["entries"]  # fmt: skip
    assert entries and all("clearance" in entry["detail"] for entry in entries)


def test_archivist_below_level_cannot_append(api, dossiers):
    restricted = dossiers["restricted"]
    api.post(f"/api/v1/dossiers/{restricted['id']}/documents", "archivist_internal",
             upload_files=[("attachment", "a.pdf", pdf())], status=404)  # fmt: skip


def test_reads_are_logged(api, dossiers):
    dossier = dossiers["confidential"]
    api.get(f"/api/v1/dossiers/{dossier['id']}", "records")
    assert log_entries(username="records", action="view", dossier_id=dossier["id"])
    doc = dossier["documents"][0]["id"]
    api.get(f"/api/v1/dossiers/{dossier['id']}/documents/{doc}", "auditor")
    assert log_entries(username="auditor", action="download", document_id=doc)


def test_bad_and_revoked_tokens(api, app, users):
    from support import PASSWORD

    api.app.get("/api/v1/dossiers/x", headers={"Authorization": "Bearer nonsense"}, status=401)
    token = app.post_json("/api/v1/auth/token", {"username": "auditor", "password": PASSWORD},
                          status=200).json["token"]  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    app.delete("/api/v1/auth/token", headers=headers, status=200)
    app.get("/api/v1/dossiers?complaint_no=TS-I-23-001", headers=headers, status=401)
    wrong = app.post_json("/api/v1/auth/token", {"username": "auditor", "password": "nope-nope"},
                          status=401)  # fmt: skip
    assert wrong.json["error"] == "unauthorized"
    assert log_entries(action="login_failed", username="auditor")


def test_openapi_needs_no_authentication(app):
    document = app.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    assert "/dossiers" in document["paths"]
    for path in ("/access-log", "/access-log/verify", "/retention/runs", "/retention/due",
                 "/dossiers/{dossier_id}/holds", "/users"):  # fmt: skip
        assert path in document["paths"], path
