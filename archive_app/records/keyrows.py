"""The rows whose data keys a key-encryption key wraps, as key rotation (vault/rotation.py)
asks for them through `IWrappedKeys`: the documents that still hold a data key."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from zope.interface import implementer

from ..interfaces import IWrappedKeys
from .models import Document


@implementer(IWrappedKeys)
class WrappedDocumentKeys:
    def pending(self, session: Session, current_version: int) -> int:
        return session.scalar(
            select(func.count()).select_from(Document).where(*_older(current_version))
        )

    def batch(self, session: Session, current_version: int, size: int) -> list[Document]:
        query = select(Document).where(*_older(current_version)).order_by(Document.id)
        return list(session.scalars(query.limit(size)))


def _older(current_version: int):
    # Destroyed documents have no wrapped key left: nothing of theirs to re-wrap.
    return Document.wrapped_key.is_not(None), Document.kek_version != current_version
