"""One retention run at a time across processes (two web nodes, a timer's `archive retention
run` beside them): the lease, on SQLite and on PostgreSQL.

The other run is a process of its own that takes the lease exactly as a run does (the
Destroyer's own lease code) and holds it until the test says, so the test knows where it
stands without racing it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from factories import complaint_no, complete_files, metadata
from sqlalchemy import create_engine, text
from support import TESTING_INI, make_cli_env, run_cli, run_cli_process

# Takes the lease in a transaction, says "inside", commits when told ("took", or "busy" if
# another run has it), then keeps it, as a live run does, until told to let it go.
HOLDER = """
import os, socket, sys
from archive_app.bootstrap import open_app
from archive_app.interfaces import IClock, IDatabase
from archive_app.retention.services import Destroyer, RetentionBusy

with open_app(sys.argv[1]) as env:
    registry = env["registry"]
    run = Destroyer(None, None, registry.getUtility(IClock), None, identity=None,
                    purge_index=None, log_event=None)
    holder = f"{socket.gethostname()}:{os.getpid()}:holder"
    with registry.getUtility(IDatabase).write() as session:
        try:
            with session.begin():
                run._take_lease(session, holder)
                print("inside", flush=True)
                sys.stdin.readline()
        except RetentionBusy:
            print("busy", flush=True)
            sys.exit(0)
    print("took", flush=True)
    sys.stdin.readline()
    with registry.getUtility(IDatabase).write() as session, session.begin():
        run._release_lease(session, holder)
    print("released", flush=True)
"""


def old_dossier(root) -> str:
    """A dossier closed in 2019, due for destruction in 2021, as a folder `archive import`
    files; its number."""
    product = {"name": "板蓝根颗粒", "batch_no": "BG1901", "expiry": "2019-06"}
    meta = metadata(complaint_no=complaint_no("II", 2019), complaint_class="II",
                    received_on="2019-03-01", closed_on="2019-04-01",
                    products=[product])  # fmt: skip
    folder = root / meta["complaint_no"]
    folder.mkdir(parents=True)
    documents = []
    for index, (kind, name, content) in enumerate(complete_files()):
        (folder / f"{index}-{name}").write_bytes(content)
        documents.append({"kind": kind, "file": f"{index}-{name}"})
    listing = json.dumps(meta | {"documents": documents}, ensure_ascii=False)
    (folder / "dossier.json").write_text(listing, encoding="utf-8")
    return meta["complaint_no"]


def holder(env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", HOLDER, TESTING_INI], env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip


def say(process: subprocess.Popen, line: str = "") -> None:
    process.stdin.write(line + "\n")
    process.stdin.flush()


WAITING = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")


def wait_until_blocked(env, process: subprocess.Popen) -> None:
    """Until the second process waits for the first one's lock (PostgreSQL: a backend waits
    on a lock; SQLite: its BEGIN IMMEDIATE waits on busy_timeout, invisible from outside)."""
    if os.environ.get("ARCHIVE_TEST_DATABASE") != "postgres":
        time.sleep(2)
        return
    engine = create_engine(os.environ["ARCHIVE_TEST_POSTGRES_URL"])
    try:
        for _ in range(300):
            with engine.connect() as connection:
                waiting = connection.scalar(WAITING)
            if waiting:
                return
            assert process.poll() is None, "the second run ended instead of waiting"
            time.sleep(0.1)
        raise AssertionError("the second run never came to wait for the lease")
    finally:
        engine.dispose()


def test_two_processes_one_retention_run(tmp_path_factory, tmp_path):
    env = make_cli_env(tmp_path_factory, "multinode_lease")
    number = old_dossier(tmp_path)
    assert run_cli(env, "import", str(tmp_path)).returncode == 0
    first = holder(env)
    second = None
    try:
        # Both take the lease while there is no lease row yet: the first inside its
        # transaction, the second waiting on it. One has it, the other is told "busy".
        assert first.stdout.readline().strip() == "inside"
        second = holder(env)
        wait_until_blocked(env, second)
        say(first)
        assert first.stdout.readline().strip() == "took"
        assert second.stdout.readline().strip() == "busy"
        assert second.wait(30) == 0

        # A run in a third process while the first holds the lease: refused, nothing done.
        refused = run_cli_process(env, "retention", "run", "--as-of", "2021-01-01")
        assert refused.returncode == 2, refused.stderr
        assert "another retention run is in progress" in refused.stderr
        assert "destroyed" not in refused.stdout

        say(first)  # the first run ends: the lease is free
        assert first.stdout.readline().strip() == "released"
        assert first.wait(30) == 0
        done = run_cli_process(env, "retention", "run", "--as-of", "2021-01-01")
        assert done.returncode == 0, done.stderr
        assert f"destroyed {number}" in done.stdout
    finally:
        for process in filter(None, (first, second)):
            process.kill()
            process.wait(10)
            process.stdin.close()
            process.stdout.close()
