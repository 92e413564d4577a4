"""Periodic access reviews (issue #15 item 5): `/users/review` for admins and privacy officers
lists every account with its role, clearance, source, last sign-in and sessions, flags the
dormant ones and the account changes since the last review; the review is signed off under
an electronic signature and kept; admins end a user's session; `archive users review`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from support import PASSWORD, TESTING_INI, assert_error, csrf_token, make_cli_env, run_cli, sign_in

from archive_app.access.access_review import AccessReview, signed_content
from archive_app.access.signatures import Signature, signature_matches
from archive_app.bootstrap import open_app
from archive_app.interfaces import IAccountService, IDatabase

DORMANT = "review_dormant"


@pytest.fixture(scope="module")
def dormant_user(wsgi_app, users):
    """An active account created 200 days ago that never signed in."""
    with open_app(TESTING_INI) as env:
        request = env["request"]
        with request.tm:
            request.find_service(IAccountService).add_user(DORMANT, "auditor", PASSWORD)
    with wsgi_app.registry.getUtility(IDatabase).write() as session, session.begin():
        session.execute(
            text("UPDATE users SET created_at = :at WHERE username = :name"),
            {"at": datetime.now(UTC) - timedelta(days=200), "name": DORMANT},
        )
    return DORMANT


def read(wsgi_app, work):
    with wsgi_app.registry.getUtility(IDatabase).read() as session:
        return work(session)


def row_of(page_text: str, username: str) -> str:
    match = re.search(rf'<tr id="review-{username}"[^>]*>.*?</tr>', page_text, re.S)
    assert match, f"{username} is not listed"
    return match.group(0)


def test_the_review_lists_every_account_and_flags_the_dormant_one(api, dormant_user):
    page = api.get("/users/review?_LOCALE_=en", "privacy")
    assert 'class="dormant"' in row_of(page.text, dormant_user)
    assert "never signed in" in row_of(page.text, dormant_user)
    assert 'class="dormant"' not in row_of(page.text, "privacy")  # signed in just now
    for role in ("archivist", "auditor", "admin"):
        assert f'id="review-{role}"' in page.text
    review = api.get("/api/v1/access-reviews", "admin").json
    assert dormant_user in review["dormant"] and "privacy" not in review["dormant"]
    assert review["dormant_days"] == 90
    mine = next(row for row in review["accounts"] if row["username"] == dormant_user)
    assert (mine["role"], mine["source"], mine["last_sign_in"]) == ("auditor", "local", None)
    api.get("/users/review", "archivist", status=403)
    api.get("/api/v1/access-reviews", "records", status=403)


def test_a_sign_off_needs_the_signature_and_is_kept(api, wsgi_app, dormant_user):
    review = api.get("/api/v1/access-reviews", "privacy").json
    url = "/api/v1/access-reviews"
    assert_error(api.post_json(url, {"expected": review["fingerprint"]}, "privacy", status=401),
                 401, "signature_required", "signature")  # fmt: skip
    wrong = {"password": "wrong-password", "otp": None, "meaning": "access_review"}
    api.post_json(url, {"expected": review["fingerprint"], "signature": wrong}, "privacy",
                  status=401)  # fmt: skip
    signature = {"password": PASSWORD, "otp": None, "meaning": "access_review"}
    assert_error(api.post_json(url, {"expected": "0" * 64, "signature": signature}, "privacy",
                               status=409), 409, "conflict", "expected")  # fmt: skip

    kept = api.post_json(url, {"expected": review["fingerprint"], "signature": signature},
                         "privacy", status=201).json  # fmt: skip
    assert kept["reviewer"] == "privacy"
    assert kept["signatures"][0]["meaning"] == "access_review"

    def stored(session):
        row = session.get(AccessReview, kept["id"])
        signed = session.scalar(select(Signature).where(Signature.record_id == kept["id"]))
        return row, signature_matches(signed, signed_content(row))

    row, matches = read(wsgi_app, stored)
    assert matches and dormant_user in row.body
    later = api.get("/api/v1/access-reviews", "privacy").json
    assert later["previous_review"]["id"] == kept["id"]
    assert kept["id"] in [past["id"] for past in later["past_reviews"]]


def test_the_page_signs_off_and_shows_the_signed_review(api, dormant_user):
    browser = api.browser("admin")
    page = browser.get("/users/review?_LOCALE_=en")
    form = next(f for f in page.forms.values() if f.fields.get("action")
                and f["action"].value == "sign_off")  # fmt: skip
    assert form["signature_meaning"].value == "access_review"
    form.submit(status=401)
    form["signature_password"] = PASSWORD
    form.submit(status=303)
    shown = browser.get("/users/review?_LOCALE_=en").text
    assert "Signed-off reviews" in shown
    assert re.search(r"admin \(admin\),\s+Access review", shown), shown[-1500:]


def test_an_admin_ends_a_users_session(api, wsgi_app, dormant_user):
    victim = sign_in(wsgi_app, dormant_user)
    victim.get("/", status=200)
    review = api.get("/api/v1/access-reviews", "admin").json
    sessions = next(row for row in review["accounts"]
                    if row["username"] == dormant_user)["sessions"]  # fmt: skip
    assert sessions, "the signed-in session is listed"
    session_id = sessions[0]["id"]

    privacy = api.browser("privacy")
    privacy.post("/users/review", {"csrf_token": csrf_token(privacy), "action": "revoke",
                                   "session_id": str(session_id)}, status=403)  # fmt: skip
    victim.get("/", status=200)  # a privacy officer reviews, does not end sessions

    admin = api.browser("admin")
    admin.post("/users/review", {"csrf_token": csrf_token(admin), "action": "revoke",
                                 "session_id": str(session_id)}, status=303)  # fmt: skip
    assert victim.get("/").status_int in (302, 303)  # signed out: to the login page
    got = api.get("/api/v1/access-reviews", "admin").json
    changes = got["changes"]
    assert any(change["action"] == "session_revoke" and dormant_user in change["detail"]
               for change in changes)  # fmt: skip


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory):
    return make_cli_env(tmp_path_factory, "access_review_cli")


def test_the_command_prints_the_review(cli_env):
    added = run_cli(cli_env, "user", "add", "reviewed_one", "--role", "auditor",
                    "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    result = run_cli(cli_env, "users", "review")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^reviewed_one\tauditor\tinternal\tlocal\tyes\tnever\t", result.stdout,
                     re.M)  # fmt: skip
    assert "account changes since the last review: 1" in result.stdout
    assert "user_add" in result.stdout and "fingerprint: " in result.stdout
