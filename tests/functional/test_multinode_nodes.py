"""Two web nodes: two waitress processes (`pserve` with production.ini's server runner) on two
ports, one PostgreSQL, one shared storage folder (blobs, keyring, the Whoosh index). A filing
on one is read, downloaded and found by search on the other within 5 s; the index queue is
empty again (one node drained it); a sign-in on one is a session on the other; both stop
cleanly on SIGINT (systemd's KillSignal in docs/deployment.md)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from factories import complaint_no, complete_files, metadata
from sqlalchemy import create_engine, func, select
from support import PASSWORD, ROOT, make_cli_env, run_cli

from archive_app.search.models import QueuedDossier

pytestmark = pytest.mark.skipif(
    os.environ.get("ARCHIVE_TEST_DATABASE") != "postgres",
    reason="several web nodes share one PostgreSQL (the PostgreSQL pass runs this); SQLite is "
    "one machine's file, served by one process",
)
PSERVE = str(Path(sys.executable).with_name("pserve"))


def default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


WITHIN = 5.0  # seconds: a filing on one node is found from the other


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_search_available() -> bool:
    """Whether this branch has the PostgreSQL search backend (`archive.search.backend`)."""
    return importlib.util.find_spec("archive_app.search.pg_backend") is not None


BACKENDS = [
    "whoosh",  # the default: the Whoosh folder in the shared storage, written by one node
    pytest.param("postgres", marks=pytest.mark.skipif(
        not postgres_search_available(),
        reason="archive.search.backend = postgres is not in this branch (h-pgsearch)")),
]  # fmt: skip


def node_ini(folder: Path, port: int, backend: str) -> Path:
    """production.ini (background indexing, its waitress settings) on the test's port, plain
    HTTP (no TLS proxy in front in the test), with the search backend asked for."""
    text = (ROOT / "production.ini").read_text()
    text = text.replace("listen = 127.0.0.1:6543", f"listen = 127.0.0.1:{port}")
    text = text.replace("archive.cookie_secure = true", "archive.cookie_secure = false")
    text = text.replace("[app:main]\n", f"[app:main]\narchive.search.backend = {backend}\n")
    ini = folder / f"node-{port}.ini"
    ini.write_text(text)
    return ini


class WebNode:
    def __init__(self, env: dict, folder: Path, backend: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = folder / f"node-{self.port}.log"
        ini = node_ini(folder, self.port, backend)
        with self.log.open("wb") as log:
            # SIGINT as the default: `make test` runs this pass in the background, where the
            # shell starts commands with SIGINT ignored, and the node would never stop.
            self.process = subprocess.Popen([PSERVE, str(ini)], env=env, stdout=log,
                                            stderr=subprocess.STDOUT,
                                            preexec_fn=default_sigint)  # fmt: skip

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                requests.get(f"{self.base}/login", timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.2)
        raise AssertionError(f"node {self.base} did not start:\n{self.log.read_text()}")

    def stop(self) -> int:
        """SIGINT, as systemd's KillSignal: waitress closes, the indexer's thread finishes."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            log = self.log.read_text()
            raise AssertionError(f"node {self.base} did not stop:\n{log}") from None


@pytest.fixture
def archive_env(tmp_path_factory):
    env = make_cli_env(tmp_path_factory, "multinode_nodes")
    for name, role in (("archivist", "archivist"), ("auditor", "auditor")):
        added = run_cli(env, "user", "add", name, "--role", role, "--clearance", "restricted",
                        "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
        assert added.returncode == 0, added.stderr
    return env


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def nodes(archive_env, tmp_path, backend):
    started = [WebNode(archive_env, tmp_path, backend), WebNode(archive_env, tmp_path, backend)]
    try:
        for node in started:
            node.wait_ready()
        yield started
    finally:
        for node in started:
            if node.process.poll() is None:
                node.process.kill()
                node.process.wait(10)


def token(base: str, user: str) -> dict:
    answer = requests.post(f"{base}/api/v1/auth/token",
                           json={"username": user, "password": PASSWORD}, timeout=30)  # fmt: skip
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def file_on(base: str, headers: dict, meta: dict) -> dict:
    parts = [(kind, (name, content)) for kind, name, content in complete_files()]
    answer = requests.post(f"{base}/api/v1/dossiers", headers=headers, files=parts, timeout=60,
                           data={"metadata": json.dumps(meta, ensure_ascii=False)})  # fmt: skip
    assert answer.status_code == 201, answer.text
    return answer.json()


def found_within(base: str, headers: dict, params: dict, dossier_id: str) -> float:
    """Seconds until a search on `base` finds the dossier (AssertionError past WITHIN)."""
    started = time.monotonic()
    while True:
        answer = requests.get(f"{base}/api/v1/search", headers=headers, params=params, timeout=30)
        assert answer.status_code == 200, answer.text
        if dossier_id in {hit["id"] for hit in answer.json()["results"]}:
            return time.monotonic() - started
        assert time.monotonic() - started < WITHIN, f"not found on {base} within {WITHIN} s"
        time.sleep(0.1)


def queue_length(env: dict) -> int:
    engine = create_engine(env["ARCHIVE_SQLALCHEMY_URL"])
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(QueuedDossier.__table__))
    finally:
        engine.dispose()


def test_filed_on_one_node_read_and_found_on_the_other(nodes, archive_env):
    first, second = nodes
    archivist, auditor = token(first.base, "archivist"), token(second.base, "auditor")
    title = "双节点归档标题"
    meta = metadata(complaint_no=complaint_no("I", 2023), title=title)
    filed = file_on(first.base, archivist, meta)

    # Read and downloaded from the other node: one database, one blob folder, one keyring.
    dossier = requests.get(f"{second.base}/api/v1/dossiers/{filed['id']}", headers=auditor,
                           timeout=30)  # fmt: skip
    assert dossier.status_code == 200, dossier.text
    for document in dossier.json()["documents"]:
        url = f"{second.base}/api/v1/dossiers/{filed['id']}/documents/{document['id']}"
        body = requests.get(url, headers=auditor, timeout=30).content
        assert hashlib.sha256(body).hexdigest() == document["sha256"]

    # Found by search from the other node: whichever node drained the queue wrote the one
    # index (the Whoosh folder in the shared storage, or PostgreSQL's own search rows when
    # archive.search.backend = postgres), and the other sees it.
    found_within(second.base, auditor, {"q": title}, filed["id"])
    found_within(second.base, auditor, {"batch_no": meta["products"][0]["batch_no"]}, filed["id"])
    deadline = time.monotonic() + WITHIN
    while queue_length(archive_env) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert queue_length(archive_env) == 0  # drained once, by one node, nothing left behind

    # One filing on each node: both nodes drain, one at a time; each filing found on the first.
    other = [file_on(node.base, archivist, metadata(complaint_no=complaint_no("I", 2023),
                                                    title=f"双节点并发标题{n}"))
             for n, node in enumerate(nodes)]  # fmt: skip
    for n, dossier in enumerate(other):
        found_within(first.base, auditor, {"q": f"双节点并发标题{n}"}, dossier["id"])

    # A sign-in on one node is a session on the other (the session secret is the keyring's).
    browser = requests.Session()
    login = browser.get(f"{first.base}/login", timeout=30).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    signed = browser.post(f"{first.base}/login", timeout=30, allow_redirects=False,
                          data={"csrf_token": csrf, "username": "auditor",
                                "password": PASSWORD})  # fmt: skip
    assert signed.status_code == 303, signed.text
    home = browser.get(f"{second.base}/", timeout=30, allow_redirects=False)
    assert home.status_code == 200, home.headers.get("Location")

    for node in nodes:
        assert node.stop() == 0
        log = node.log.read_text()
        assert "Traceback" not in log and " ERROR " not in log, log
