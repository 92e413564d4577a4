"""Keeping the index in step with the database: work queued in the filing transaction and
applied after it commits; a full rebuild (`archive reindex`) from the database and blobs."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ..records.models import Dossier
from ..vault.envelope import KeyUnwrapError
from ..vault.keyring import KeyringError
from ..vault.streams import BlobIntegrityError
from .engine import SearchIndex
from .sandbox import ExtractionSandbox

log = logging.getLogger(__name__)
QUEUE = "archive.index_queue"


class Indexer:
    """Builds index entries for dossiers (decrypting their documents to read their text)."""

    def __init__(self, index: SearchIndex, session_factory, records_for_session, spool: Path,
                 extractor: ExtractionSandbox):  # fmt: skip
        self.index = index
        self.session_factory = session_factory
        self.records_for_session = records_for_session  # session -> RecordsService
        self.spool = spool
        self.extractor = extractor

    def queue(self, session: Session, dossier_id: str) -> None:
        """Index this dossier once the session's transaction commits (never if it aborts)."""
        queued = session.info.setdefault(QUEUE, {})
        queued[dossier_id] = self

    def apply(self, dossier_ids: list[str]) -> None:
        if not self.index.exists():
            self.rebuild()  # missing or deleted: build it whole (it is a cache)
            return
        with self.session_factory() as session:
            records = self.records_for_session(session)
            entries = []
            for dossier_id in dossier_ids:
                dossier = session.get(Dossier, dossier_id)
                if dossier is not None and dossier.state != "destroyed":
                    entries.append(self.entry(records, dossier))
        self.index.upsert(entries)

    def entry(self, records, dossier: Dossier) -> dict:
        texts = [self.document_text(records, document) for document in dossier.documents]
        return {
            "id": dossier.id,
            "complaint_no": dossier.complaint_no,
            "batch_no": [product.batch_no for product in dossier.products],
            "title": dossier.title,
            "product": [product.name for product in dossier.products],
            "product_name": [product.name for product in dossier.products],
            "manufacturer": " ".join(p.manufacturer or "" for p in dossier.products),
            "summary": dossier.summary,
            "text": "\n".join(texts),
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

    def document_text(self, records, document) -> str:
        """Decrypt to a private temporary file, read its text, remove the file."""
        if document.storage_name is None:
            return ""
        self.spool.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.spool, prefix="extract-") as plain:
            try:
                for chunk in records.open_document(document):
                    plain.write(chunk)
            except (BlobIntegrityError, KeyUnwrapError, KeyringError, OSError):
                # Indexed without its text; `archive verify` names the damaged document.
                log.warning("document %s could not be read for indexing", document.id)
                return ""
            plain.flush()
            extraction = self.extractor.extract(Path(plain.name), document.media_type)
        if not extraction.complete:
            # Filed and indexed all the same, with what text there is (maybe none).
            log.warning("document %s: text incomplete (%s)", document.id, extraction.reason)
        return extraction.text

    def all_entries(self) -> Iterator[dict]:
        """Every living dossier's entry, one at a time (bounded memory for a rebuild)."""
        with self.session_factory() as session:
            records = self.records_for_session(session)
            ids = list(session.scalars(select(Dossier.id).where(Dossier.state != "destroyed")
                                       .order_by(Dossier.filed_at)))  # fmt: skip
            for dossier_id in ids:
                yield self.entry(records, session.get(Dossier, dossier_id))
                session.expunge_all()

    def rebuild(self) -> int:
        return self.index.rebuild(self.all_entries())


@event.listens_for(Session, "after_commit")
def _apply_queued(session: Session) -> None:
    queued = session.info.pop(QUEUE, None)
    if not queued:
        return
    by_indexer: dict[Indexer, list[str]] = {}
    for dossier_id, indexer in queued.items():
        by_indexer.setdefault(indexer, []).append(dossier_id)
    for indexer, ids in by_indexer.items():
        try:
            indexer.apply(ids)
        except Exception:  # the database has it; `archive reindex` repairs the index
            log.exception("index update failed for %s", ids)


@event.listens_for(Session, "after_soft_rollback")
def _forget_queued(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(QUEUE, None)
