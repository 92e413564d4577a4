"""Sessions and pages: cookie flags, the idle timeout, and security headers on every page."""

from __future__ import annotations

import time

import pyramid.session
import webtest
from plaster import get_settings
from support import PASSWORD, TESTING_INI

from archive_app import main
from archive_app.interfaces import IDatabase

PAGES = ["/", "/search", "/dossiers/new", "/access-log", "/retention"]
USERS_FOR = {"/access-log": "privacy", "/retention": "records"}


def signed_in(app, username="archivist"):
    browser = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.10"})
    form = browser.get("/login").forms[0]
    form["username"], form["password"] = username, PASSWORD
    response = form.submit(status=303)
    return browser, response


def test_the_session_cookie_is_httponly_samesite_and_secure_in_production(wsgi_app, users):
    _browser, response = signed_in(wsgi_app)
    cookie = next(value for name, value in response.headerlist
                  if name == "Set-Cookie" and value.startswith("archive_session="))  # fmt: skip
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "; secure" not in cookie.lower()  # testing.ini serves plain http, as development does

    settings = dict(get_settings(TESTING_INI, "app:main"), **{"archive.cookie_secure": "true"})
    production_like = main({"__file__": TESTING_INI}, **settings)
    try:
        response = webtest.TestApp(production_like).get("/login")  # the CSRF token's session
        cookie = next(value for name, value in response.headerlist
                      if name == "Set-Cookie" and value.startswith("archive_session="))  # fmt: skip
        assert "; secure" in cookie.lower() and "HttpOnly" in cookie
    finally:
        production_like.registry.getUtility(IDatabase).dispose()


def test_an_idle_session_expires(wsgi_app, users, monkeypatch):
    browser, _response = signed_in(wsgi_app)
    assert browser.get("/search", status=200)
    real_time = time.time
    monkeypatch.setattr(pyramid.session.time, "time", lambda: real_time() + 31 * 60)
    expired = browser.get("/search", status=(302, 303, 401, 403))
    if expired.status_int in (302, 303):
        assert "/login" in expired.headers["Location"]


def test_every_page_carries_the_security_headers(wsgi_app, users):
    for path in PAGES:
        browser, _response = signed_in(wsgi_app, USERS_FOR.get(path, "archivist"))
        response = browser.get(path, status=200)
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["Referrer-Policy"] == "same-origin", path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path
    anonymous = webtest.TestApp(wsgi_app)
    login = anonymous.get("/login", status=200)
    assert login.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in login.headers["Content-Security-Policy"]
    for path in ("/api/v1/dossiers?complaint_no=TS-I-23-001", "/nowhere"):
        response = anonymous.get(path, status=(401, 404))
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
