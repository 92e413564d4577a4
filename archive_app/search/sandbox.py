"""Text extraction and previews in a child process that is killed past a time limit and
capped in memory, so that a pathological document can neither stall indexing or a page nor
exhaust the server."""

from __future__ import annotations

import dataclasses
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

from zope.interface import implementer

from ..interfaces import IPreviewRenderer
from .extraction import MAX_CHARS, READERS, Extraction, extract_text
from .readers.ocr import OCR_TYPES, OcrResult, ocr_document
from .readers.pdf import pages_without_text
from .thumbnails import RENDERERS, Rendered, render_preview

FAULT_VARIABLE = "ARCHIVE_FAULT"
# An idle child leaves to give its memory back; the parent retires it well before, so that
# it never sends work to a child that is just leaving.
IDLE_EXIT_SECONDS = 300.0
# Then a fresh child: bounds whatever third-party readers keep from document to document.
TASKS_PER_CHILD = 500
# An OCR child stops at its document's time limit by itself; killed if not this much after.
OCR_GRACE_SECONDS = 10.0


@implementer(IPreviewRenderer)
class ExtractionSandbox:
    """`extract` as `extraction.extract_text` does and `render` as `thumbnails.render_preview`
    does, in one child process reused across documents; a fresh child after a timeout, a
    crash, or TASKS_PER_CHILD documents.

    The child is `python -m archive_app.search.sandbox`, started with fork+exec: never a
    bare fork of the multi-threaded web process (which can copy a lock another thread
    holds), and no re-import of the parent's main module (multiprocessing's spawn does that).
    """

    def __init__(self, timeout: float = 20.0, memory_bytes: int = 1 << 30,
                 monotonic: Callable[[], float] = time.monotonic,
                 max_chars: int = MAX_CHARS):  # fmt: skip
        self.timeout = timeout
        self.memory_bytes = memory_bytes
        self.max_chars = max_chars  # of a document's text: the rest is not indexed
        self.monotonic = monotonic  # how long a child has been idle
        self._lock = threading.Lock()  # one document at a time through the pipe
        self._process: subprocess.Popen | None = None
        self._connection: Connection | None = None
        self._stopper: weakref.finalize | None = None
        self._tasks = 0
        self._last_used = 0.0
        # Children told to go (pipe closed) and not yet reaped: a rebuild replaces its child
        # every TASKS_PER_CHILD documents and must not wait for each to exit.
        self._leaving: list[subprocess.Popen] = []

    def extract(self, path: Path, media_type: str, max_chars: int | None = None) -> Extraction:
        if media_type not in READERS:
            return Extraction("", True)  # images and audio have no text: no child needed
        answer = self._ask(("text", str(path), media_type, max_chars or self.max_chars))
        return Extraction("", False, answer) if isinstance(answer, str) else answer

    def render(self, path: Path, media_type: str) -> Rendered:
        """A PNG preview of the file's first page (PDF) or of the image, or why there is none."""
        if media_type not in RENDERERS:
            return Rendered(None, "no preview for this kind of file")
        answer = self._ask(("preview", str(path), media_type, None))
        return Rendered(None, answer) if isinstance(answer, str) else answer

    def ocr(self, path: Path, media_type: str, max_pages: int, seconds: float) -> OcrResult:
        """The OCR text of the file's scans (readers/ocr.py), within `seconds` for the whole
        document: the child stops itself at that limit, and is killed a little after it."""
        if media_type not in OCR_TYPES:
            return OcrResult("", 0, "no OCR for this kind of file")
        answer = self._ask(("ocr", str(path), media_type, (max_pages, seconds)),
                           timeout=seconds + OCR_GRACE_SECONDS)  # fmt: skip
        return OcrResult("", 0, answer) if isinstance(answer, str) else answer

    def _ask(self, task: tuple, timeout: float | None = None):
        """The child's answer to one task (within `timeout`, by default the sandbox's), or a
        string saying why there is none."""
        timeout = self.timeout if timeout is None else timeout
        # The fault is read per task, not once in the child, so that tests can set it any time.
        request = (*task, os.environ.get(FAULT_VARIABLE))
        with self._lock:
            connection = self._child()
            try:
                connection.send(request)
            except OSError:  # it died while idle (nothing to do with this document)
                self._retire(kill=True)
                connection = self._child()
                connection.send(request)
            if not connection.poll(timeout):
                self._retire(kill=True)
                return f"timed out after {timeout:g} s"
            try:
                answer = connection.recv()
            except (EOFError, OSError):  # killed by the kernel, or a reader crashed it
                code = self._retire(kill=True)
                return f"the extraction process died (exit code {code})"
            self._tasks += 1
            self._last_used = self.monotonic()
            if self._tasks >= TASKS_PER_CHILD:
                self._retire(wait=False)
            return answer

    def child_pid(self) -> int | None:
        """The running child's process id (None between children): for tests and logs."""
        return self._process.pid if self._process is not None else None

    def close(self) -> None:
        with self._lock:
            self._retire()
            for process in self._leaving:
                stop_child(process, None)
            self._leaving.clear()

    def _child(self) -> Connection:
        idle = self.monotonic() - self._last_used
        if self._process is not None and (
            self._process.poll() is not None or idle > IDLE_EXIT_SECONDS / 2
        ):
            self._retire(kill=True)
        self._leaving = [process for process in self._leaving if process.poll() is None]
        if self._process is None:
            ours, theirs = socket.socketpair()
            with theirs:
                # No stderr: whatever a reader prints (a warning, a traceback) may quote the
                # document, and the parent's stderr is the server log.
                self._process = subprocess.Popen(
                    [sys.executable, "-m", __name__, str(theirs.fileno()),
                     str(self.memory_bytes)],
                    pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
            self._connection = Connection(ours.detach())
            # Stopped at interpreter exit, or when this sandbox is garbage: never left behind.
            self._stopper = weakref.finalize(self, stop_child, self._process, self._connection)
            self._tasks, self._last_used = 0, self.monotonic()
        return self._connection

    def _retire(self, kill: bool = False, wait: bool = True) -> int | None:
        if self._process is None:
            return None
        self._stopper.detach()
        process, connection = self._process, self._connection
        self._process = self._connection = self._stopper = None
        if not wait:  # it exits when it reads the closed pipe; reaped by a later call
            connection.close()
            self._leaving.append(process)
            return None
        return stop_child(process, connection, kill)


def stop_child(process: subprocess.Popen, connection: Connection | None,
               kill: bool = False) -> int:  # fmt: skip
    """Stop a child at once if `kill`, else when it reads the closed pipe; its exit code."""
    if connection is not None:
        connection.close()
    if kill:
        process.kill()
    try:
        return process.wait(5)
    except subprocess.TimeoutExpired:  # it did not take the hint: it has no choice now
        process.kill()
        return process.wait()


def serve(connection: Connection, memory_bytes: int) -> None:
    """The child: answer ("text", path, media type, max chars, fault) requests with
    Extractions, ("preview", path, media type, None, fault) requests with Rendered and
    ("ocr", path, media type, (max pages, seconds), fault) requests with OcrResults."""
    # Address space, not resident memory: a reader that asks for more gets a MemoryError
    # (reported as the reason) instead of the kernel's OOM killer choosing a victim.
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    _leave_with(os.getppid())
    while connection.poll(IDLE_EXIT_SECONDS):
        try:
            task, path, media_type, max_chars, fault = connection.recv()
        except EOFError:  # the parent closed the pipe
            return
        if task == "preview":
            faulty = {media_type: PREVIEW_FAULTS[fault]} if fault in PREVIEW_FAULTS else None
            renderers = RENDERERS | faulty if faulty else None
            connection.send(render_preview(Path(path), media_type, renderers=renderers))
            continue
        if task == "ocr":
            connection.send(_ocr(Path(path), media_type, *max_chars, fault))
            continue
        readers = READERS | {media_type: FAULTS[fault]} if fault in FAULTS else None
        extraction = extract_text(Path(path), media_type, max_chars, readers=readers)
        connection.send(_with_scans(Path(path), media_type, extraction))


def _with_scans(path: Path, media_type: str, extraction: Extraction) -> Extraction:
    """The extraction, marked for OCR if it is a PDF read whole with pages without text."""
    if media_type != "application/pdf" or extraction.reason is not None:
        return extraction
    try:
        scanned = bool(pages_without_text(path))
    except Exception:  # it was read a moment ago: whatever this is, OCR would fail too
        return extraction
    return dataclasses.replace(extraction, needs_ocr=scanned)


def _ocr(path: Path, media_type: str, max_pages: int, seconds: float,
         fault: str | None) -> OcrResult:  # fmt: skip
    reader = OCR_FAULTS.get(fault, ocr_document)
    try:
        return reader(path, media_type, max_pages, seconds)
    except MemoryError:
        return OcrResult("", 0, "MemoryError: needs more memory than the limit")
    except FileNotFoundError:  # no tesseract on this machine (the Makefile installs it)
        return OcrResult("", 0, "tesseract is not installed")
    except subprocess.CalledProcessError as error:  # its stderr may quote nothing, but why risk it
        return OcrResult("", 0, f"tesseract failed (exit code {error.returncode})")
    except Exception as error:  # the type alone: a parser's message may quote the document
        return OcrResult("", 0, f"{type(error).__name__}: the file could not be read by OCR")


def _leave_with(parent: int) -> None:
    """Exit when the parent dies, even in the middle of a document that never ends."""

    def watch():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


# -- fault injection for tests: `ARCHIVE_FAULT=extract_hang` and so on ---------------------


def _hang(path: Path, max_chars: int):
    while True:
        time.sleep(60)


def _balloon(path: Path, max_chars: int):
    limit, _hard = resource.getrlimit(resource.RLIMIT_AS)
    # As much as the whole limit: refused under it; 1 GiB granted if no limit was set.
    hoard = bytearray(limit if limit != resource.RLIM_INFINITY else 1 << 30)
    return f"allocated {len(hoard)} bytes", True


def _crash(path: Path, max_chars: int):
    os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer would


FAULTS = {"extract_hang": _hang, "extract_balloon": _balloon, "extract_crash": _crash}
# The same faults for a preview (a renderer takes the path only).
PREVIEW_FAULTS = {
    "preview_hang": lambda path: _hang(path, 0),
    "preview_balloon": lambda path: _balloon(path, 0),
    "preview_crash": lambda path: _crash(path, 0),
}


def _ocr_broken(path: Path, media_type: str, max_pages: int, seconds: float):
    raise subprocess.CalledProcessError(1, ["tesseract"])  # as a tesseract that fails


# The same for OCR: `ocr_fail` (tesseract exits with an error), `ocr_hang`, `ocr_crash`.
OCR_FAULTS = {
    "ocr_fail": _ocr_broken,
    "ocr_hang": lambda path, *rest: _hang(path, 0),
    "ocr_crash": lambda path, *rest: _crash(path, 0),
}


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])), int(sys.argv[2]))
