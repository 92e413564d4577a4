"""Extraction in a child process: real documents through it, a hang killed in time, a memory
hog refused, a crash survived; the next document gets a fresh child."""

from __future__ import annotations

import os
import signal
import time

import pytest

from archive_app.demo import documents
from archive_app.search import sandbox as sandbox_module
from archive_app.search.sandbox import ExtractionSandbox


@pytest.fixture
def sandbox():
    built = ExtractionSandbox(timeout=10, memory_bytes=256 * 2**20)
    yield built
    built.close()


@pytest.fixture
def report(tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(documents.make_pdf("调查报告", ["溶出度不合格 TS-I-23-001"]))
    return path


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def until_exited(pid: int) -> None:
    """Until our child `pid` has exited, leaving it for its parent's code to reap (WNOWAIT):
    whether the sandbox reaps it is what a test looks at next."""
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)


def test_documents_are_read_in_one_reused_child(sandbox, report):
    first = sandbox.extract(report, "application/pdf")
    pid = sandbox.child_pid()
    second = sandbox.extract(report, "application/pdf")
    assert first.complete and "溶出度" in first.text and second == first
    assert pid is not None and pid != os.getpid() and sandbox.child_pid() == pid


def test_a_child_is_replaced_after_its_share_of_documents_without_waiting_for_it(
    sandbox, report, monkeypatch
):
    monkeypatch.setattr(sandbox_module, "TASKS_PER_CHILD", 2)
    sandbox.extract(report, "application/pdf")
    first = sandbox.child_pid()
    assert "溶出度" in sandbox.extract(report, "application/pdf").text
    assert sandbox.child_pid() is None  # told to go (its pipe closed), not waited for
    assert "溶出度" in sandbox.extract(report, "application/pdf").text
    assert sandbox.child_pid() not in (None, first)
    until_exited(first)  # it read its closed pipe and left: a zombie until reaped
    sandbox.extract(report, "application/pdf")
    assert gone(first)  # reaped by the sandbox, not left a zombie
    sandbox.close()
    assert sandbox.child_pid() is None and not sandbox._leaving


def test_a_reader_that_never_returns_is_killed_at_the_time_limit(sandbox, report, monkeypatch):
    sandbox.extract(report, "application/pdf")  # a child already running, as in service
    pid = sandbox.child_pid()
    # Real seconds, not a test clock: what is proved is that a real child stuck in a real
    # reader is killed when its time is up, and the limit is a wait on the child's pipe.
    sandbox.timeout = 0.5
    monkeypatch.setenv("ARCHIVE_FAULT", "extract_hang")
    started = time.monotonic()
    extraction = sandbox.extract(report, "application/pdf")
    elapsed = time.monotonic() - started
    assert extraction.text == "" and extraction.complete is False
    assert extraction.reason == "timed out after 0.5 s"
    assert 0.5 <= elapsed < 2.5 and gone(pid)
    monkeypatch.delenv("ARCHIVE_FAULT")
    sandbox.timeout = 10  # a fresh child starts (imports its readers) on a loaded machine too
    assert "溶出度" in sandbox.extract(report, "application/pdf").text  # a fresh child


def test_a_reader_asking_for_more_memory_than_the_limit_is_refused(sandbox, report, monkeypatch):
    monkeypatch.setenv("ARCHIVE_FAULT", "extract_balloon")  # asks for the whole limit at once
    extraction = sandbox.extract(report, "application/pdf")
    assert extraction.complete is False and extraction.reason.startswith("MemoryError")
    monkeypatch.delenv("ARCHIVE_FAULT")
    assert "溶出度" in sandbox.extract(report, "application/pdf").text


def test_a_child_that_dies_is_reported_and_replaced(sandbox, report, monkeypatch):
    monkeypatch.setenv("ARCHIVE_FAULT", "extract_crash")
    extraction = sandbox.extract(report, "application/pdf")
    assert extraction.complete is False and "exit code -9" in extraction.reason
    assert sandbox.child_pid() is None
    monkeypatch.delenv("ARCHIVE_FAULT")
    assert "溶出度" in sandbox.extract(report, "application/pdf").text


def test_media_without_text_need_no_child(sandbox, tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(documents.make_jpeg("x"))
    assert sandbox.extract(path, "image/jpeg").complete and sandbox.child_pid() is None


def test_a_child_that_died_while_idle_is_replaced_before_the_next_document(sandbox, report):
    sandbox.extract(report, "application/pdf")
    pid = sandbox.child_pid()
    os.kill(pid, signal.SIGKILL)  # as the kernel's OOM killer might
    until_exited(pid)
    assert "溶出度" in sandbox.extract(report, "application/pdf").text
    assert sandbox.child_pid() not in (None, pid) and gone(pid)


def test_an_idle_child_is_retired_before_it_would_leave_on_its_own(report):
    now = [0.0]
    sandbox = ExtractionSandbox(timeout=10, memory_bytes=256 * 2**20, monotonic=lambda: now[0])
    try:
        sandbox.extract(report, "application/pdf")
        first = sandbox.child_pid()
        now[0] += sandbox_module.IDLE_EXIT_SECONDS / 2  # idle half its own limit: still used
        sandbox.extract(report, "application/pdf")
        assert sandbox.child_pid() == first
        now[0] += sandbox_module.IDLE_EXIT_SECONDS / 2 + 1  # past it: a fresh child
        assert "溶出度" in sandbox.extract(report, "application/pdf").text
        assert sandbox.child_pid() not in (None, first) and gone(first)
    finally:
        sandbox.close()


def test_previews_are_drawn_in_the_same_child_within_the_same_limits(sandbox, report,
                                                                     monkeypatch):  # fmt: skip
    drawn = sandbox.render(report, "application/pdf")
    assert drawn.png.startswith(b"\x89PNG") and drawn.reason is None
    pid = sandbox.child_pid()
    assert "溶出度" in sandbox.extract(report, "application/pdf").text
    assert sandbox.child_pid() == pid  # one child for both kinds of work

    monkeypatch.setenv("ARCHIVE_FAULT", "preview_balloon")
    refused = sandbox.render(report, "application/pdf")
    assert refused.png is None and refused.reason.startswith("MemoryError")

    sandbox.timeout = 0.5
    monkeypatch.setenv("ARCHIVE_FAULT", "preview_hang")
    hung = sandbox.render(report, "application/pdf")
    assert hung.png is None and hung.reason == "timed out after 0.5 s" and gone(pid)
    monkeypatch.delenv("ARCHIVE_FAULT")
    sandbox.timeout = 10
    assert sandbox.render(report, "application/pdf").png.startswith(b"\x89PNG")


def test_a_file_that_is_not_what_it_claims_gets_no_preview_and_no_error(sandbox, tmp_path):
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"not an image at all")
    drawn = sandbox.render(fake, "image/png")
    assert drawn.png is None and drawn.reason.endswith("could not be drawn")
    assert sandbox.render(fake, "application/msword").reason == "no preview for this kind of file"
