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
    deadline = time.monotonic() + 5
    while not gone(first) and time.monotonic() < deadline:  # reaped, not left a zombie
        sandbox.extract(report, "application/pdf")
        time.sleep(0.1)
    assert gone(first)
    sandbox.close()
    assert sandbox.child_pid() is None and not sandbox._leaving


def test_a_reader_that_never_returns_is_killed_at_the_time_limit(sandbox, report, monkeypatch):
    sandbox.extract(report, "application/pdf")  # a child already running, as in service
    pid = sandbox.child_pid()
    sandbox.timeout = 1.0
    monkeypatch.setenv("ARCHIVE_FAULT", "extract_hang")
    started = time.monotonic()
    extraction = sandbox.extract(report, "application/pdf")
    elapsed = time.monotonic() - started
    assert extraction.text == "" and extraction.complete is False
    assert extraction.reason == "timed out after 1 s"
    assert 1.0 <= elapsed < 3.0 and gone(pid)
    monkeypatch.delenv("ARCHIVE_FAULT")
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
    os.kill(sandbox.child_pid(), signal.SIGKILL)  # as the kernel's OOM killer might
    time.sleep(0.2)
    assert "溶出度" in sandbox.extract(report, "application/pdf").text
