"""One background thread that runs a piece of work shortly after it is asked to, so that the
requests made meanwhile share one run (for the index: several filings, one Whoosh commit)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ..clock import MonotonicClock

log = logging.getLogger(__name__)


class BatchingThread:
    """Runs `work` on a thread of its own `delay` seconds after a request, and every `sweep`
    seconds without one (to pick up work another process queued and did not finish)."""

    def __init__(self, work: Callable[[], object], delay: float, sweep: float = 60.0,
                 name: str = "archive-batching",
                 clock: MonotonicClock | None = None):  # fmt: skip
        self.work = work
        self.delay = delay
        self.sweep = sweep
        self.clock = clock or MonotonicClock()  # the delays, the sweep and flush's timeout
        self._condition = threading.Condition()
        self._requested = 0  # requests made so far
        self._finished = 0  # requests covered by runs that have finished
        self._hurry = False  # a flush is waiting: skip the delay
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def request(self) -> None:
        """Run the work soon; requests until the run starts share it."""
        with self._condition:
            self._requested += 1
            self._condition.notify_all()

    def flush(self, timeout: float) -> bool:
        """Run the work now and wait for that run; False if it did not finish in time."""
        with self._condition:
            self._requested += 1
            wanted = self._requested
            self._hurry = True
            self._condition.notify_all()
            return self.clock.wait_for(self._condition, lambda: self._finished >= wanted, timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """One last run for what was requested, then the thread ends."""
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._condition:
                self.clock.wait_for(self._condition, self._asked, self.sweep)
                if self._requested > self._finished:
                    # Let the requests that follow the first join this run.
                    self.clock.wait_for(self._condition, lambda: self._hurry or self._stopping,
                                        self.delay)  # fmt: skip
                covered, stopping, self._hurry = self._requested, self._stopping, False
            try:
                self.work()
            except Exception as error:  # logged; the work's own bookkeeping keeps what is undone
                # The type alone: a message may quote document text or a statement's values.
                log.error("%s: run failed (%s)", self._thread.name, type(error).__name__)
            with self._condition:
                self._finished = covered
                self._condition.notify_all()
            if stopping:
                return

    def _asked(self) -> bool:
        return self._requested > self._finished or self._stopping
