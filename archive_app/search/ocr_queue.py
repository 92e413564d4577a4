"""OCR in the background: the documents whose stored text is `ocr_pending` (images, PDFs
with pages without text: indexing.py stores them so) are read by Tesseract in sandboxed
children, their text stored sealed under the document's key (`ocr_done`, or `failed` with
a reason) and their dossier queued for the index again.

The queue is the `document_texts` rows themselves: a filing's answer never waits for OCR, a
crash leaves the rows pending and the next start reads them, and a reindex finds the stored
text and never reads a scan again. A destroyed document's row is erased with its key
(retention), so OCR that finishes after a destruction finds no pending row and stores
nothing.
"""

from __future__ import annotations

import atexit
import logging
import queue
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import select
from zope.interface import implementer

from ..clock import Clock
from ..interfaces import IOcrQueue
from ..records import derived
from ..records.derived import DerivedText, TextState
from ..records.models import Document, DocumentText
from ..vault.envelope import KeyUnwrapError
from ..vault.keyring import KeyringError
from ..vault.streams import BlobIntegrityError
from .batching import BatchingThread
from .indexing import Indexer, log_failure
from .readers.ocr import OcrResult
from .sandbox import ExtractionSandbox

log = logging.getLogger(__name__)

BATCH = 50  # pending documents read per look at the table


@implementer(IOcrQueue)
class OcrQueue:
    """Reads pending scans with one sandboxed child per worker (`sandboxes`), in a thread
    of its own when `background` (else only when `drain` is called: tests, commands)."""

    def __init__(self, indexer: Indexer, sandboxes: list[ExtractionSandbox], clock: Clock, *,
                 max_pages: int = 20, seconds: float = 120.0, background: bool = True,
                 delay: float = 0.5, sweep: float = 60.0):  # fmt: skip
        self.indexer = indexer  # its sessions, records, spool; and it indexes the result
        self.sandboxes = sandboxes
        self.clock = clock
        self.max_pages = max_pages
        self.seconds = seconds  # per document
        self.fault: Callable[[str], None] = lambda step: None  # crash tests
        self._lock = threading.Lock()  # one drain at a time
        self._closing = False
        self._batcher = None
        if background:
            self._batcher = BatchingThread(self.drain, delay, sweep=sweep, name="archive-ocr")

    # -- running ---------------------------------------------------------------------------

    def start(self) -> None:
        """Begin reading what is pending, an earlier process's leftovers first."""
        if self._batcher is not None:
            self._batcher.start()
            self._batcher.request()
            atexit.register(self.close)  # a command stops after its document; the rest waits

    def request(self) -> None:
        """A document was left for OCR: read it soon (in the background only)."""
        if self._batcher is not None and self._batcher.is_alive():
            self._batcher.request()

    def flush(self, timeout: float = 600.0) -> bool:
        """Read everything pending now; False if not within `timeout` (background)."""
        if self._batcher is None or not self._batcher.is_alive():
            self.drain()
            return True
        return self._batcher.flush(timeout)

    def close(self) -> None:
        """Stop after the document being read (the rest stays pending for the next start)."""
        self._closing = True
        if self._batcher is not None:
            atexit.unregister(self.close)
            if self._batcher.is_alive():
                self._batcher.stop()
        for sandbox in self.sandboxes:
            sandbox.close()

    def pending(self, limit: int = BATCH) -> list[str]:
        with self.indexer.read_sessions() as session:
            rows = select(DocumentText.document_id).where(
                DocumentText.state == TextState.OCR_PENDING
            )
            return list(session.scalars(rows.order_by(DocumentText.updated_at).limit(limit)))

    def drain(self) -> int:
        """Read every pending document, each by the next free worker; how many were read."""
        done = 0
        with self._lock:
            free: queue.SimpleQueue[ExtractionSandbox] = queue.SimpleQueue()
            for sandbox in self.sandboxes:
                free.put(sandbox)

            def work(document_id: str) -> bool:
                sandbox = free.get()
                try:
                    return self.read(document_id, sandbox)
                finally:
                    free.put(sandbox)

            tried: set[str] = set()
            with ThreadPoolExecutor(len(self.sandboxes), thread_name_prefix="archive-ocr") as pool:
                while not self._closing:
                    batch = [i for i in self.pending() if i not in tried]
                    if not batch:
                        break
                    tried.update(batch)
                    done += sum(pool.map(self._guarded(work), batch))
        return done

    def _guarded(self, work: Callable[[str], bool]) -> Callable[[str], bool]:
        def run(document_id: str) -> bool:
            if self._closing:
                return False
            try:
                return work(document_id)
            except Exception as error:  # stays pending: tried again at the next drain
                log_failure(f"document {document_id}: OCR could not be stored", error)
                return False

        return run

    # -- one document ----------------------------------------------------------------------

    def read(self, document_id: str, sandbox: ExtractionSandbox) -> bool:
        """OCR one pending document, store its text and queue its dossier; False if it was
        no longer pending (stored meanwhile, destroyed)."""
        indexer = self.indexer
        indexer.spool.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=indexer.spool, prefix="ocr-") as plain:
            with indexer.read_sessions() as session:
                records = indexer.records_for_session(session)
                document = session.get(Document, document_id)
                if document is None or document.storage_name is None:
                    return False
                media_type = document.media_type
                try:
                    data_key = records.data_key(document)
                    stored = derived.read_text(session, document, data_key)
                    if stored is None or stored.state != TextState.OCR_PENDING:
                        return False
                    for chunk in records.open_document(document):
                        plain.write(chunk)
                except (BlobIntegrityError, KeyUnwrapError, KeyringError, OSError,
                        derived.DerivedTextError):  # fmt: skip
                    # `archive verify` names the damaged document; OCR gives up on it.
                    log.warning("document %s could not be read for OCR", document_id)
                    unreadable = "the document could not be decrypted for OCR"
                    return self.store(document_id, None,
                                      DerivedText(TextState.FAILED, "", unreadable))  # fmt: skip
            plain.flush()
            self.fault("ocr_read")  # crash tests: decrypted, OCR not run
            result = sandbox.ocr(Path(plain.name), media_type, self.max_pages, self.seconds)
        return self.store(document_id, data_key, self.outcome(stored.text, result))

    @staticmethod
    def outcome(layer_text: str, result: OcrResult) -> DerivedText:
        """What to store: the text layer (a PDF's text pages) and what OCR read after it;
        `failed` if OCR read nothing and said why, `ocr_done` otherwise (a partial read says
        which limit stopped it)."""
        text = "\n".join(part for part in (layer_text, result.text) if part)
        if result.reason is not None and not result.text:
            return DerivedText(TextState.FAILED, text, result.reason)
        if result.reason is not None:
            log.warning("OCR incomplete: %s", result.reason)
        return DerivedText(TextState.OCR_DONE, text, result.reason)

    def store(self, document_id: str, data_key: bytes | None, text: DerivedText) -> bool:
        """In one transaction: the text, if the document is still pending (a destruction or
        another process may have come first), and its dossier queued for the index."""
        with self.indexer.write_sessions() as session, session.begin():
            row = session.get(DocumentText, document_id)
            document = session.get(Document, document_id)
            if row is None or row.state != TextState.OCR_PENDING or document.storage_name is None:
                return False
            if data_key is None and text.text:
                return False
            derived.store_text(session, document, data_key or b"", text, self.clock.now())
            self.indexer.queue(session, document.dossier_id)
        if text.state == TextState.FAILED:
            log.warning("document %s: OCR failed (%s)", document_id, text.reason)
        return True
