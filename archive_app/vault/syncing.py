"""A batch of blob writes made durable together: their fsyncs in parallel threads, all of
them done before the transaction that names the blobs commits (an import's batch)."""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

from .durability import fsync_directory

# fsyncs in flight at once. On ext4 concurrent fsyncs share one journal commit: measured on
# the project's machine, 400 small files took 3.6 ms a file one after the other, 0.3 ms with
# 4 threads and 0.2 ms with 8 (bench/RESULTS.md, h-import).
SYNC_THREADS = 8


class SyncBatch:
    """fsyncs of blob files and folders started as the blobs are written, on threads of
    their own (an fsync releases the GIL, so the filing goes on meanwhile); `sync()` waits
    for them all and then flushes the folders, each once. A blob written into the batch
    survives a crash only once `sync()` has returned; the caller commits after it."""

    def __init__(self, threads: int = SYNC_THREADS):
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="archive-fsync")
        self._files: list[Future] = []
        self.folders: set[Path] = set()  # new entries in them still to flush

    def sync_file(self, fd: int) -> None:
        """fsync this file descriptor, then close it (the batch owns it from now on)."""
        self._files.append(self._pool.submit(_fsync_and_close, fd))

    def add_folder(self, folder: Path) -> None:
        self.folders.add(folder)

    def sync(self) -> None:
        """Every file's fsync done, then every folder's (in parallel: the order between them
        does not matter, only that all end before the commit). Raises the first error, once
        every fsync has ended (none left running behind a failed batch)."""
        files, self._files = self._files, []
        _results(files)
        folders = sorted(self.folders)
        _results([self._pool.submit(fsync_directory, folder) for folder in folders])
        self.folders.difference_update(folders)

    def close(self) -> None:
        """Wait for the fsyncs still running (their errors are the failed batch's, already
        raised or moot) and stop the threads."""
        wait(self._files)
        self._files = []
        self._pool.shutdown(wait=True)


def _fsync_and_close(fd: int) -> None:
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _results(futures: list[Future]) -> None:
    wait(futures)
    for future in futures:
        future.result()  # the first error, if any
