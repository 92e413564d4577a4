"""`archive index serve`: the dedicated indexer of docs/deployment.md drains the index queue
in a loop (what web nodes queued and nobody drained) and stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import time

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from support import ARCHIVE, TESTING_INI, make_cli_env, run_cli
from test_multinode_lease import old_dossier

from archive_app.db import utcnow
from archive_app.records.models import Dossier
from archive_app.search import index_queue
from archive_app.search.models import QueuedDossier


def queue_and_wait(engine, dossier_id: str, timeout: float = 60.0) -> float:
    """Queue the dossier as a node's filing does; seconds until the drainer took the row."""
    with Session(engine) as session, session.begin():
        index_queue.enqueue(session, dossier_id, utcnow())
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with Session(engine) as session:
            if session.get(QueuedDossier, dossier_id) is None:
                return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"the queue row stayed for {timeout} s")


def test_index_serve_drains_the_queue_until_stopped(tmp_path_factory, tmp_path):
    env = make_cli_env(tmp_path_factory, "multinode_indexer")
    old_dossier(tmp_path)
    assert run_cli(env, "import", str(tmp_path)).returncode == 0
    engine = create_engine(env["ARCHIVE_SQLALCHEMY_URL"])
    with Session(engine) as session:
        dossier_id = session.scalar(select(Dossier.id))
    drainer = subprocess.Popen([ARCHIVE, "-c", TESTING_INI, "index", "serve", "--interval",
                                "0.2"], env=env, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        queue_and_wait(engine, dossier_id)  # at start-up or at its first look
        assert queue_and_wait(engine, dossier_id) < 10  # and again, at a later look
        drainer.send_signal(signal.SIGTERM)
        _, stderr = drainer.communicate(timeout=30)
        assert drainer.returncode == 0, stderr
        assert "index queue drainer stopped" in stderr and "Traceback" not in stderr
    finally:
        drainer.kill()
        drainer.wait(10)
        engine.dispose()
    assert run_cli(env, "verify").returncode == 0
