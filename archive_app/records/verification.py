"""`archive verify`: every blob authenticated and its digests checked; orphans found."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..vault.envelope import KeyUnwrapError
from ..vault.keyring import KeyringError
from ..vault.streams import BlobIntegrityError
from .models import Document
from .services import RecordsService


def live_documents(session: Session) -> Iterator[Document]:
    query = (
        select(Document)
        .where(Document.storage_name.is_not(None))
        .order_by(Document.added_at, Document.id)
        .execution_options(yield_per=500)
    )
    return session.scalars(query)


def check_document(service: RecordsService, document: Document) -> str | None:
    """None when the document is intact, else one line naming it and what is wrong."""
    blobs = service.blobs
    prefix = f"document {document.id} ({document.dossier.complaint_no})"
    if not blobs.exists(document.storage_name):
        return f"{prefix}: blob missing"
    if (
        document.cipher_sha256
        and blobs.cipher_sha256(document.storage_name) != document.cipher_sha256
    ):
        return f"{prefix}: ciphertext SHA-256 differs from the recorded one"
    try:
        digest = blobs.verify(document.storage_name, service.data_key(document), document.id)
    except (KeyUnwrapError, KeyringError) as error:
        return f"{prefix}: data key cannot be unwrapped ({error})"
    except BlobIntegrityError as error:
        return f"{prefix}: blob fails authentication ({error})"
    if digest.plain_sha256 != document.sha256 or digest.plain_size != document.size:
        return f"{prefix}: plaintext SHA-256 or size differs from the recorded one"
    return None


def find_orphans(service: RecordsService, grace: timedelta) -> list[str]:
    known = set(service.session.scalars(select(Document.storage_name).where(
        Document.storage_name.is_not(None))))  # fmt: skip
    return service.blobs.orphans(known, older_than=service.clock.now() - grace)
