"""The second factor (issue #15 item 3): enrolment on /account by QR code and key, confirmed
by a first code; sign-in asks for a code after the password (pages and API); codes checked
with the archive's clock, ±1 step, never twice; recovery codes that work once; wrong codes
refused and logged; roles that must use it reach only /account until enrolled."""

from __future__ import annotations

import itertools
import os
from datetime import timedelta

import pytest
import webtest
from support import PASSWORD, assert_error, run_cli, sign_in

from archive_app.access.models import User
from archive_app.access.second_factor import code_at, step_at
from archive_app.interfaces import IAccountRules, IClock, IDatabase

_names = itertools.count(1)


@pytest.fixture
def fixed_clock(wsgi_app, clock_at):
    """The archive's clock held still at a step's start (+5 s), so a test knows the step."""
    clock = wsgi_app.registry.getUtility(IClock)
    now = clock.now()
    clock_at(timedelta(seconds=35 - now.timestamp() % 30))
    return clock


def new_user(api, role="auditor") -> str:
    name = f"tf_{next(_names)}_{role}"
    body = {"username": name, "role": role, "clearance": "confidential", "password": PASSWORD}
    api.post_json("/api/v1/users", body, "admin", status=201)
    return name


def code_now(clock, secret: str, steps: int = 0) -> str:
    return code_at(secret, step_at(clock.now()) + steps)


def enrol(wsgi_app, name, clock) -> tuple[webtest.TestApp, str, list[str]]:
    """Signed in as `name`, a second factor set up: (browser, secret, recovery codes)."""
    browser = sign_in(wsgi_app, name)
    start = browser.get("/account?_LOCALE_=en").forms["start-factor"].submit()
    assert start.html.select_one("#enrolment-qr svg") is not None  # the QR code, inline
    secret = start.html.select_one("#enrolment-secret").get_text().strip()
    form = start.forms["confirm-factor"]
    form["code"] = code_now(clock, secret)
    done = form.submit()
    codes = [li.get_text().strip() for li in done.html.select("#recovery-codes li")]
    return browser, secret, codes


def password_step(wsgi_app, name, password=PASSWORD):
    browser = webtest.TestApp(wsgi_app, extra_environ={"REMOTE_ADDR": "192.0.2.20"})
    form = browser.get("/login").forms[0]
    form["username"], form["password"] = name, password
    return browser, form.submit(status=303)


def code_step(browser, code, status=303):
    form = browser.get("/login/code?_LOCALE_=en").forms["login-code"]
    form["code"] = code
    return form.submit(status=status)


def log_of(api, name, action):
    return api.get(f"/api/v1/access-log?user={name}&action={action}", "privacy").json["entries"]


def test_enrolment_shows_a_qr_code_and_the_key_and_needs_a_first_code(api, wsgi_app, fixed_clock):
    name = new_user(api)
    browser = sign_in(wsgi_app, name)
    start = browser.get("/account?_LOCALE_=en").forms["start-factor"].submit()
    secret = start.html.select_one("#enrolment-secret").get_text().strip()
    assert len(secret) == 32
    wrong = start.forms["confirm-factor"]
    wrong["code"] = "000000" if code_now(fixed_clock, secret) != "000000" else "111111"
    refused = wrong.submit(status=422)
    assert refused.html.select_one("#code-error") is not None
    assert log_of(api, name, "otp_failed")
    # The page shown again offers the same key until it is confirmed.
    assert refused.html.select_one("#enrolment-secret").get_text().strip() == secret
    form = refused.forms["confirm-factor"]
    form["code"] = code_now(fixed_clock, secret)
    done = form.submit()
    codes = [li.get_text().strip() for li in done.html.select("#recovery-codes li")]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "Recovery codes left: 10" in browser.get("/account?_LOCALE_=en").text
    assert "recovery-codes" not in browser.get("/account").text  # shown once only
    assert log_of(api, name, "otp_enrol")
    user = api.get("/api/v1/users", "admin").json["results"]
    assert next(u for u in user if u["username"] == name)["second_factor"] is True


def test_the_secret_is_stored_sealed(api, wsgi_app, fixed_clock):
    name = new_user(api)
    _browser, secret, _codes = enrol(wsgi_app, name, fixed_clock)
    with wsgi_app.registry.getUtility(IDatabase).read() as session:
        row = session.query(User).filter_by(username=name).one()
        assert secret.encode() not in bytes(row.totp_secret)
        assert row.totp_pending is None


def test_signing_in_asks_for_the_code_after_the_password(api, wsgi_app, fixed_clock, clock_at):
    name = new_user(api)
    _browser, secret, _codes = enrol(wsgi_app, name, fixed_clock)
    browser, answer = password_step(wsgi_app, name)
    assert answer.headers["Location"].endswith("/login/code")
    browser.get("/search", status=303)  # not signed in yet
    wrong = code_step(browser, "123456" if code_now(fixed_clock, secret) != "123456" else "654321",
                      status=400)  # fmt: skip
    assert wrong.html.select_one("#code-error") is not None
    assert any("second-factor" in e["detail"] for e in log_of(api, name, "login_failed"))
    # The next step's code (the device's clock a little ahead) is within the window.
    signed_in = code_step(browser, code_now(fixed_clock, secret, steps=1))
    assert signed_in.headers["Location"] == "http://localhost/"
    browser.get("/search", status=200)


def test_a_code_is_not_accepted_twice(api, wsgi_app, fixed_clock):
    name = new_user(api)
    _browser, secret, _codes = enrol(wsgi_app, name, fixed_clock)
    # The enrolment used this step's code already: it cannot sign in.
    browser, _answer = password_step(wsgi_app, name)
    code_step(browser, code_now(fixed_clock, secret), status=400)
    code = code_now(fixed_clock, secret, steps=1)
    code_step(browser, code)
    again, _answer = password_step(wsgi_app, name)
    code_step(again, code, status=400)  # replayed within its window: refused
    # Nor an older code once a later one was used.
    code_step(again, code_now(fixed_clock, secret), status=400)


def test_codes_outside_the_window_are_refused(api, wsgi_app, fixed_clock):
    name = new_user(api)
    _browser, secret, _codes = enrol(wsgi_app, name, fixed_clock)
    browser, _answer = password_step(wsgi_app, name)
    code_step(browser, code_now(fixed_clock, secret, steps=2), status=400)
    code_step(browser, code_now(fixed_clock, secret, steps=-2), status=400)


def test_a_recovery_code_works_once(api, wsgi_app, fixed_clock):
    name = new_user(api)
    _browser, _secret, codes = enrol(wsgi_app, name, fixed_clock)
    browser, _answer = password_step(wsgi_app, name)
    code_step(browser, codes[0].upper().replace("-", " "))  # as typed off paper
    assert log_of(api, name, "otp_recovery")
    again, _answer = password_step(wsgi_app, name)
    code_step(again, codes[0], status=400)
    code_step(again, codes[1])
    assert "Recovery codes left: 8" in again.get("/account?_LOCALE_=en").text


def test_the_token_endpoint_takes_the_code_as_otp(api, wsgi_app, fixed_clock):
    name = new_user(api)
    _browser, secret, codes = enrol(wsgi_app, name, fixed_clock)
    post = api.app.post_json
    missing = post("/api/v1/auth/token", {"username": name, "password": PASSWORD}, status=401)
    assert_error(missing, 401, "otp_required", "otp")
    wrong_password = post("/api/v1/auth/token", {"username": name, "password": "nope-nope",
                          "otp": code_now(fixed_clock, secret, 1)}, status=401)  # fmt: skip
    assert_error(wrong_password, 401, "unauthorized")  # the password first, the code after
    bad = post("/api/v1/auth/token", {"username": name, "password": PASSWORD, "otp": "12345x"},
               status=401)  # fmt: skip
    assert_error(bad, 401, "otp_invalid", "otp")
    code = code_now(fixed_clock, secret, 1)
    token = post("/api/v1/auth/token", {"username": name, "password": PASSWORD, "otp": code})
    api.app.get("/api/v1/search", headers={"Authorization": f"Bearer {token.json['token']}"})
    replay = post("/api/v1/auth/token", {"username": name, "password": PASSWORD, "otp": code},
                  status=401)  # fmt: skip
    assert_error(replay, 401, "otp_invalid")
    post("/api/v1/auth/token", {"username": name, "password": PASSWORD, "otp": codes[3]})
    assert any("api token" in e["detail"] for e in log_of(api, name, "otp_recovery"))


def test_a_role_that_must_use_it_reaches_only_the_account_page(api, wsgi_app, fixed_clock,
                                                               monkeypatch):  # fmt: skip
    rules = wsgi_app.registry.getUtility(IAccountRules)
    monkeypatch.setattr(rules, "second_factor_roles", frozenset({"records_manager"}))
    name = new_user(api, role="records_manager")
    _browser, answer = password_step(wsgi_app, name)
    assert answer.headers["Location"].endswith("/account")
    browser = sign_in(wsgi_app, name)
    assert browser.get("/retention", status=303).headers["Location"].endswith("/account")
    page = browser.get("/account?_LOCALE_=en")
    assert "must use a second factor" in page.html.select_one("#account-reason").get_text()
    token = api.app.post_json("/api/v1/auth/token", {"username": name, "password": PASSWORD})
    refused = api.app.get("/api/v1/retention/due",
                          headers={"Authorization": f"Bearer {token.json['token']}"},
                          status=403)  # fmt: skip
    assert_error(refused, 403, "second_factor_required")
    # Other roles are not bound by it.
    api.get("/search", "auditor", status=200)

    browser, _secret, _codes = enrol(wsgi_app, name, fixed_clock)
    browser.get("/retention", status=200)


def test_turning_it_off_needs_a_current_code(api, wsgi_app, fixed_clock):
    name = new_user(api)
    browser, secret, _codes = enrol(wsgi_app, name, fixed_clock)
    form = browser.get("/account?_LOCALE_=en").forms["factor-change"]
    form["code"] = "999999" if code_now(fixed_clock, secret, 1) != "999999" else "888888"
    form.submit("action", value="remove_factor", status=422)
    form["code"] = code_now(fixed_clock, secret, 1)
    done = form.submit("action", value="remove_factor")
    assert "turned off" in done.html.select_one("#account-message").get_text()
    assert log_of(api, name, "otp_remove")
    _browser, answer = password_step(wsgi_app, name)
    assert answer.headers["Location"] == "http://localhost/"  # no code asked any more


def test_an_admin_removes_a_lost_second_factor(api, wsgi_app, fixed_clock):
    name = new_user(api)
    enrol(wsgi_app, name, fixed_clock)
    api.app.delete(f"/api/v1/users/{name}/second-factor", headers=api.headers("auditor"),
                   status=403)  # fmt: skip
    removed = api.app.delete(f"/api/v1/users/{name}/second-factor", headers=api.headers("admin"))
    assert removed.json["second_factor"] is False
    _browser, answer = password_step(wsgi_app, name)
    assert answer.headers["Location"] == "http://localhost/"
    assert any("by an admin" in e["detail"] for e in
               api.get("/api/v1/access-log?action=otp_remove&user=admin", "privacy").json[
                   "entries"])  # fmt: skip

    other = new_user(api)
    enrol(wsgi_app, other, fixed_clock)
    page = api.get("/users?_LOCALE_=en", "admin")
    form = next(f for f in page.forms.values()
                if f.fields.get("action") and f["action"].value == "remove_factor"
                and f["username"].value == other)  # fmt: skip
    done = form.submit()
    assert "is removed" in done.html.select_one("#users-message").get_text()
    assert not any(f.fields.get("action") and f["action"].value == "remove_factor"
                   and f["username"].value == other for f in done.forms.values())  # fmt: skip


def test_the_token_command_needs_the_code_too(api, wsgi_app):
    # The command opens an archive of its own, on the real clock: so does this test.
    clock = wsgi_app.registry.getUtility(IClock)
    name = new_user(api)
    _browser, secret, _codes = enrol(wsgi_app, name, clock)
    env = dict(os.environ)
    missing = run_cli(env, "token", name, "--password-stdin", stdin=f"{PASSWORD}\n")
    assert missing.returncode == 2 and "--otp" in missing.stderr
    wrong = run_cli(env, "token", name, "--password-stdin", "--otp", "12345x",
                    stdin=f"{PASSWORD}\n")  # fmt: skip
    assert wrong.returncode == 2
    assert any("cli" in e["detail"] for e in log_of(api, name, "login_failed"))
    good = run_cli(env, "token", name, "--password-stdin", "--otp", code_now(clock, secret, 1),
                   stdin=f"{PASSWORD}\n")  # fmt: skip
    assert good.returncode == 0, good.stderr
    api.app.get("/api/v1/search", headers={"Authorization": f"Bearer {good.stdout.strip()}"})


def test_wrong_codes_count_towards_the_sign_in_throttle(api, wsgi_app, fixed_clock):
    name = new_user(api)
    _browser, secret, _codes = enrol(wsgi_app, name, fixed_clock)
    good = code_now(fixed_clock, secret, 1)
    wrong = "000000" if good != "000000" else "111111"
    browser, _answer = password_step(wsgi_app, name)
    for _attempt in range(5):  # archive.login_max_failures_per_user in testing.ini
        code_step(browser, wrong, status=400)
    blocked = code_step(browser, good, status=429)  # even the right code: refused unchecked
    assert blocked.html.select_one("#lockout") is not None


def test_the_code_is_asked_for_five_minutes_only(api, wsgi_app, fixed_clock, clock_at):
    name = new_user(api)
    _browser, secret, _codes = enrol(wsgi_app, name, fixed_clock)
    browser, _answer = password_step(wsgi_app, name)
    clock_at(timedelta(minutes=6))
    assert browser.get("/login/code", status=303).headers["Location"].endswith("/login")
    form_page = browser.get("/login?_LOCALE_=en")
    assert form_page.forms[0]["username"].value == ""  # back to the password
