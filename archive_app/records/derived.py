"""Content derived from documents (their extracted text, their previews), sealed under each
document's data key.

DESIGN.md, "Derived content is content": the text is sealed with AES-256-GCM under a key
derived by HKDF-SHA256 from the document's data key, the document id as associated data, so
it is readable exactly as long as the document is (key rotation re-wraps data keys without
changing them; destruction erases them, and `erase_derived_text` the rows). Column format:
version byte ‖ nonce ‖ ciphertext+tag of the zlib-compressed UTF-8 text. A preview is sealed
the same way under its own derived key (another HKDF `info`), its PNG bytes as they are.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .models import Document, DocumentPreview, DocumentText

FORMAT_VERSION = 1
MAX_REASON = 200
_INFO = b"archive derived-text v1"
_PREVIEW_INFO = b"archive derived-preview v1"
_NONCE_SIZE = 12
_IDS_PER_STATEMENT = 500  # ids in one IN (...): SQLite bounds a statement's parameters


class TextState(StrEnum):
    """A document text's `state` (see DocumentText)."""

    EXTRACTED = "extracted"
    FAILED = "failed"
    OCR_PENDING = "ocr_pending"
    OCR_DONE = "ocr_done"


class DerivedTextError(Exception):
    """A stored text does not open: wrong key, another document's row, or tampered bytes."""


@dataclass(frozen=True)
class DerivedText:
    state: str
    text: str
    reason: str | None


def _cipher(data_key: bytes, info: bytes) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(data_key)
    return AESGCM(key)


def _associated_data(document_id: str, info: bytes) -> bytes:
    return info + b"\x00" + bytes([FORMAT_VERSION]) + document_id.encode("utf-8")


def _seal(data_key: bytes, document_id: str, plain: bytes, info: bytes) -> bytes:
    nonce = os.urandom(_NONCE_SIZE)
    sealed = _cipher(data_key, info).encrypt(nonce, plain, _associated_data(document_id, info))
    return bytes([FORMAT_VERSION]) + nonce + sealed


def _open(data_key: bytes, document_id: str, sealed: bytes, info: bytes) -> bytes:
    sealed = bytes(sealed)  # drivers may hand back memoryview
    if len(sealed) < 1 + _NONCE_SIZE + 16 or sealed[0] != FORMAT_VERSION:
        raise DerivedTextError(f"document {document_id}: stored content in an unknown format")
    nonce, body = sealed[1 : 1 + _NONCE_SIZE], sealed[1 + _NONCE_SIZE :]
    try:
        return _cipher(data_key, info).decrypt(nonce, body, _associated_data(document_id, info))
    except InvalidTag:
        raise DerivedTextError(f"document {document_id}: stored content does not open") from None


def seal_text(data_key: bytes, document_id: str, text: str) -> bytes:
    return _seal(data_key, document_id, zlib.compress(text.encode("utf-8")), _INFO)


def open_text(data_key: bytes, document_id: str, sealed: bytes) -> str:
    return zlib.decompress(_open(data_key, document_id, sealed, _INFO)).decode("utf-8")


def seal_preview(data_key: bytes, document_id: str, png: bytes) -> bytes:
    return _seal(data_key, document_id, png, _PREVIEW_INFO)


def open_preview(data_key: bytes, document_id: str, sealed: bytes) -> bytes:
    return _open(data_key, document_id, sealed, _PREVIEW_INFO)


def text_rows(session: Session, document_ids: list[str]) -> dict[str, DocumentText]:
    """The stored text rows of these documents, by document id (none for those without)."""
    return {row.document_id: row for start in range(0, len(document_ids), _IDS_PER_STATEMENT)
            for row in session.scalars(select(DocumentText).where(DocumentText.document_id.in_(
                document_ids[start : start + _IDS_PER_STATEMENT])))}  # fmt: skip


def read_text(session: Session, document: Document, data_key: bytes,
              rows: dict[str, DocumentText] | None = None) -> DerivedText | None:  # fmt: skip
    """The document's stored text, or None if none is stored yet; `rows`: the stored rows
    read already for a batch (`text_rows`), instead of a query for this one."""
    row = session.get(DocumentText, document.id) if rows is None else rows.get(document.id)
    if row is None:
        return None
    text = "" if row.sealed_text is None else open_text(data_key, document.id, row.sealed_text)
    return DerivedText(row.state, text, row.reason)


def store_text(session: Session, document: Document, data_key: bytes, derived: DerivedText,
               now: datetime) -> None:  # fmt: skip
    row = session.get(DocumentText, document.id) or DocumentText(document_id=document.id)
    _fill(session, row, document, data_key, derived, now)


def store_texts(session: Session, items: Iterable[tuple[Document, bytes, DerivedText]],
                now: datetime) -> None:  # fmt: skip
    """`store_text` for each (document, data key, text), the rows already stored found in one
    query (a drain's batch is hundreds of documents, nearly all without a row yet)."""
    items = list(items)
    rows = text_rows(session, [document.id for document, _key, _text in items])
    for document, data_key, derived in items:
        row = rows.get(document.id)
        if row is None:
            row = rows[document.id] = DocumentText(document_id=document.id)
        _fill(session, row, document, data_key, derived, now)


def _fill(session: Session, row: DocumentText, document: Document, data_key: bytes,
          derived: DerivedText, now: datetime) -> None:  # fmt: skip
    if derived.state not in list(TextState):
        raise ValueError(f"unknown derived-text state {derived.state!r}")
    row.state = derived.state
    row.reason = derived.reason[:MAX_REASON] if derived.reason else None
    row.sealed_text = seal_text(data_key, document.id, derived.text) if derived.text else None
    row.updated_at = now
    session.add(row)


def erase_derived_text(session: Session, document_ids: Iterable[str]) -> int:
    """Delete the stored texts and previews of these documents (a destroyed dossier's): how
    many rows. Their data keys are erased too, which already leaves the rows unreadable; this
    leaves no row at all."""
    ids = list(document_ids)
    erased = 0
    for start in range(0, len(ids), _IDS_PER_STATEMENT):
        batch = ids[start : start + _IDS_PER_STATEMENT]
        for table in (DocumentText, DocumentPreview):
            result = session.execute(delete(table).where(table.document_id.in_(batch)))
            erased += result.rowcount or 0
    return erased
