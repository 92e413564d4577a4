"""The test harness: a fresh storage folder and database per session, the app under WebTest.

`ARCHIVE_TEST_DATABASE=postgres` runs everything against ARCHIVE_TEST_POSTGRES_URL (emptied
first); otherwise SQLite in the temporary storage folder.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
import webtest
from pyramid.paster import get_app
from support import PASSWORD, TESTING_INI, USERS, csrf_token, database_url, sign_in
from waitress import create_server

from archive_app.bootstrap import initialise_storage, open_app
from archive_app.interfaces import IDatabase


@pytest.fixture(scope="session")
def storage(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("storage")
    os.environ["ARCHIVE_STORAGE_DIR"] = str(root)
    os.environ["ARCHIVE_SQLALCHEMY_URL"] = database_url(root)
    os.environ.pop("ARCHIVE_KEYRING", None)
    initialise_storage(TESTING_INI)
    return root


@pytest.fixture(scope="session")
def wsgi_app(storage):
    app = get_app(TESTING_INI)
    yield app
    app.registry.getUtility(IDatabase).dispose()


@pytest.fixture(scope="session")
def users(wsgi_app):
    from archive_app.interfaces import IAccountService

    with open_app(TESTING_INI) as env:
        request = env["request"]
        with request.tm:
            accounts = request.find_service(IAccountService)
            for name, (role, clearance) in USERS.items():
                accounts.add_user(name, role, PASSWORD, clearance)
    return USERS


@pytest.fixture(scope="session")
def tokens(wsgi_app, users) -> dict[str, str]:
    app = webtest.TestApp(wsgi_app)
    return {
        name: app.post_json("/api/v1/auth/token", {"username": name, "password": PASSWORD}).json[
            "token"
        ]
        for name in users
    }


@pytest.fixture
def app(wsgi_app):
    return webtest.TestApp(wsgi_app, extra_environ={"REMOTE_ADDR": "192.0.2.10"})


class Api:
    """WebTest as a user: `api.get(url, "auditor")`. Under /api/v1 with the user's bearer
    token; a page with the user's signed-in session (the API takes tokens only, pages the
    session only), its POSTs carrying the session's CSRF token."""

    def __init__(self, app: webtest.TestApp, tokens: dict[str, str]):
        self.app, self.tokens = app, tokens
        self.browsers: dict[str, webtest.TestApp] = {}

    def headers(self, user: str | None) -> dict:
        return {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}

    def browser(self, user: str) -> webtest.TestApp:
        """A client signed in as `user` through the login page (once per test)."""
        if user not in self.browsers:
            self.browsers[user] = sign_in(self.app.app, user, self.app.extra_environ)
        return self.browsers[user]

    def get(self, url, user=None, **kw):
        if user and not url.startswith("/api/"):
            return self.browser(user).get(url, **kw)
        return self.app.get(url, headers=self.headers(user), **kw)

    def post(self, url, user=None, **kw):
        if user and not url.startswith("/api/"):
            browser = self.browser(user)
            params = dict(kw.pop("params", {}))
            params.setdefault("csrf_token", csrf_token(browser))
            return browser.post(url, params=params, **kw)
        return self.app.post(url, headers=self.headers(user), **kw)

    def post_json(self, url, body, user=None, **kw):
        return self.app.post_json(url, body, headers=self.headers(user), **kw)

    def delete_json(self, url, body, user=None, **kw):
        return self.app.delete_json(url, body, headers=self.headers(user), **kw)


@pytest.fixture
def api(app, tokens) -> Api:
    return Api(app, tokens)


# -- a real server and a real browser (Debian's Chromium driven by Playwright) --------

CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="session")
def live_server(wsgi_app, users):
    server = create_server(wsgi_app, host="127.0.0.1", port=0, threads=4)
    stopping = threading.Event()

    def serve():
        try:
            server.run()
        except OSError:
            # Closing the listening socket while the loop sits in select() makes select()
            # fail with EBADF: that is how this server stops, not an error.
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    stopping.set()
    server.close()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()
