"""The test harness: a fresh storage folder and database per session, the app under WebTest.

`ARCHIVE_TEST_DATABASE=postgres` runs everything against ARCHIVE_TEST_POSTGRES_URL (emptied
first); otherwise SQLite in the temporary storage folder.
"""

from __future__ import annotations

import gc
import os
import shutil
import threading
from datetime import datetime, timedelta
from pathlib import Path

import chameleon.loader
import chameleon.template
import plaster.loaders
import pytest
import webtest
from argon2 import PasswordHasher
from pyramid.paster import get_app
from pyramid.scripting import prepare
from sqlalchemy.orm import Session
from support import (
    PASSWORD,
    TESTING_INI,
    USERS,
    create_accounts,
    csrf_token,
    database_url,
    sign_in,
    worker_database,
)
from waitress import create_server

from archive_app.access import services
from archive_app.bootstrap import initialise_storage
from archive_app.clock import FixedClock
from archive_app.interfaces import IClock, IDatabase


def pytest_configure(config):
    """Under pytest-xdist each worker is a process of its own with its own temporary folder
    (so its own storage and SQLite files); on PostgreSQL it gets a database of its own too,
    before any test reads ARCHIVE_TEST_POSTGRES_URL."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and os.environ.get("ARCHIVE_TEST_DATABASE") == "postgres":
        url = os.environ["ARCHIVE_TEST_POSTGRES_URL"]
        os.environ["ARCHIVE_TEST_POSTGRES_URL"] = worker_database(url, worker)


# The longest test files over archives of their own (their storage, database and index: the
# order of other tests changes nothing for them, nor they for the others), run first: under
# pytest-xdist a worker then never starts one of them when the other is nearly done.
LONGEST_ON_THEIR_OWN = (
    "tests/functional/search/test_realdocs_corpus.py",
    "tests/functional/test_demo_data.py",
    "tests/functional/cli/test_cli_disk_full.py",
    "tests/functional/test_api_conformance.py",
)


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in LONGEST_ON_THEIR_OWN)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes():
    """argon2 at its cheapest for the tests' users and sign-ins: the archive's parameters
    cost a quarter of a second of CPU per hash or sign-in, hundreds of times over a run.
    The algorithm, the hash format and every check stay the archive's (a command run as a
    process of its own hashes at full cost, and re-hashes what it verifies)."""
    patch = pytest.MonkeyPatch()
    patch.setattr(services, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    services._dummy_hash.cache_clear()
    yield
    patch.undo()
    services._dummy_hash.cache_clear()


class CompiledTemplates(chameleon.loader.MemoryLoader):
    """Chameleon's in-memory loader, keeping what it compiled: a template compiles once per
    run instead of once per app built (each `get_app` and each in-process command builds one).
    The key is Chameleon's own digest (the template's path, its text, the builtins' names, the
    installed versions), as in the on-disk cache `CHAMELEON_CACHE` turns on."""

    def __init__(self):
        self.modules: dict[str, dict] = {}

    def build(self, source: str, filename: str) -> dict:
        self.modules[filename] = super().build(source, filename)
        return self.modules[filename]

    def get(self, name: str) -> dict | None:
        return self.modules.get(name)


@pytest.fixture(scope="session", autouse=True)
def templates_compiled_once():
    patch = pytest.MonkeyPatch()
    patch.setattr(chameleon.template.BaseTemplate, "loader", CompiledTemplates())
    yield
    patch.undo()


@pytest.fixture(scope="session", autouse=True)
def config_loaders_found_once():
    """plaster finds the loader of `testing.ini` by reading the metadata of every installed
    distribution (about 0.17 s of CPU), on each `get_app`, `get_appsettings` and command run
    in-process, several times each: the distributions installed do not change during a run,
    so the answer for a scheme and protocols is kept (a new loader is still made each time)."""
    found: dict[tuple, list] = {}
    original = plaster.loaders.find_loaders

    def find_loaders(scheme, protocols=None):
        key = (scheme, tuple(protocols or ()))
        if key not in found:
            found[key] = original(scheme, protocols=protocols)
        return list(found[key])

    patch = pytest.MonkeyPatch()
    patch.setattr(plaster.loaders, "find_loaders", find_loaders)
    yield
    patch.undo()


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
    # What exists now (every module, the app) lives to the end of the run: frozen, the
    # collector never walks it again. The index's full collection after each purge
    # (engine._let_go) then costs what later tests made, not 0.2 s of the whole process.
    gc.collect()
    gc.freeze()
    yield app
    app.registry.getUtility(IDatabase).dispose()


@pytest.fixture(scope="session")
def users(wsgi_app):
    create_accounts(USERS)
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


@pytest.fixture
def dbsession(wsgi_app):
    """A session for service tests whose every change is undone after the test: its
    connection holds an outer transaction, rolled back at the end, and the session's own
    commits and rollbacks are savepoints inside it (SQLAlchemy's "joining a session into an
    external transaction", warehouse's test harness). On SQLite this needs pysqlite's
    savepoint recipe, which the engine already follows (db.py: no implicit transactions,
    BEGIN issued from the "begin" event).

    The outer transaction holds SQLite's write lock from the first write: a test that writes
    here does not also ask the app to write."""
    connection = wsgi_app.registry.getUtility(IDatabase).engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint",
                      expire_on_commit=False)  # fmt: skip
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def script_request(wsgi_app):
    """A request on the shared app, as a script has one: `script_request.find_service(I)`."""
    with prepare(registry=wsgi_app.registry) as env:
        yield env["request"]


@pytest.fixture
def clock_at(wsgi_app, users):
    """Moves the archive's clock (the signed cookie keeps its own, real, time)."""
    clock = wsgi_app.registry.getUtility(IClock)

    def move(delta: timedelta) -> None:
        clock.now = FixedClock(datetime.now(clock.zone) + delta, clock.zone.key).now

    yield move
    vars(clock).pop("now", None)  # the class's real time again


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
