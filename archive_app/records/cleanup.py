"""Blobs written for a transaction that does not commit are removed (no orphan is left)."""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
PENDING = "archive.pending_blobs"


def track_new_blob(session: Session, blobstore, name: str) -> None:
    """Remember a blob written for this session's transaction until it commits."""
    session.info.setdefault(PENDING, []).append((blobstore, name))


@event.listens_for(Session, "after_commit")
def _keep_committed(session: Session) -> None:
    session.info.pop(PENDING, None)


@event.listens_for(Session, "after_transaction_end")
def _remove_uncommitted(session: Session, transaction) -> None:
    if transaction.parent is not None:
        return
    for blobstore, name in session.info.pop(PENDING, ()):
        try:
            blobstore.remove(name)
        except OSError:  # verify --repair collects it later; the request's own error matters more
            log.exception("could not remove uncommitted blob %s", name)
