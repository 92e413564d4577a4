"""Sign-in throttling: five failures for a user name within 15 minutes block further
attempts (429, Retry-After), even with the right password, until the window has passed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support import PASSWORD, assert_error, clock_reading

from archive_app.interfaces import IDatabase


def attempt(app, username, password, status):
    return app.post_json("/api/v1/auth/token", {"username": username, "password": password},
                         status=status)  # fmt: skip


def test_repeated_failures_block_a_user_name_for_the_window(api, app, wsgi_app):
    api.post_json("/api/v1/users", {"username": "throttled", "role": "auditor",
                                    "password": PASSWORD}, "admin", status=201)  # fmt: skip
    for _ in range(5):
        attempt(app, "throttled", "not-the-password", 401)
    blocked = attempt(app, "throttled", PASSWORD, 429)  # the right password: still refused
    assert_error(blocked, 429, "too_many_attempts", None)
    assert 60 <= int(blocked.headers["Retry-After"]) <= 15 * 60
    attempt(app, "auditor", PASSWORD, 200)  # other users are not affected

    page = app.get("/login")
    form = page.forms[0]
    form["username"], form["password"] = "throttled", PASSWORD
    refused = form.submit(status=429)
    assert "Too many failed sign-ins" in refused.text or "登录失败次数过多" in refused.text

    entries = api.get("/api/v1/access-log?action=login_throttled", "privacy").json["entries"]
    assert len([e for e in entries if e["user"] == "throttled"]) >= 2

    later = datetime.now(UTC) + timedelta(minutes=16)
    with clock_reading(wsgi_app.registry, lambda: later):
        attempt(app, "throttled", PASSWORD, 200)  # the window has passed


def test_an_address_spraying_many_user_names_is_blocked(wsgi_app):
    import webtest
    from plaster import get_settings
    from support import TESTING_INI

    from archive_app import main

    settings = dict(get_settings(TESTING_INI, "app:main"))
    settings["archive.login_max_failures_per_address"] = "3"
    sprayer = webtest.TestApp(main({"__file__": TESTING_INI}, **settings),
                              extra_environ={"REMOTE_ADDR": "198.51.100.7"})  # fmt: skip
    try:
        for name in ("admin1", "root", "test"):
            attempt(sprayer, name, "123456", 401)
        attempt(sprayer, "auditor", PASSWORD, 429)  # even a real account, from this address
        neighbour = webtest.TestApp(sprayer.app, extra_environ={"REMOTE_ADDR": "198.51.100.8"})
        attempt(neighbour, "auditor", PASSWORD, 200)
    finally:
        sprayer.app.registry.getUtility(IDatabase).dispose()
