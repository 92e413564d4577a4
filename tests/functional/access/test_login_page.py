"""The sign-in page (issue 12 item 8): it returns to the page one came for (a path on this
archive only, never another site), and a lockout says for how long."""

from __future__ import annotations

import re

import pytest
import webtest
from support import PASSWORD


def sign_in_with(app, username, password=PASSWORD, login_url="/login", status=303):
    form = app.get(login_url).forms[0]
    form["username"], form["password"] = username, password
    return form.submit(status=status)


def test_signing_in_returns_to_the_page_asked_for(app, users):
    asked = app.get("/search?q=x", status=303)  # signed out: to the sign-in page
    login_url = asked.headers["Location"]
    assert login_url.endswith("/login?next=%2Fsearch%3Fq%3Dx")
    assert app.get(login_url).forms[0]["next"].value == "/search?q=x"
    answer = sign_in_with(app, "auditor", login_url=login_url)
    assert answer.headers["Location"] == "http://localhost/search?q=x"
    app.get(answer.headers["Location"], status=200)
    # Signed in already, the sign-in page goes straight there.
    again = app.get("/login?next=/access-log", status=303)
    assert again.headers["Location"].endswith("/access-log")


@pytest.mark.parametrize("elsewhere", [
    "//evil.example", "//evil.example/login", "https://evil.example/", "/\\evil.example",
    "javascript:alert(1)", "evil.example", "/%0d%0aSet-Cookie:x=1".replace("%0d%0a", "\r\n"),
])  # fmt: skip
def test_a_next_that_leaves_the_archive_is_ignored(wsgi_app, users, elsewhere):
    app = webtest.TestApp(wsgi_app, extra_environ={"REMOTE_ADDR": "192.0.2.11"})
    page = app.get("/login", params={"next": elsewhere})
    assert "next" not in page.forms[0].fields
    fields = {"csrf_token": page.forms[0]["csrf_token"].value, "username": "auditor",
              "password": PASSWORD, "next": elsewhere}  # fmt: skip
    answer = app.post("/login", fields, status=303)
    assert answer.headers["Location"] == "http://localhost/"


def test_a_posted_next_is_checked_too(wsgi_app, users):
    app = webtest.TestApp(wsgi_app, extra_environ={"REMOTE_ADDR": "192.0.2.12"})
    form = app.get("/login?next=/search").forms[0]
    form["username"], form["password"] = "auditor", PASSWORD
    form["next"].force_value("//evil.example")
    assert form.submit(status=303).headers["Location"] == "http://localhost/"


def test_a_lockout_says_for_how_long(api, wsgi_app):
    api.post_json("/api/v1/users", {"username": "locked_page", "role": "auditor",
                                    "password": PASSWORD}, "admin", status=201)  # fmt: skip
    # An address of its own: the failures must not count against the other tests' address.
    app = webtest.TestApp(wsgi_app, extra_environ={"REMOTE_ADDR": "198.51.100.60"})
    for _ in range(5):
        sign_in_with(app, "locked_page", "not-the-password", status=400)
    refused = sign_in_with(app, "locked_page", status=429)
    english = app.post("/login?_LOCALE_=en", {
        "csrf_token": refused.forms[0]["csrf_token"].value, "username": "locked_page",
        "password": PASSWORD}, status=429).html.select_one("#lockout").get_text()  # fmt: skip
    minutes = re.search(r"locked for (\d+) more minutes, until (\d\d:\d\d) Asia/Shanghai", english)
    assert minutes, english
    assert 14 <= int(minutes[1]) <= 15
    chinese = refused.html.select_one("#lockout").get_text()
    assert "Asia/Shanghai" in chinese and "locked" not in chinese and "分钟" in chinese
    page = api.get("/users?_LOCALE_=en", "admin")
    assert "Asia/Shanghai" in page.html.select_one("tr#user-locked_page").select("td")[4].text
