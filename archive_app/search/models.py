"""The durable index queue (dossiers whose index entries are still to be written) and the
searches users saved."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class QueuedDossier(Base):
    """A dossier changed by a committed transaction, not yet (re)written to the index.

    Inserted in the transaction that changed the dossier and deleted once the index holds
    the change, so a crash in between leaves the row for the next drain (at start-up, in
    `archive verify` and `archive reindex`) instead of a dossier search never finds. No
    foreign key: a destroyed dossier's row only removes it from the index.
    """

    __tablename__ = "index_queue"

    dossier_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Set again when the dossier changes again: a drain forgets the row only if it still
    # holds the time the drain read, so a change made during the drain is not lost.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SavedSearch(Base):
    """A search a user named and kept: the search page's query string, run again from a
    link. Only its owner lists, runs or deletes it (saved.py)."""

    __tablename__ = "saved_searches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(100))
    query_string: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
