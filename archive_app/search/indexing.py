"""Keeping the index in step with the database through the durable index queue: a row in
the changing transaction, the index written after it commits (by one batching thread, or at
once in the committing thread), the row deleted then; a full rebuild (`archive reindex`)."""

from __future__ import annotations

import atexit
import logging
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from zope.interface import implementer

from ..clock import Clock, MonotonicClock
from ..errors import storage_full
from ..interfaces import IIndexer
from ..records import derived
from ..records.derived import TextState
from ..records.models import Dossier
from ..records.vocabulary import LIVING_STATES
from ..vault.envelope import KeyUnwrapError
from ..vault.keyring import KeyringError
from ..vault.streams import BlobIntegrityError
from . import index_queue
from .batching import BatchingThread
from .drain_process import drain_process
from .engine import SearchIndex
from .extraction import READERS, Extraction
from .locks import AdvisoryQueueLock, NoQueueLock
from .readers.ocr import IMAGE_TYPES
from .redaction import personal_values, redactor
from .sandbox import ExtractionSandbox
from .settling import Settler

log = logging.getLogger(__name__)


def log_failure(message: str, error: Exception) -> None:
    """One line for a full disk (an operator's condition, not a bug), else the error's type
    alone: never its message, which may quote document text or the values of a statement."""
    if storage_full(error) is not None:
        log.error("%s: the storage is full", message)
    else:
        # Where it failed (the innermost frames: files, lines, functions) without the values:
        # enough to find a bug, nothing of a document.
        frames = traceback.extract_tb(error.__traceback__)[-3:]
        where = " < ".join(f"{Path(frame.filename).name}:{frame.lineno} {frame.name}"
                           for frame in reversed(frames))  # fmt: skip
        log.error("%s (%s at %s)", message, type(error).__name__, where or "?")


COMMITTED = "archive.search.indexers"  # session.info: indexers to tell after the commit
# Only living dossiers have an index entry. Not "destroying": its entry is purged at that
# step, and an update racing the destruction must not write it back.
BATCH = 100  # dossiers per Whoosh commit when draining a long queue
DRAIN_PASSES = 10  # looks at the queue per drain, for rows queued while it ran


@implementer(IIndexer)
class Indexer:
    """Index entries for dossiers (decrypting their documents to read their text), written
    from the durable queue by one writer in this process."""

    def __init__(self, index: SearchIndex, read_sessions, write_sessions, records_for_session,
                 spool: Path, extractor: ExtractionSandbox, clock: Clock, *,
                 batch_delay: float | None = None,
                 fault: Callable[[str], None] | None = None,
                 batch_clock: MonotonicClock | None = None,
                 queue_lock: AdvisoryQueueLock | NoQueueLock | None = None):  # fmt: skip
        """`batch_delay` None: the index is written in the committing thread before the
        request answers; else by a background thread that many seconds (of `batch_clock`)
        after a commit. `queue_lock`: one drain at a time across processes (locks.py)."""
        self.index = index
        self.read_sessions = read_sessions
        self.write_sessions = write_sessions
        self.records_for_session = records_for_session  # session -> RecordsService
        self.spool = spool
        self.extractor = extractor
        self.clock = clock
        self.fault = fault or (lambda step: None)
        # Told when a document is left for OCR (search/ocr_queue.py sets it).
        self.ocr_requested: Callable[[], None] = lambda: None
        # One drain or rebuild at a time in this process: a drain during a rebuild would
        # write into the generation the rebuild is about to replace.
        self._lock = threading.RLock()
        self.queue_lock = queue_lock or NoQueueLock()
        # While a drain process of its own files this process's queue rows (`drained_apart`),
        # none here: two drains at once on SQLite (no queue lock) would do the work twice.
        self._apart = False
        # In that drain process: its batches settled on a thread of their own (settling.py).
        self.settler: Settler | None = None
        self._batcher = None
        if batch_delay is not None:
            self._batcher = BatchingThread(self.drain, batch_delay, name="archive-indexer",
                                           clock=batch_clock)  # fmt: skip

    # -- the queue -------------------------------------------------------------------------

    def queue(self, session: Session, dossier_id: str) -> None:
        """Index this dossier once the session's transaction commits (never if it aborts).
        The queue row is part of that transaction, so a crash after it cannot lose it."""
        index_queue.enqueue(session, dossier_id, self.clock.now())
        session.info.setdefault(COMMITTED, set()).add(self)

    def committed(self) -> None:
        """A transaction that queued dossiers has committed: write them to the index."""
        self.fault("index_queued")  # crash tests: committed and queued, the index not written
        self._drain_soon()

    def _drain_soon(self) -> None:
        if self._batcher is not None:
            self._batcher.request()
            return
        try:
            self.drain()
        except Exception as error:  # the rows stay queued: the next drain or verify retries
            log_failure("index update failed; the dossiers stay queued", error)

    def start(self) -> None:
        """At start-up: write what an earlier process queued and did not get to."""
        if self._batcher is None:
            try:
                self.drain()
            except Exception as error:
                log_failure("index queue left over from an earlier run: drain failed", error)
            return
        self._batcher.start()
        self._batcher.request()
        atexit.register(self.close)  # a command's filings are indexed before it exits

    def flush(self, timeout: float = 60.0) -> bool:
        """Wait until what is queued now is written (False if not within `timeout`)."""
        if self._batcher is None or not self._batcher.is_alive():
            self.drain()
            return True
        return self._batcher.flush(timeout)

    def close(self) -> None:
        if self._batcher is not None:
            self._batcher.stop()
            atexit.unregister(self.close)
        self.extractor.close()

    def drain(self) -> int:
        """Write every dossier queued so far to the index, a batch per Whoosh commit, and
        forget the rows it now holds; how many rows there were. While another process
        drains, nothing (0): that one looks at the queue again after it lets go."""
        with self._lock:
            if self._apart:
                return 0  # a drain process of its own does this process's rows meanwhile
            seen: set[tuple] = set()  # (dossier_id, queued_at) this drain has read
            for _ in range(DRAIN_PASSES):
                with self.queue_lock.held(wait=False) as mine:
                    if not mine:
                        return len(seen)
                    self._drain_pending(seen)
                # A row committed while the lock was held, by a process whose own drain
                # skipped, is there now: drain again. Rows that failed stay unchanged in
                # `seen` and wait for the next drain instead of being retried in a loop.
                with self.read_sessions() as session:
                    if all(self._taken(row, seen) for row in index_queue.pending(session)):
                        return len(seen)
            # Filings keep coming: let a purge or a rebuild waiting for the lock have its
            # turn; the background thread comes back for the rest.
            if self._batcher is not None:
                self._batcher.request()
            return len(seen)

    def _taken(self, row, seen: set[tuple]) -> bool:
        """Read by this drain already, or written and still being settled (`settler`)."""
        return tuple(row) in seen or (self.settler is not None and self.settler.holds(row))

    def _drain_pending(self, seen: set[tuple]) -> None:
        with self.read_sessions() as session:
            rows = [row for row in index_queue.pending(session) if not self._taken(row, seen)]
        seen.update(tuple(row) for row in rows)
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            self.fault("index_drain_batch")  # crash tests: a node dies holding the queue
            done, extracted = self.write_entries([row.dossier_id for row in batch])
            finished = [row for row in batch if row.dossier_id in done]
            if self.settler is not None:
                self.settler.hand(extracted, finished)
            else:
                self.settle(extracted, finished)

    def apply(self, dossier_ids: list[str]) -> set[str]:
        """Write these dossiers' entries (remove the destroyed) in one commit and store the
        texts extracted for them; the ids done."""
        done, extracted = self.write_entries(dossier_ids)
        self.store_texts(extracted)
        return done

    def write_entries(self, dossier_ids: list[str]) -> tuple[set[str], list[tuple]]:
        """Write these dossiers' entries (remove the destroyed) in one commit: the ids done,
        and the texts extracted for them (document, data key, extraction), not stored yet."""
        if not self.index.exists():
            self.rebuild()  # missing or deleted: build it whole (it is a cache)
            return set(dossier_ids), []
        entries, removed, done = [], [], set()
        extracted: list[tuple] = []
        with self.read_sessions() as session:
            records = self.records_for_session(session)
            # The batch's dossiers, documents, products and stored texts in four queries, not
            # four a dossier and one a document.
            dossiers = {dossier.id: dossier for dossier in session.scalars(
                select(Dossier).where(Dossier.id.in_(dossier_ids)).options(
                    selectinload(Dossier.documents), selectinload(Dossier.products)))}  # fmt: skip
            texts = derived.text_rows(session, [document.id for dossier in dossiers.values()
                                                for document in dossier.documents])  # fmt: skip
            for dossier_id in dossier_ids:
                dossier = dossiers.get(dossier_id)
                if dossier is None or dossier.state not in LIVING_STATES:
                    removed.append(dossier_id)
                else:
                    mine: list[tuple] = []
                    try:
                        entries.append(self.entry(records, dossier, mine, texts))
                    except Exception as error:  # stays queued, and the rest of the batch goes on
                        log_failure(f"dossier {dossier_id} could not be indexed", error)
                        continue
                    extracted += mine
                done.add(dossier_id)
        self.index.upsert(entries, removed)
        return done, extracted

    def settle(self, extracted: list[tuple], rows: list) -> None:
        """After a batch's index commit: its texts stored and its queue rows forgotten, in
        one transaction (one wait for the write lock an import's batch holds, a batch, not
        a dossier); if that fails, the texts each on its own and the rows after them."""
        try:
            with self.write_sessions() as session, session.begin():
                self._store_all(session, extracted)
                index_queue.forget(session, rows)
        except Exception:
            self.store_texts(extracted)
            with self.write_sessions() as session, session.begin():
                index_queue.forget(session, rows)
            return
        self._tell_ocr(extracted)

    @contextmanager
    def drained_apart(self, config_uri: str) -> Iterator[None]:
        """For a long run of commits in this process (an import, indexed in the background):
        the queue rows they add are drained by a process of its own (drain_process.py), on
        the other core instead of this process's GIL, and this process's drains skip
        meanwhile. When the block ends, that process drains what was committed and exits,
        waited for; what it left (it failed), this process drains after it."""
        if self._batcher is None:  # indexed before each commit's answer: nothing to hand over
            yield
            return
        with self._lock:  # after a drain running here has ended
            self._apart = True
        try:
            with drain_process(config_uri):
                yield
        finally:
            with self._lock:
                self._apart = False
            self._drain_soon()

    def purge(self, dossier_ids: list[str]) -> None:
        """Retention's purge, never in the middle of a drain (which could write back an
        entry it read before the dossier began to be destroyed), in any process."""
        with self._lock:
            with self.queue_lock.held(wait=True):
                self.index.purge(dossier_ids)
            self._drain_soon()  # what other nodes queued meanwhile (their drains skipped)

    # -- entries ---------------------------------------------------------------------------

    def entry(
        self,
        records,
        dossier: Dossier,
        extracted: list[tuple] | None = None,
        texts: dict | None = None,
    ) -> dict:
        """The dossier's index entry: metadata, and its documents' text (stored once
        extracted: only documents without a stored text are extracted), each text with the
        dossier's own customer values cut out (redaction.py). The texts extracted are
        stored together (one commit a dossier, not a document), or added to `extracted`
        for the caller to store with a whole batch's (`store_texts`). `texts`: the stored
        text rows of its documents, read already (`derived.text_rows`)."""
        mine: list[tuple] = [] if extracted is None else extracted
        documents = [self.document_text(records, doc, mine, texts) for doc in dossier.documents]
        if extracted is None:
            self.store_texts(mine)
        clean = redactor(personal_values(records.customer(dossier)))
        return {
            "id": dossier.id,
            "complaint_no": dossier.complaint_no,
            "batch_no": [product.batch_no for product in dossier.products],
            "title": clean(dossier.title),
            "product": [product.name for product in dossier.products],
            "product_name": [product.name for product in dossier.products],
            "manufacturer": clean(" ".join(parties_and_references(dossier))),
            "summary": clean(dossier.summary),
            "text": clean("\n".join(documents)),
            "complaint_class": dossier.complaint_class,
            "complaint_type": dossier.complaint_type,
            "outcome": dossier.outcome,
            "channel": dossier.channel,
            "department": dossier.department,
            "confidentiality": dossier.confidentiality,
            "state": dossier.state,
            "year": dossier.received_on.year,
            "received_on": dossier.received_on,
            "closed_on": dossier.closed_on,
        }

    def document_text(
        self, records, document, extracted: list[tuple] | None = None, texts: dict | None = None
    ) -> str:
        """The document's stored text; else decrypt it to a private temporary file, read
        its text, remove the file, and store the text (sealed under the document's key), or
        add it to `extracted` for the caller to store with the others (`store_texts`)."""
        if document.storage_name is None or (
            document.media_type not in READERS and document.media_type not in IMAGE_TYPES
        ):
            return ""  # destroyed, or a kind without text (audio): nothing to read
        try:
            data_key = records.data_key(document)
            stored = derived.read_text(records.session, document, data_key, rows=texts)
        except (KeyUnwrapError, KeyringError):
            log.warning("document %s: its key could not be unwrapped for indexing", document.id)
            return ""
        except derived.DerivedTextError:
            log.warning("document %s: its stored text does not open; extracted again",
                        document.id)  # fmt: skip
            stored = None
        if stored is not None:
            return stored.text  # OCR's too: a reindex never reads a scan again
        if document.media_type in IMAGE_TYPES:  # no text layer: left for OCR, never done here
            extraction = Extraction("", True, needs_ocr=True)
        else:
            extraction = self.extract(records, document, data_key)
        if extraction is None:
            return ""
        if not extraction.complete:
            # Filed and indexed all the same, with what text there is (maybe none). The
            # reason is fixed text (extraction.py), never a parser's message.
            log.warning("document %s: text incomplete (%s)", document.id, extraction.reason)
        if extracted is None:
            self.store_text(document, data_key, extraction)
        else:
            extracted.append((document, data_key, extraction))
        return extraction.text

    def extract(self, records, document, data_key: bytes) -> Extraction | None:
        """Run the readers on the decrypted document; None if it cannot be read."""
        self.spool.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.spool, prefix="extract-") as plain:
            try:
                for chunk in records.open_document(document, data_key):
                    plain.write(chunk)
            except (BlobIntegrityError, KeyUnwrapError, KeyringError, OSError):
                # Indexed without its text; `archive verify` names the damaged document.
                log.warning("document %s could not be read for indexing", document.id)
                return None
            plain.flush()
            return self.extractor.extract(Path(plain.name), document.media_type)

    def store_texts(self, extracted: list[tuple]) -> None:
        """`store_text` for each (document, data key, extraction), in one transaction (each
        on its own if that one fails: one document gone must not lose the others' texts)."""
        if len(extracted) < 2:
            for item in extracted:
                self.store_text(*item)
            return
        try:
            with self.write_sessions() as session, session.begin():
                self._store_all(session, extracted)
        except Exception:
            for item in extracted:
                self.store_text(*item)
            return
        self._tell_ocr(extracted)

    def _store_all(self, session: Session, extracted: list[tuple]) -> None:
        texts = [(document, data_key, self.derived_text(extraction))
                 for document, data_key, extraction in extracted]  # fmt: skip
        derived.store_texts(session, texts, self.clock.now())

    def _tell_ocr(self, extracted: list[tuple]) -> None:
        if any(extraction.needs_ocr for _document, _key, extraction in extracted):
            self.ocr_requested()

    @staticmethod
    def derived_text(extraction: Extraction) -> derived.DerivedText:
        """What is stored of an extraction: a scan (its text layer, if any) as `ocr_pending`,
        for the OCR worker."""
        state = TextState.EXTRACTED if extraction.text or extraction.complete else TextState.FAILED
        if extraction.needs_ocr:
            state = TextState.OCR_PENDING
        return derived.DerivedText(state, extraction.text, extraction.reason)

    def store_text(self, document, data_key: bytes, extraction: Extraction) -> None:
        """Keep the text (derived content, sealed) so that it is never extracted again."""
        text = self.derived_text(extraction)
        try:
            with self.write_sessions() as session, session.begin():
                derived.store_text(session, document, data_key, text, self.clock.now())
        except IntegrityError:
            pass  # another process stored it first, or the document is gone: nothing to keep
        except Exception as error:  # indexed all the same; extracted again next time
            log_failure(f"document {document.id}: its text could not be stored", error)
        else:
            if extraction.needs_ocr:
                self.ocr_requested()

    def all_entries(self, progress=None) -> Iterator[dict]:
        """Every living dossier's entry, one at a time (bounded memory for a rebuild);
        `progress(1)` after each one is written."""
        with self.read_sessions() as session:
            records = self.records_for_session(session)
            ids = list(session.scalars(select(Dossier.id).where(Dossier.state.in_(LIVING_STATES))
                                       .order_by(Dossier.filed_at)))  # fmt: skip
            for dossier_id in ids:
                yield self.entry(records, session.get(Dossier, dossier_id))
                session.expunge_all()
                if progress is not None:
                    progress(1)

    def rebuild(self, processes: int = 1, progress=None) -> int:
        """A new generation from every living dossier; the queue rows read before it began
        are forgotten (the build read their dossiers after they committed). `processes`:
        index writers (more than one only from `archive reindex`, see SearchIndex.rebuild);
        `progress(steps)`: told of each dossier read (the command's progress bar). Other
        processes' drains skip meanwhile; it waits for one that is running."""
        with self._lock:
            with self.queue_lock.held(wait=True):
                with self.read_sessions() as session:
                    rows = index_queue.pending(session)
                count = self.index.rebuild(self.all_entries(progress), processes=processes)
                with self.write_sessions() as session, session.begin():
                    index_queue.forget(session, rows)
            self._drain_soon()  # what other nodes queued meanwhile (their drains skipped)
            return count


@event.listens_for(Session, "after_commit")
def _index_committed(session: Session) -> None:
    for indexer in session.info.pop(COMMITTED, ()):
        indexer.committed()


@event.listens_for(Session, "after_soft_rollback")
def _forget_queued(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(COMMITTED, None)  # the queue rows were rolled back with it


def parties_and_references(dossier: Dossier) -> list[str]:
    """The metadata text of the `manufacturer` field: the manufacturers, the supplier and the
    ADR and recall report numbers (contract §8), found with `q` by every reader of metadata."""
    values = [product.manufacturer for product in dossier.products]
    values += [dossier.supplier, dossier.adr_report_no, dossier.recall_no]
    return [value for value in values if value]
