"""The batching thread: requests within the delay share a run, flush skips the delay, a
failed run does not end the thread, stop runs once more for what was asked. Time is the
test's own clock (ManualMonotonicClock), moved by hand: nothing here sleeps."""

from __future__ import annotations

import threading

import pytest
from support import ManualMonotonicClock

from archive_app.search.batching import BatchingThread


class Work:
    """Records the clock's time at each run; `finished(n)` waits for the n-th run to end."""

    def __init__(self, clock: ManualMonotonicClock, fail_first: bool = False):
        self.clock = clock
        self.runs: list[float] = []
        self.fail_first = fail_first
        self._done = threading.Condition()

    def __call__(self):
        with self._done:
            self.runs.append(self.clock.monotonic())
            self._done.notify_all()
        if self.fail_first and len(self.runs) == 1:
            raise RuntimeError("the index writer stayed locked")

    def finished(self, count: int) -> None:
        with self._done:
            assert self._done.wait_for(lambda: len(self.runs) >= count, 10), self.runs


@pytest.fixture
def clock():
    return ManualMonotonicClock()


@pytest.fixture
def work(clock):
    return Work(clock)


def test_requests_within_the_delay_share_one_run(clock, work):
    thread = BatchingThread(work, delay=0.5, sweep=60, clock=clock)
    thread.start()
    asked = clock.monotonic()
    for _ in range(5):
        thread.request()
    clock.until_waiting(asked + 0.5)  # the first request began the delay
    clock.advance(0.25)
    assert work.runs == []  # its wait ends at asked + 0.5, not before
    clock.advance(0.25)
    work.finished(1)
    clock.until_waiting(asked + 0.5 + 60)  # done: waiting for the next request or the sweep
    thread.stop()
    assert work.runs == [asked + 0.5, asked + 0.5]  # the batch of five, then stop's last run
    assert not thread.is_alive()


def test_flush_runs_at_once_and_waits(clock, work):
    thread = BatchingThread(work, delay=5, sweep=60, clock=clock)
    thread.start()
    started = clock.monotonic()
    assert thread.flush(timeout=2)
    assert work.runs == [started]  # no delay passed
    thread.stop()
    assert not thread.is_alive()


def test_a_flush_that_does_not_finish_in_time_says_so(clock):
    started, release = threading.Event(), threading.Event()

    def stuck():
        started.set()
        release.wait(10)

    thread = BatchingThread(stuck, delay=5, sweep=60, clock=clock)
    thread.start()
    outcome = []
    flushing = threading.Thread(target=lambda: outcome.append(thread.flush(timeout=2)))
    flushing.start()
    assert started.wait(10)
    clock.until_waiting(clock.monotonic() + 2)  # the flush waits for the run it started
    clock.advance(2)
    flushing.join(10)
    assert outcome == [False]
    release.set()
    thread.stop()
    assert not thread.is_alive()


def test_a_failed_run_is_logged_and_the_next_one_happens(clock, caplog):
    work = Work(clock, fail_first=True)
    thread = BatchingThread(work, delay=0.01, sweep=60, clock=clock)
    thread.start()
    assert thread.flush(timeout=2) and thread.flush(timeout=2)
    thread.stop()
    assert len(work.runs) >= 2 and "run failed" in caplog.text


def test_without_requests_the_sweep_runs_anyway(clock, work):
    start = clock.monotonic()
    thread = BatchingThread(work, delay=0.01, sweep=0.1, clock=clock)
    thread.start()
    for sweep in range(1, 4):
        clock.until_waiting(clock.monotonic() + 0.1)
        clock.advance(0.1)
        work.finished(sweep)
    thread.stop()
    assert work.runs[:3] == pytest.approx([start + 0.1, start + 0.2, start + 0.3])
    assert len(work.runs) == 4  # and stop's last run
