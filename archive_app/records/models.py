"""Dossiers, their product lines and their documents (the records themselves)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UTCDateTime
from .vocabulary import DossierState


class Dossier(Base):
    __tablename__ = "dossiers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    complaint_no: Mapped[str] = mapped_column(String(32), unique=True)
    complaint_class: Mapped[str] = mapped_column(String(3))
    complaint_type: Mapped[str] = mapped_column(String(32))
    title: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_on: Mapped[date] = mapped_column(Date, index=True)
    closed_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str | None] = mapped_column(String(16), nullable=True)
    department: Mapped[str | None] = mapped_column(String(128), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))
    measures: Mapped[list] = mapped_column(JSON, default=list)
    capa_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    confidentiality: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)

    # Customer personal data: AES-GCM at field level; the HMAC columns allow exact look-ups
    # without the clear value ever reaching the database.
    customer_name_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    customer_name_hmac: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    customer_organization_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    customer_organization_hmac: Mapped[str | None] = mapped_column(
        String(64), index=True, nullable=True
    )
    customer_phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    customer_phone_hmac: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    customer_address_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # The retention bucket the personal data is sealed under (see vault/buckets.py).
    key_bucket: Mapped[str | None] = mapped_column(String(16), nullable=True)

    state: Mapped[str] = mapped_column(String(16), default=DossierState.ARCHIVED, index=True)
    destroy_after: Mapped[date] = mapped_column(Date, index=True)
    retention_rule: Mapped[str] = mapped_column(String(64))
    retention_rule_version: Mapped[int] = mapped_column(Integer)
    retention_derivation: Mapped[str] = mapped_column(Text)
    filed_by: Mapped[str] = mapped_column(String(64))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Set when destruction starts (state "destroying"): the certificate that will list it.
    certificate_id: Mapped[str | None] = mapped_column(String(32), nullable=True)

    products: Mapped[list[ProductLine]] = relationship(
        back_populates="dossier", order_by="ProductLine.position", cascade="all, delete-orphan"
    )
    documents: Mapped[list[Document]] = relationship(
        back_populates="dossier", order_by="Document.position"
    )


class ProductLine(Base):
    """One product and batch named by a dossier (a complaint may name several batches)."""

    __tablename__ = "product_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    specification: Mapped[str | None] = mapped_column(String(255), nullable=True)
    batch_no: Mapped[str] = mapped_column(String(64), index=True)
    expiry: Mapped[str | None] = mapped_column(String(10), nullable=True)
    manufacturer: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # The batch's certification (QP release) date: only the EU GMP retention rule reads it.
    certified_on: Mapped[date | None] = mapped_column(Date, nullable=True)

    dossier: Mapped[Dossier] = relationship(back_populates="products")


class Document(Base):
    """One encrypted document: where its blob is, its wrapped data key, and its digests."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    cipher_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cipher_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    storage_name: Mapped[str | None] = mapped_column(String(128), nullable=True, unique=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    kek_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The retention-bucket key the data key is also wrapped under ("2031-05", "hold"); the
    # bucket key is destroyed with its last dossier, which puts backups out of reach too.
    key_bucket: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)

    dossier: Mapped[Dossier] = relationship(back_populates="documents")


class DossierCorrection(Base):
    """A correction of the metadata that feeds retention: who, when, why, old and new."""

    __tablename__ = "dossier_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id"), index=True)
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    changes: Mapped[dict] = mapped_column(JSON)


class DocumentText(Base):
    """A document's extracted text: derived content, so sealed under a key derived from the
    document's data key (records/derived.py) and gone with it. Stored once, so that indexing
    a dossier again (an appended document, `archive reindex`) extracts only what is new.

    `state`: `extracted` (the readers' text, `reason` says why it is partial if it is),
    `failed` (no text: `reason` says why), `ocr_pending` and `ocr_done` for scanned documents.
    """

    __tablename__ = "document_texts"

    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    sealed_text: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DocumentPreview(Base):
    """A document's preview (first PDF page, image thumbnail) as PNG: derived content, sealed
    under a key derived from the document's data key like its text, erased with the dossier.
    `png` None with a `reason`: drawing it failed (not tried again on every page view)."""

    __tablename__ = "document_previews"

    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    sealed_png: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
