"""The stored review: a record of its own, kept beyond the dossiers it counts.

No foreign key to dossiers (a review outlives them, and their destruction must not touch it)
and no personal data: aggregates, complaint numbers, product names and batch numbers.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class Review(Base):
    """A signed quarterly or annual review, kept whole as its JSON (the signed body)."""

    __tablename__ = "reviews"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    period: Mapped[str] = mapped_column(String(8), index=True)  # "2026Q3" or "2026"
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    scope: Mapped[str] = mapped_column(String(16))  # the author's clearance when issued
    author: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    body: Mapped[str] = mapped_column(Text)  # the signed JSON, frozen
    # The canonical JSON of the rows counted: `dataset_sha256` stays checkable after the
    # dossiers are destroyed.
    dataset: Mapped[str] = mapped_column(Text)
    # The approval (reports/review_approval.py): by an archivist other than the author, under
    # an electronic signature where they are required. Outside the signed body, which is frozen.
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
