"""The index queue across processes on PostgreSQL: one indexer drains at a time (an advisory
lock), the others skip while it does and the holder picks up what they queued meanwhile, so
no queue row is left behind; a node that dies holding the lock does not keep it.

Each indexer here has an engine of its own, so its lock is taken on its own connection: to
PostgreSQL they are two processes (advisory locks belong to the connection's session)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
from factories import complaint_no, file_dossier, metadata
from sqlalchemy import create_engine, select

from archive_app.db import Database
from archive_app.interfaces import IClock, IDatabase, IIndexer
from archive_app.search import index_queue
from archive_app.search.engine import SearchIndex
from archive_app.search.indexing import Indexer
from archive_app.search.locks import AdvisoryQueueLock, NoQueueLock, queue_lock_for
from archive_app.search.models import QueuedDossier
from archive_app.search.sandbox import ExtractionSandbox

pytestmark = pytest.mark.skipif(
    os.environ.get("ARCHIVE_TEST_DATABASE") != "postgres",
    reason="advisory locks are PostgreSQL's (the PostgreSQL pass runs this); on SQLite one "
    "process writes the index at a time through the indexer's own lock",
)


class Node:
    """An indexer as another web node has it: its own engine (connections, lock session) over
    the test database, and the one index folder every node shares."""

    def __init__(self, registry, folder, fault=None):
        self.database = Database(create_engine(registry.getUtility(IDatabase).engine.url))
        app_indexer = registry.getUtility(IIndexer)
        self.indexer = Indexer(
            SearchIndex(folder), self.database.read, self.database.write,
            app_indexer.records_for_session, folder.parent / "spool", ExtractionSandbox(),
            registry.getUtility(IClock), fault=fault,
            queue_lock=queue_lock_for(self.database.engine),
        )  # fmt: skip

    def close(self):
        self.indexer.close()
        self.database.dispose()


@pytest.fixture
def folder(tmp_path):
    index = SearchIndex(tmp_path / "index")
    index.create_empty()
    return tmp_path / "index"


@pytest.fixture
def dossiers(api):
    """Two filed dossiers (the app's own indexer has written them to its index already)."""
    return [file_dossier(api, metadata(complaint_no=complaint_no("I", 2023))).json["id"]
            for _ in range(2)]  # fmt: skip


def queue_again(registry, dossier_id: str) -> None:
    """A queue row as a filing on another node commits it (no drain of this process runs)."""
    database = registry.getUtility(IDatabase)
    with database.write() as session, session.begin():
        index_queue.enqueue(session, dossier_id, registry.getUtility(IClock).now())


def queued(registry) -> set[str]:
    with registry.getUtility(IDatabase).read() as session:
        return set(session.scalars(select(QueuedDossier.dossier_id)))


def test_postgresql_gets_the_advisory_lock_and_sqlite_none(wsgi_app):
    engine = wsgi_app.registry.getUtility(IDatabase).engine
    assert isinstance(queue_lock_for(engine), AdvisoryQueueLock)
    assert isinstance(queue_lock_for(create_engine("sqlite://")), NoQueueLock)


def test_one_indexer_drains_the_other_skips_and_nothing_is_lost(wsgi_app, dossiers, folder):
    registry = wsgi_app.registry
    first, second = dossiers
    inside, go_on = threading.Event(), threading.Event()

    def pause_in_batch(step):
        if step == "index_drain_batch" and not inside.is_set():
            inside.set()  # node A holds the queue lock and has read its rows
            assert go_on.wait(30), "the test never let node A go on"

    node_a, node_b = Node(registry, folder, fault=pause_in_batch), Node(registry, folder)
    try:
        queue_again(registry, first)
        draining = threading.Thread(target=node_a.indexer.drain)
        draining.start()
        assert inside.wait(30)
        queue_again(registry, second)  # committed on node B while A drains
        assert node_b.indexer.drain() == 0  # B skips: A holds the queue
        assert queued(registry) >= {first, second}  # nothing taken off the queue by skipping
        purging = threading.Thread(target=node_b.indexer.purge, args=([],))
        purging.start()  # a retention purge on B waits for A's drain, never runs inside it
        purging.join(0.5)
        assert purging.is_alive()
        go_on.set()
        draining.join(30)
        purging.join(30)
        assert not draining.is_alive() and not purging.is_alive()
        # A looked at the queue again after letting go: B's filing is indexed too.
        assert node_b.indexer.index.ids() >= {first, second}
        assert not queued(registry) & {first, second}
    finally:
        go_on.set()
        node_a.close()
        node_b.close()


HOLDER = """
import sys, time
from sqlalchemy import create_engine
from archive_app.search.locks import AdvisoryQueueLock
with AdvisoryQueueLock(create_engine(sys.argv[1])).held() as mine:
    print("held" if mine else "busy", flush=True)
    time.sleep(600)
"""


def test_a_node_killed_holding_the_queue_lets_it_go(wsgi_app, dossiers, folder):
    registry = wsgi_app.registry
    url = registry.getUtility(IDatabase).engine.url.render_as_string(hide_password=False)
    node = Node(registry, folder)
    with subprocess.Popen([sys.executable, "-c", HOLDER, url], stdout=subprocess.PIPE,
                          text=True) as holder:  # fmt: skip
        try:
            assert holder.stdout.readline().strip() == "held"  # another node, draining
            queue_again(registry, dossiers[0])
            assert node.indexer.drain() == 0
            assert dossiers[0] in queued(registry)
            holder.kill()  # kill -9: no unlock, no rollback; PostgreSQL ends its session
            holder.wait(10)
            for _ in range(50):
                if node.indexer.drain():
                    break
                time.sleep(0.1)
            assert dossiers[0] in node.indexer.index.ids()
            assert dossiers[0] not in queued(registry)
        finally:
            holder.kill()
            node.close()
