"""Passwords (issue #15 item 2, contract §9): the policy, changing one's own (page and API:
every other token and session ends), an admin's reset that confines the user to /account
until they choose their own, expiry, `archive user passwd`, and users' full names."""

from __future__ import annotations

import itertools
import os
from datetime import timedelta

import pytest
import webtest
from support import PASSWORD, assert_error, run_cli, sign_in

from archive_app.access.password_policy import PasswordRefused, check_password, is_common
from archive_app.interfaces import IAccountRules

_names = itertools.count(1)
NEW = "a-quite-new-passphrase"


def new_user(api, role="auditor", full_name=None) -> str:
    name = f"pw_{next(_names)}_{role}"
    body = {"username": name, "role": role, "clearance": "confidential", "password": PASSWORD,
            "full_name": full_name}  # fmt: skip
    api.post_json("/api/v1/users", body, "admin", status=201)
    return name


def token_of(app, name, password=PASSWORD, status=200):
    answer = app.post_json("/api/v1/auth/token", {"username": name, "password": password},
                           status=status)  # fmt: skip
    return answer.json.get("token")


def bearer(token) -> dict:
    return {"Authorization": f"Bearer {token}"}


def csrf_of(page) -> str:
    return page.html.select_one("input[name=csrf_token]")["value"]


def change_on_page(browser, current, new, new2=None, status=200):
    form = browser.get("/account?_LOCALE_=en").forms["change-password"]
    form["current"], form["new"], form["new2"] = current, new, new if new2 is None else new2
    return form.submit(status=status)


# -- the policy -------------------------------------------------------------------------


@pytest.mark.parametrize(("password", "reason"), [
    ("short-one", "short"),
    ("elevenchars", "short"),
    ("Some_User_Name", "name"),
    ("SOME_USER_NAME", "name"),
    ("qwerty123456", "common"),  # in the shipped list as it is
    ("Password2024!!", "common"),  # a listed word with digits and signs after it
    ("1qaz2wsx3edc", "common"),
])  # fmt: skip
def test_the_policy_refuses_short_name_and_common_passwords(password, reason):
    with pytest.raises(PasswordRefused) as refused:
        check_password(password, "some_user_name")
    assert refused.value.reason == reason and refused.value.field == "new"


def test_the_policy_accepts_a_good_password():
    check_password("correct-horse-battery", "some_user_name")  # no exception
    check_password("晨光里的十二个汉字口令很长", "some_user_name")
    assert is_common("password") and not is_common("correct-horse-battery")


def test_a_new_account_follows_the_policy(api):
    refused = api.post_json("/api/v1/users", {"username": "pw_common", "role": "auditor",
                            "password": "qwerty123456"}, "admin", status=422)  # fmt: skip
    assert_error(refused, 422, "invalid", "password")
    named = api.post_json("/api/v1/users", {"username": "pw_same_name_1", "role": "auditor",
                          "password": "PW_SAME_NAME_1"}, "admin", status=422)  # fmt: skip
    assert_error(named, 422, "invalid", "password")


# -- full names -------------------------------------------------------------------------


def test_users_carry_a_full_name(api):
    name = new_user(api, full_name="  张 三丰 ")
    listed = {u["username"]: u for u in api.get("/api/v1/users", "admin").json["results"]}
    assert listed[name]["full_name"] == "张 三丰"
    changed = api.app.patch_json(f"/api/v1/users/{name}", {"full_name": "Zhang Sanfeng"},
                                 headers=api.headers("admin")).json  # fmt: skip
    assert changed["full_name"] == "Zhang Sanfeng"
    page = api.get("/users?_LOCALE_=en", "admin")
    assert "Zhang Sanfeng" in page.html.select_one(f"tr#user-{name}").get_text()
    bad = api.app.patch_json(f"/api/v1/users/{name}", {"full_name": "x" * 129},
                             headers=api.headers("admin"), status=422)  # fmt: skip
    assert_error(bad, 422, "invalid", "full_name")


# -- changing one's own -----------------------------------------------------------------


def test_the_api_changes_the_own_password_and_ends_every_other_token_and_session(api, wsgi_app):
    name = new_user(api)
    caller, other = token_of(api.app, name), token_of(api.app, name)
    browser = sign_in(wsgi_app, name)
    weak = api.app.post_json("/api/v1/account/password", {"current": PASSWORD, "new": "short"},
                             headers=bearer(caller), status=422)  # fmt: skip
    assert_error(weak, 422, "invalid", "new")
    common = api.app.post_json("/api/v1/account/password",
                               {"current": PASSWORD, "new": "qwerty123456"},
                               headers=bearer(caller), status=422)  # fmt: skip
    assert_error(common, 422, "invalid", "new")
    wrong = api.app.post_json("/api/v1/account/password", {"current": "not-the-password",
                              "new": NEW}, headers=bearer(caller), status=422)  # fmt: skip
    assert_error(wrong, 422, "invalid", "current")
    api.app.get("/api/v1/search", headers=bearer(other), status=200)  # nothing ended yet

    done = api.app.post_json("/api/v1/account/password", {"current": PASSWORD, "new": NEW},
                             headers=bearer(caller))  # fmt: skip
    assert done.json == {"changed": True}
    api.app.get("/api/v1/search", headers=bearer(caller), status=200)  # the caller's goes on
    api.app.get("/api/v1/search", headers=bearer(other), status=401)  # every other ends
    assert (
        browser.get("/search", status=303).headers["Location"].startswith("http://localhost/login")
    )  # the web session too
    token_of(api.app, name, PASSWORD, status=401)
    token_of(api.app, name, NEW)
    logged = api.get(f"/api/v1/access-log?user={name}&action=password_change", "privacy").json
    assert logged["total"] == 1
    failed = api.get(f"/api/v1/access-log?user={name}&action=login_failed", "privacy").json
    assert any("wrong current password" in e["detail"] for e in failed["entries"])


def test_the_page_changes_the_own_password_and_keeps_its_own_session(api, wsgi_app):
    name = new_user(api)
    browser, elsewhere = sign_in(wsgi_app, name), sign_in(wsgi_app, name)
    token = token_of(api.app, name)
    differ = change_on_page(browser, PASSWORD, NEW, "another-new-passphrase", status=422)
    assert differ.html.select_one("#new2-error") is not None
    named = change_on_page(browser, PASSWORD, name.upper(), status=422)
    assert "user name" in named.html.select_one("#new-error").get_text()
    wrong = change_on_page(browser, "not-my-password", NEW, status=422)
    assert wrong.html.select_one("#current-error") is not None

    done = change_on_page(browser, PASSWORD, NEW)
    assert "Your password is changed" in done.html.select_one("#account-message").get_text()
    browser.get("/search", status=200)  # this session goes on
    elsewhere.get("/search", status=303)  # the other one has ended
    api.app.get("/api/v1/search", headers=bearer(token), status=401)
    sign_in(wsgi_app, name, password=NEW)


def test_the_account_page_needs_a_csrf_token_and_a_signed_in_user(api, app):
    assert app.get("/account", status=303).headers["Location"].endswith("/login?next=%2Faccount")
    browser = api.browser("auditor")
    browser.post("/account", {"action": "password", "current": PASSWORD, "new": NEW,
                              "new2": NEW}, status=400)  # no CSRF token: refused  # fmt: skip
    api.app.post_json("/api/v1/account/password", {"current": PASSWORD, "new": NEW},
                      status=401)  # fmt: skip


# -- an admin's reset -------------------------------------------------------------------


def test_an_admin_reset_forces_a_change_before_anything_else(api, wsgi_app):
    name = new_user(api)
    old_token, browser = token_of(api.app, name), sign_in(wsgi_app, name)
    weak = api.post_json(f"/api/v1/users/{name}/password", {"password": "short"}, "admin",
                         status=422)  # fmt: skip
    assert_error(weak, 422, "invalid", "password")
    reset = api.post_json(f"/api/v1/users/{name}/password", {"password": "temporary-pass-42"},
                          "admin").json  # fmt: skip
    assert reset["must_change_password"] is True
    api.app.get("/api/v1/search", headers=bearer(old_token), status=401)  # ended
    browser.get("/search", status=303)

    # The API: a fresh token works for the password endpoint only.
    token = token_of(api.app, name, "temporary-pass-42")
    refused = api.app.get("/api/v1/search", headers=bearer(token), status=403)
    assert_error(refused, 403, "password_change_required")
    # The pages: every page leads to /account, which says why.
    browser = sign_in(wsgi_app, name, password="temporary-pass-42")
    home = browser.get("/", status=303)
    assert home.headers["Location"].endswith("/account")
    assert browser.get("/search", status=303).headers["Location"].endswith("/account")
    page = browser.get("/account?_LOCALE_=en")
    assert "reset your password" in page.html.select_one("#account-reason").get_text()

    api.app.post_json("/api/v1/account/password", {"current": "temporary-pass-42", "new": NEW},
                      headers=bearer(token))  # fmt: skip
    api.app.get("/api/v1/search", headers=bearer(token), status=200)
    assert api.get("/api/v1/users", "admin").json["results"]
    logged = api.get("/api/v1/access-log?action=password_reset&user=admin", "privacy").json
    assert any(name in e["detail"] for e in logged["entries"])


def test_an_admin_resets_from_the_accounts_page(api, wsgi_app):
    name = new_user(api)
    page = api.get("/users?_LOCALE_=en", "admin")
    form = next(f for f in page.forms.values()
                if f.fields.get("action") and f["action"].value == "reset"
                and f["username"].value == name)  # fmt: skip
    form["password"] = name  # the user name: refused beside the row
    refused = form.submit(status=422)
    assert "user name" in refused.html.select_one(f"tr#user-{name}").get_text()
    form["password"] = "temporary-pass-43"
    done = form.submit()
    assert "must choose their own" in done.html.select_one("#users-message").get_text()
    login = webtest.TestApp(wsgi_app).get("/login").forms[0]
    login["username"], login["password"] = name, "temporary-pass-43"
    assert login.submit(status=303).headers["Location"].endswith("/account")


# -- expiry -----------------------------------------------------------------------------


def test_an_expired_password_leads_to_the_account_page(api, wsgi_app, clock_at, monkeypatch):
    name = new_user(api)
    rules = wsgi_app.registry.getUtility(IAccountRules)
    monkeypatch.setattr(rules, "password_max_days", 90)
    clock_at(timedelta(days=89, hours=23))
    token = token_of(api.app, name)  # tokens live 12 hours
    api.app.get("/api/v1/search", headers=bearer(token), status=200)
    clock_at(timedelta(days=90, hours=1))
    login = webtest.TestApp(wsgi_app).get("/login").forms[0]
    login["username"], login["password"] = name, PASSWORD
    assert login.submit(status=303).headers["Location"].endswith("/account")
    expired = api.app.get("/api/v1/search", headers=bearer(token), status=403)
    assert_error(expired, 403, "password_change_required")
    api.app.post_json("/api/v1/account/password", {"current": PASSWORD, "new": NEW},
                      headers=bearer(token))  # fmt: skip
    api.app.get("/api/v1/search", headers=bearer(token), status=200)


# -- the command line -------------------------------------------------------------------


def test_the_cli_resets_a_password_and_refuses_a_bad_one(api, wsgi_app):
    name = new_user(api)
    env = dict(os.environ)
    bad = run_cli(env, "user", "passwd", name, "--password-stdin", stdin="qwerty123456\n")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "common" in bad.stderr
    unknown = run_cli(env, "user", "passwd", "pw_nobody", "--password-stdin",
                      stdin="temporary-pass-44\n")  # fmt: skip
    assert unknown.returncode == 2
    done = run_cli(env, "user", "passwd", name, "--password-stdin", stdin="temporary-pass-44\n")
    assert done.returncode == 0, done.stderr
    token = token_of(api.app, name, "temporary-pass-44")
    assert_error(api.app.get("/api/v1/search", headers=bearer(token), status=403), 403,
                 "password_change_required")  # fmt: skip


def test_the_cli_adds_a_user_with_a_full_name(api):
    env = dict(os.environ)
    added = run_cli(env, "user", "add", "pw_cli_named", "--role", "auditor", "--full-name",
                    "李四", "--password-stdin", stdin=f"{PASSWORD}\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    listed = {u["username"]: u for u in api.get("/api/v1/users", "admin").json["results"]}
    assert listed["pw_cli_named"]["full_name"] == "李四"
    short = run_cli(env, "user", "add", "pw_cli_short", "--role", "auditor", "--password-stdin",
                    stdin="elevenchars\n")  # fmt: skip
    assert short.returncode == 2 and "12 characters" in short.stderr
