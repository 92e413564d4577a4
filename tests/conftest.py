"""The test harness: a fresh storage folder and database per session, the app under WebTest.

`ARCHIVE_TEST_DATABASE=postgres` runs everything against ARCHIVE_TEST_POSTGRES_URL (emptied
first); otherwise SQLite in the temporary storage folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import webtest
from pyramid.paster import get_app
from sqlalchemy import create_engine, text

from archive_app.bootstrap import initialise_storage, open_app

ROOT = Path(__file__).resolve().parent.parent
TESTING_INI = str(ROOT / "testing.ini")

USERS = {
    # name: (role, clearance)
    "archivist": ("archivist", "restricted"),
    "archivist_internal": ("archivist", "internal"),
    "auditor": ("auditor", "confidential"),
    "privacy": ("privacy_officer", "restricted"),
    "records": ("records_manager", "restricted"),
    "admin": ("admin", "restricted"),
}
PASSWORD = "correct-horse-battery"


def database_url(storage: Path) -> str:
    if os.environ.get("ARCHIVE_TEST_DATABASE") == "postgres":
        url = os.environ["ARCHIVE_TEST_POSTGRES_URL"]
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        return url
    return f"sqlite:///{storage}/archive.sqlite"


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
    return get_app(TESTING_INI)


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
    """WebTest with a bearer token per user name: `api.as_("auditor").get(...)`."""

    def __init__(self, app: webtest.TestApp, tokens: dict[str, str]):
        self.app, self.tokens = app, tokens

    def headers(self, user: str | None) -> dict:
        return {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}

    def get(self, url, user=None, **kw):
        return self.app.get(url, headers=self.headers(user), **kw)

    def post(self, url, user=None, **kw):
        return self.app.post(url, headers=self.headers(user), **kw)

    def post_json(self, url, body, user=None, **kw):
        return self.app.post_json(url, body, headers=self.headers(user), **kw)

    def delete_json(self, url, body, user=None, **kw):
        return self.app.delete_json(url, body, headers=self.headers(user), **kw)


@pytest.fixture
def api(app, tokens) -> Api:
    return Api(app, tokens)


def assert_error(response, status: int, code: str, field: str | None = ...):
    """The contract's error shape, with its status, code and (if given) field."""
    assert response.status_int == status, response.text
    body = response.json
    assert set(body) >= {"error", "detail", "field"}, body
    assert body["error"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    if field is not ...:
        assert body["field"] == field, body
