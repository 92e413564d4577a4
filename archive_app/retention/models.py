"""Holds, retention runs, destruction certificates, and the one-run-at-a-time lease."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class Hold(Base):
    """A legal hold on one dossier, or by query on every dossier of a product or a batch
    (those filed later included); released holds stay as history."""

    __tablename__ = "holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[str | None] = mapped_column(
        ForeignKey("dossiers.id"), index=True, nullable=True
    )
    product_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    batch_no: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(64))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    release_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class RetentionRun(Base):
    __tablename__ = "retention_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    dry_run: Mapped[bool] = mapped_column(Boolean)
    operator: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    destroyed: Mapped[list] = mapped_column(JSON, default=list)
    skipped_held: Mapped[list] = mapped_column(JSON, default=list)
    certificate_id: Mapped[str | None] = mapped_column(String(32), nullable=True)


class Certificate(Base):
    """A signed destruction certificate, kept whole as its canonical JSON."""

    __tablename__ = "certificates"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer, unique=True)  # order of the chain
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sha256: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)


class RetentionLease(Base):
    """One row: who runs retention now; a run takes it, or waits for it to expire."""

    __tablename__ = "retention_lease"

    id: Mapped[int] = mapped_column(primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(128), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ProposalState(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"


class ProposalDecision(StrEnum):
    """What the second records manager does with a proposal (the URL's `{decision}`)."""

    APPROVE = "approve"
    REJECT = "reject"


class RetentionProposal(Base):
    """Approval mode: what a run proposes to destroy, waiting for a second records manager."""

    __tablename__ = "retention_proposals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    dossier_ids: Mapped[list] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))  # a ProposalState
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
