"""One writer of the index queue at a time across processes (several web nodes, `archive`
commands beside them): on PostgreSQL a transaction-level advisory lock; on SQLite none beyond
the indexer's own lock (one machine, and Whoosh's writer lock file between its processes).

The lock lives in a transaction of its own on a connection of its own, held for the whole
drain: PostgreSQL lets it go when that transaction ends, and also when the process dies (its
connection closes), so a killed node never keeps the others from draining.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Engine

# The advisory lock's first key ("ARCH"); the second is the hash of the archive's schema, so
# that archives in separate schemas of one database (tests, the load benchmark) do not wait
# on each other's queue.
QUEUE_LOCK_KIND = 0x41524348
TRY = text("SELECT pg_try_advisory_xact_lock(:kind, hashtext(current_schema()))")
WAIT = text("SELECT pg_advisory_xact_lock(:kind, hashtext(current_schema()))")


class NoQueueLock:
    """SQLite: always granted (the in-process lock is the indexer's)."""

    @contextmanager
    def held(self, wait: bool = False) -> Iterator[bool]:
        yield True


class AdvisoryQueueLock:
    """`with lock.held(wait) as mine`: `mine` True while this process holds the queue; with
    `wait` False it is False at once if another process holds it (the caller skips: the
    holder looks at the queue again after it lets go). Re-entrant in the holding thread (a
    drain that finds no index rebuilds it under the same lock)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._local = threading.local()

    @contextmanager
    def held(self, wait: bool = False) -> Iterator[bool]:
        if getattr(self._local, "depth", 0):
            self._local.depth += 1
            try:
                yield True
            finally:
                self._local.depth -= 1
            return
        with self.engine.connect() as connection, connection.begin():
            if wait:
                connection.execute(WAIT, {"kind": QUEUE_LOCK_KIND})
            elif not connection.scalar(TRY, {"kind": QUEUE_LOCK_KIND}):
                yield False
                return
            self._local.depth = 1
            try:
                yield True
            finally:
                self._local.depth = 0
        # Leaving the transaction (commit or rollback) released the lock.


def queue_lock_for(engine: Engine) -> NoQueueLock | AdvisoryQueueLock:
    if engine.dialect.name == "postgresql":
        return AdvisoryQueueLock(engine)
    return NoQueueLock()
