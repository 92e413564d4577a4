"""The index queue drained by a process of its own beside a long run of commits (`archive
import`), so that the indexing runs on the other core instead of sharing the importer's GIL.

`python -m archive_app.search.drain_process CONFIG` drains every INTERVAL seconds until its
standard input closes (the importer has ended, or died), then drains what is left and exits.
The queue rows are durable: whatever it does not get to, the next drain of any process does.
"""

from __future__ import annotations

import atexit
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ..bootstrap import open_app
from ..interfaces import IIndexer
from .settling import Settler

log = logging.getLogger(__name__)
INTERVAL = 0.5  # seconds between looks at the queue while the importer runs
FINAL_ROUNDS = 3  # drains once it has ended: rows queued late, batches whose settling failed


@contextmanager
def drain_process(config_uri: str) -> Iterator[subprocess.Popen]:
    """The drain process, running while the block runs; waited for when it ends (it drains
    the block's last commits first)."""
    process = subprocess.Popen(command(config_uri), stdin=subprocess.PIPE,
                               stdout=subprocess.DEVNULL)  # fmt: skip
    try:
        yield process
    finally:
        process.stdin.close()  # the sign that the last commit is made
        code = process.wait()
        if code != 0:
            log.error("the import's index drain process exited with %s; its rows stay queued",
                      code)  # fmt: skip


def command(config_uri: str) -> list[str]:
    return [sys.executable, "-m", __name__, config_uri]


def serve(config_uri: str, interval: float = INTERVAL) -> None:
    ended = threading.Event()

    def watch_stdin() -> None:
        sys.stdin.buffer.read()  # returns at end of file: the importer closed it, or died
        ended.set()

    threading.Thread(target=watch_stdin, name="archive-importer-watch", daemon=True).start()
    with open_app(config_uri) as env:
        indexer = env["registry"].getUtility(IIndexer)
        indexer.settler = Settler(indexer.settle)
        try:
            while not ended.wait(interval):
                _drain(indexer)
            for _ in range(FINAL_ROUNDS):
                drained = _drain(indexer)
                indexer.settler.wait()
                if not drained:
                    break
        finally:
            indexer.settler.close()
            indexer.settler = None


def _drain(indexer) -> int:
    try:
        return indexer.drain()
    except Exception as error:  # the rows stay queued: the next look retries
        # The type alone: a message may quote document text or a statement's values.
        log.error("index queue drain failed; the dossiers stay queued (%s)",
                  type(error).__name__)  # fmt: skip
        return 0


def leave() -> None:
    """End the process once `serve` has returned (every drained batch committed and settled,
    the app closed): its exit handlers run as at any exit, but not the interpreter's teardown
    of a process holding the whole app, 0.3-0.4 s measured that the importer would wait for."""
    atexit._run_exitfuncs()  # an OCR in progress, say: it stops after its document
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    serve(sys.argv[1])
    leave()
