"""What tests share besides fixtures: users, the test ini, the error-shape assertion."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine, make_url, text
from whoosh.matching import WrappingMatcher
from whoosh.query import WrappingQuery

from archive_app import cli
from archive_app.clock import MonotonicClock
from archive_app.faults import FAULT_VARIABLE
from archive_app.interfaces import IClock

ROOT = Path(__file__).resolve().parent.parent
TESTING_INI = str(ROOT / "testing.ini")
# Real files nobody on this project wrote (../shared/realdocs beside the clone, as CI lays it
# out): read in place at test time, never copied into the repository.
REALDOCS = Path(os.environ.get("ARCHIVE_REALDOCS", ROOT.parent / "shared" / "realdocs" / "files"))

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


def worker_database(url: str, worker: str) -> str:
    """The PostgreSQL database of one pytest-xdist worker (`gw0`, `gw1`, ...): the test
    database's name with the worker's after it, created when missing. Each worker empties
    its own database's schema at start and makes its commands' schemas there, so that two
    workers never drop what the other is using."""
    base = make_url(url)
    name = f"{base.database}_{worker}"
    if base.database.endswith(f"_{worker}"):  # already this worker's
        return url
    engine = create_engine(base, isolation_level="AUTOCOMMIT")  # CREATE DATABASE: no transaction
    try:
        with engine.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def create_accounts(users: dict) -> None:
    """Accounts {name: (role, clearance)} added to the test archive, all with PASSWORD."""
    from archive_app.bootstrap import open_app
    from archive_app.interfaces import IAccountService

    with open_app(TESTING_INI) as env:
        request = env["request"]
        with request.tm:
            accounts = request.find_service(IAccountService)
            for name, (role, clearance) in users.items():
                accounts.add_user(name, role, PASSWORD, clearance)


def add_users(app, users: dict) -> dict[str, str]:
    """Accounts {name: (role, clearance)} added to the test archive; their API tokens."""
    create_accounts(users)
    return {name: app.post_json("/api/v1/auth/token", {"username": name, "password": PASSWORD})
            .json["token"] for name in users}  # fmt: skip


def screenshot_folder(tmp_path: Path) -> Path:
    """Where page tests save their screenshots: the test's own folder, so that a test run
    leaves the work tree as it was; the folder `ARCHIVE_SCREENSHOTS` names when it is set
    (`make screenshots` sets it to the README's `docs/screenshots`)."""
    wanted = os.environ.get("ARCHIVE_SCREENSHOTS")
    if not wanted:
        return tmp_path
    folder = Path(wanted).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def submit(page, selector: str) -> None:
    """Click what submits a form or follows a link, and return once the next page has loaded:
    reading `page.content()` straight after a bare click may catch the page in between (an
    empty document), which made the browser tests flaky."""
    with page.expect_navigation():
        page.click(selector)


def sign_in_page(page, live_server: str, username: str, locale: str | None = None) -> None:
    """Sign a Playwright page in through the login form and wait for the home page."""
    query = f"?_LOCALE_={locale}" if locale else ""
    page.goto(f"{live_server}/login{query}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{live_server}/")


def sign_in(wsgi_app, username: str, extra_environ: dict | None = None, password=PASSWORD):
    """A WebTest client signed in through the login page (a session cookie, as a browser)."""
    import webtest

    browser = webtest.TestApp(wsgi_app, extra_environ=extra_environ or {})
    form = browser.get("/login").forms[0]
    form["username"], form["password"] = username, password
    form.submit(status=303)
    return browser


def csrf_token(browser) -> str:
    """The signed-in session's CSRF token, as every page form carries it."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/").text)
    assert match, "the home page carries no CSRF token"
    return match.group(1)


def assert_error(response, status: int, code: str, field: str | None = ...):
    """The contract's error shape, with its status, code and (if given) field."""
    assert response.status_int == status, response.text
    body = response.json
    assert set(body) >= {"error", "detail", "field"}, body
    assert body["error"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    if field is not ...:
        assert body["field"] == field, body


ARCHIVE = str(Path(sys.executable).with_name("archive"))


def make_cli_env(tmp_path_factory, name: str) -> dict:
    """Environment for `archive` commands over a storage folder (and schema) of their own."""
    root = tmp_path_factory.mktemp(name)
    env = dict(os.environ, ARCHIVE_STORAGE_DIR=str(root), ARCHIVE_ROOT=str(root))
    if os.environ.get("ARCHIVE_TEST_DATABASE") == "postgres":
        base = os.environ["ARCHIVE_TEST_POSTGRES_URL"]
        env["ARCHIVE_SQLALCHEMY_URL"] = f"{base}?options=-csearch_path%3D{name}"
        engine = create_engine(base)
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {name}"))
        engine.dispose()
    else:
        env["ARCHIVE_SQLALCHEMY_URL"] = f"sqlite:///{root}/archive.sqlite"
    result = run_cli(env, "init")
    assert result.returncode == 0, result.stderr
    return env


@dataclass(frozen=True)
class CommandResult:
    """What a command answered: its exit code and its two streams."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(env: dict, *args, stdin: str | None = None, config: str = TESTING_INI):
    """`archive -c config ARGS` in this process (click's CliRunner), `env` its environment
    for the time it runs. A command that must die (`ARCHIVE_FAULT`) runs in its own process:
    `run_cli_process`."""
    assert FAULT_VARIABLE not in env, "a killed command would take the tests with it"
    changes = {name: value for name, value in env.items() if os.environ.get(name) != value}
    changes.update({name: None for name in os.environ if name not in env})
    # The command sets the archive's umask (0077) for what it creates: the test's own stays.
    umask = os.umask(0o077)
    os.umask(umask)
    try:
        result = CliRunner().invoke(cli.main, ["-c", config, *args], input=stdin, env=changes,
                                    catch_exceptions=False)  # fmt: skip
    finally:
        os.umask(umask)
    return CommandResult(result.exit_code, result.stdout, result.stderr)


def run_cli_process(env: dict, *args, stdin: str | None = None, config: str = TESTING_INI):
    """`archive` as its own process: for a command killed on purpose, or one that must meet
    the operating system as a fresh process does (a full disk, start-up imports)."""
    return subprocess.run(
        [ARCHIVE, "-c", config, *args], env=env, input=stdin, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip


def bytes_on_disk(path) -> bytes:
    """A file's bytes, read by another process. Opening and closing the database file in
    this process would drop every POSIX lock SQLite holds on it here (fcntl locks belong to
    the process, not the descriptor), and another process could then delete the WAL under
    the app's feet."""
    return subprocess.run(["cat", str(path)], capture_output=True, check=True).stdout


@contextmanager
def clock_reading(registry, now):
    """The app's one clock (IClock) tells `now()` meanwhile. Every service holds that same
    object, so the test moves time for all of them (the access log, sessions, retention)."""
    clock = registry.getUtility(IClock)
    clock.now = now  # an instance attribute before the class's method; `today` follows it
    try:
        yield clock
    finally:
        del clock.now


REAL_TIME_GUARD = 120.0  # seconds of real time: see ManualMonotonicClock.wait_for


class ManualMonotonicClock(MonotonicClock):
    """Elapsed time that moves only when the test says (`advance`): a wait on it ends when
    its predicate holds or when `advance` takes the time past its timeout, never by itself.
    `until_waiting(seconds)` returns once a thread waits until that time: then the test
    knows where the thread stands before it moves the clock."""

    def __init__(self, start: float = 1000.0):
        self.now = start
        self._lock = threading.Condition()
        self._waits: list[tuple[float, threading.Condition]] = []  # (ends at, condition)

    def monotonic(self) -> float:
        return self.now

    def wait_for(self, condition, predicate, timeout):
        """Called with `condition` held, as Condition.wait_for is."""
        ends = None if timeout is None else self.now + timeout
        wait = (ends, condition)
        with self._lock:
            self._waits.append(wait)
            self._lock.notify_all()
        try:
            while not predicate():
                if ends is not None and self.now >= ends:
                    return False
                # Woken by whoever makes the predicate true, or by advance; a wait nothing
                # ends for minutes of real time is a test that would hang: fail it instead.
                if not condition.wait(REAL_TIME_GUARD):
                    raise AssertionError(f"nothing ended a wait on the manual clock ({ends})")
            return True
        finally:
            with self._lock:
                self._waits.remove(wait)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds
            conditions = {id(condition): condition for _ends, condition in self._waits}
        for condition in conditions.values():
            with condition:
                condition.notify_all()

    def until_waiting(self, ends: float, timeout: float = 10.0) -> None:
        """Until some thread waits on this clock until `ends` (at most `timeout` seconds of
        real time, a guard against a test that would otherwise hang)."""
        with self._lock:
            arrived = self._lock.wait_for(
                lambda: any(wait_ends == ends for wait_ends, _ in self._waits), timeout
            )
        assert arrived, f"no thread came to wait until {ends} (waits: {self._waits})"


class StepClock:
    """A `monotonic` callable for the search index's time limit, moved by the steps of a
    costly query (`costly`) instead of by real time."""

    def __init__(self, now: float = 0.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def costly(query, clock: StepClock, seconds: float = 0.05):
    """`query`, each matching document it steps over costing `seconds` of `clock`: a costly
    query on a small index, without sleeping."""

    class Costly(WrappingQuery):
        def matcher(self, searcher, context=None):
            return CostlyMatcher(self.child.matcher(searcher, context))

    class CostlyMatcher(WrappingMatcher):
        def next(self):
            clock.now += seconds
            return self.child.next()

    return Costly(query)
