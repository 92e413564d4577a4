"""The batching thread: requests within the delay share a run, flush skips the delay, a
failed run does not end the thread, stop runs once more for what was asked."""

from __future__ import annotations

import time

import pytest

from archive_app.search.batching import BatchingThread


class Work:
    def __init__(self, fail_first: bool = False):
        self.runs: list[float] = []
        self.fail_first = fail_first

    def __call__(self):
        self.runs.append(time.monotonic())
        if self.fail_first and len(self.runs) == 1:
            raise RuntimeError("the index writer stayed locked")


@pytest.fixture
def work():
    return Work()


def test_requests_within_the_delay_share_one_run(work):
    thread = BatchingThread(work, delay=0.3, sweep=60)
    thread.start()
    asked = time.monotonic()
    for _ in range(5):
        thread.request()
    time.sleep(0.8)
    thread.stop()
    assert len(work.runs) == 2  # the batch, then stop's last run
    assert 0.25 <= work.runs[0] - asked < 0.7


def test_flush_runs_at_once_and_waits(work):
    thread = BatchingThread(work, delay=5, sweep=60)
    thread.start()
    started = time.monotonic()
    assert thread.flush(timeout=2)
    assert len(work.runs) == 1 and work.runs[0] - started < 1
    thread.stop()
    assert not thread.is_alive()


def test_a_failed_run_is_logged_and_the_next_one_happens(caplog):
    work = Work(fail_first=True)
    thread = BatchingThread(work, delay=0.01, sweep=60)
    thread.start()
    assert thread.flush(timeout=2) and thread.flush(timeout=2)
    thread.stop()
    assert len(work.runs) >= 2 and "run failed" in caplog.text


def test_without_requests_the_sweep_runs_anyway(work):
    thread = BatchingThread(work, delay=0.01, sweep=0.1)
    thread.start()
    time.sleep(0.45)
    thread.stop()
    assert len(work.runs) >= 3
