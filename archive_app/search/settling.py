"""Settling a drain's batches on a thread of their own: the texts extracted stored and the
queue rows forgotten while the drain goes on with the next batch (for the drain process
beside an import, whose batches hold SQLite's write lock up to 2 seconds each)."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Settler:
    """Runs `settle(extracted, rows)` for each batch handed to it, one after the other, on
    its thread; the rows are "in hand" until their settling has ended, so that the drain
    does not read them again as pending meanwhile. A batch whose settling fails is logged
    and let go: its rows stay queued and the next drain does them again."""

    def __init__(self, settle: Callable[[list, list], None]):
        self._settle = settle
        self._batches: queue.Queue = queue.Queue()
        self._in_hand: set[tuple] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="archive-settler", daemon=True)
        self._thread.start()

    def hand(self, extracted: list, rows: list) -> None:
        with self._lock:
            self._in_hand.update(tuple(row) for row in rows)
        self._batches.put((extracted, rows))

    def holds(self, row) -> bool:
        with self._lock:
            return tuple(row) in self._in_hand

    def wait(self) -> None:
        """Until every batch handed so far is settled (or has failed)."""
        self._batches.join()

    def close(self) -> None:
        self._batches.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (batch := self._batches.get()) is not None:
            extracted, rows = batch
            try:
                self._settle(extracted, rows)
            except Exception as error:  # the type alone: a message may quote a statement's values
                log.error("a drained batch could not be settled; it stays queued (%s)",
                          type(error).__name__)  # fmt: skip
            finally:
                with self._lock:
                    self._in_hand.difference_update(tuple(row) for row in rows)
                self._batches.task_done()
        self._batches.task_done()
