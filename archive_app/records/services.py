"""Filing dossiers and appending documents: validate, encrypt, store, and read them back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from translationstring import TranslationStringFactory
from zope.interface import implementer

from ..clock import Clock
from ..errors import Conflict, Incomplete, Invalid, TooLarge
from ..faults import crash_point
from ..interfaces import (
    IBlobStore,
    IBucketKeys,
    IClock,
    IFieldCipher,
    IIndexer,
    IKeyring,
    IRecordsService,
    IRetentionPolicy,
    IWorkingCalendar,
)
from ..settings import as_int
from ..vault.blobstore import BlobStore
from ..vault.buckets import BucketKeys, Sealer, bucket_for
from ..vault.envelope import new_data_key, unwrap_data_key, wrap_data_key
from ..vault.fields import FieldCipher
from ..vault.keyring import Keyring
from ..vault.syncing import SyncBatch
from .cleanup import track_new_blob
from .clearance import readable
from .closure import check_no_feedback
from .masking import mask_customer
from .media import EmptyFile, MediaRejected, clean_filename, detect_media_type
from .models import Document, Dossier, ProductLine
from .policy import Batch, RetentionDecision
from .schemas import REQUIRED_KINDS, stored_quality_json, validate_metadata
from .serializers import dossier_json
from .vocabulary import DYING_STATES, DocumentKind, DossierState

_ = TranslationStringFactory("archive")

CUSTOMER_FIELDS = ("name", "organization", "phone", "address")
SEARCHABLE_CUSTOMER_FIELDS = ("name", "organization", "phone")
REPEATABLE_KINDS = {DocumentKind.ATTACHMENT}


@dataclass(frozen=True)
class Upload:
    """One received file, already on disk (spooled by the parser or given by the importer)."""

    kind: str
    filename: str
    path: Path
    size: int


@implementer(IRecordsService)
class RecordsService:
    def __init__(
        self,
        session: Session,
        blobs: BlobStore,
        keyring: Keyring,
        fields: FieldCipher,
        clock: Clock,
        policy,
        *,
        max_upload_bytes: int = 512 * 1024 * 1024,
        max_parts: int = 64,
        on_change=None,
        buckets: BucketKeys | None = None,
        calendar=None,
    ):
        self.session = session
        self.blobs = blobs
        self.keyring = keyring
        self.fields = fields
        self.clock = clock
        # Without a bucket-key file (some tools and old rows), keys are the keyring's alone.
        self.sealer = Sealer(keyring, buckets)
        self.use_buckets = buckets is not None
        # The retention policy (IRetentionPolicy): rules and holds by query, retention's.
        self.policy = policy
        # Working days for the §5.8 rule (IWorkingCalendar).
        self.calendar = calendar
        self.max_upload_bytes = max_upload_bytes
        self.max_parts = max_parts
        # Told (session, dossier id) after a change, e.g. to queue index work for the commit.
        self.on_change = on_change or (lambda session, dossier_id: None)
        # Inside `blobs_synced_together`: the batch that makes the blobs durable (else None:
        # each blob is fsync'd, with its folder, as it is written).
        self._batch: SyncBatch | None = None

    # -- filing ---------------------------------------------------------------------------

    @contextmanager
    def blobs_synced_together(self) -> Iterator[None]:
        """Blobs written in this block are fsync'd on the batch's threads while the filing
        goes on, and their folders once each, all done when the block ends without an error:
        for a batch filed in one transaction (the importer), which must commit only after
        the block has ended."""
        if self._batch is not None:
            raise RuntimeError("blobs_synced_together does not nest")
        self._batch = SyncBatch()
        try:
            yield
            self._batch.sync()
        finally:
            self._batch.close()
            self._batch = None

    def file_dossier(self, raw_metadata, uploads: list[Upload], filed_by: str) -> Dossier:
        metadata = validate_metadata(raw_metadata)
        check_no_feedback(self.calendar, metadata)
        self._check_uploads(uploads, appending=False)
        kinds = {upload.kind for upload in uploads}
        for kind in REQUIRED_KINDS[metadata["outcome"]]:
            if kind not in kinds:
                raise Incomplete(f"a {metadata['outcome']} dossier needs a {kind}", field=kind)
        # Content before uniqueness: a refused file answers 415 whether or not the number
        # is taken (else the answer tells which complaint numbers exist).
        media_types = self._detect(uploads)
        if self.find_by_complaint_no(metadata["complaint_no"]) is not None:
            raise Conflict(
                f"complaint {metadata['complaint_no']} is already filed", field="complaint_no"
            )

        decision = self.retention_decision(
            [Batch(p["expiry"], p["certified_on"]) for p in metadata["products"]],
            metadata["closed_on"],
        )
        dossier = Dossier(
            id=uuid.uuid4().hex,
            complaint_no=metadata["complaint_no"],
            complaint_class=metadata["complaint_class"],
            complaint_type=metadata["complaint_type"],
            title=metadata["title"],
            received_on=metadata["received_on"],
            closed_on=metadata["closed_on"],
            channel=metadata["channel"],
            department=metadata["department"],
            outcome=metadata["outcome"],
            measures=metadata["measures"],
            capa_ref=metadata["capa_ref"],
            confidentiality=metadata["confidentiality"],
            summary=metadata["summary"],
            timeline=stored_quality_json(metadata["timeline"]),
            supplier=metadata["supplier"],
            adr_report_no=metadata["adr_report_no"],
            recall_no=metadata["recall_no"],
            qp_notified_on=metadata["qp_notified_on"],
            regulator_report=stored_quality_json(metadata["regulator_report"]),
            state=DossierState.ARCHIVED,
            destroy_after=decision.destroy_after,
            retention_rule=decision.rule.name,
            retention_rule_version=decision.rule.version,
            retention_derivation=decision.derivation,
            filed_by=filed_by,
            filed_at=self.clock.now(),
        )
        for position, product in enumerate(metadata["products"]):
            dossier.products.append(ProductLine(position=position, **product))
        names = [product["name"] for product in metadata["products"]]
        batches = [product["batch_no"] for product in metadata["products"]]
        held = self.policy.held_by_query(self.session, names, batches)
        if held:
            dossier.state = (
                DossierState.HELD
            )  # a hold on its product or batch was placed before filing
        dossier.key_bucket = self.bucket(dossier.destroy_after, held)
        self._set_customer(dossier, metadata["customer"])
        self.session.add(dossier)
        # One flush for the dossier, its products and its documents (a number filed since
        # the check above fails it; the blobs already written go with the rollback).
        try:
            self._store(dossier, uploads, media_types, filed_by, first_position=0)
        except IntegrityError:
            raise Conflict(
                f"complaint {metadata['complaint_no']} is already filed", field="complaint_no"
            ) from None
        self.on_change(self.session, dossier.id)
        return dossier

    def bucket(self, destroy_after, held: bool) -> str | None:
        return bucket_for(destroy_after, held) if self.use_buckets else None

    def rebucket(self, dossier: Dossier, held: bool) -> None:
        """Move the dossier's keys to the bucket its date and holds call for: data keys
        re-wrapped, personal data re-sealed; bodies untouched."""
        target = self.bucket(dossier.destroy_after, held)
        if target == dossier.key_bucket or dossier.state in DYING_STATES:
            return
        customer = self.customer(dossier)
        current = self.keyring.current_kek_version
        wrapping_key = self.sealer.wrapping_key(current, target, new=True)
        for document in dossier.documents:
            if document.wrapped_key is None:
                continue
            data_key = self.data_key(document)
            document.wrapped_key = wrap_data_key(
                wrapping_key, data_key, kek_version=current,
                dossier_id=dossier.id, document_id=document.id)  # fmt: skip
            document.kek_version, document.key_bucket = current, target
        dossier.key_bucket = target
        self._set_customer(dossier, customer)

    def retention_decision(self, batches: list[Batch], closed_on) -> RetentionDecision:
        return self.policy.decide(batches, closed_on)

    def append_documents(self, dossier: Dossier, uploads: list[Upload], added_by: str):
        self._check_uploads(uploads, appending=True)
        media_types = self._detect(uploads)
        stored = self._store(dossier, uploads, media_types, added_by, len(dossier.documents))
        self.on_change(self.session, dossier.id)
        return stored

    def _check_uploads(self, uploads: list[Upload], appending: bool) -> None:
        if len(uploads) > self.max_parts:
            raise TooLarge(f"at most {self.max_parts} files in one request", field=None)
        if appending and not uploads:
            raise Invalid("no document to append", field="documents")
        seen = set()
        for upload in uploads:
            if upload.kind not in list(DocumentKind):
                raise Invalid(f"unknown document kind {upload.kind!r}", field=upload.kind[:64])
            if upload.kind in seen and upload.kind not in REPEATABLE_KINDS:
                raise Invalid(f"only one {upload.kind} per request", field=upload.kind)
            seen.add(upload.kind)
            if upload.size > self.max_upload_bytes:
                raise TooLarge(
                    f"{upload.kind} is larger than {self.max_upload_bytes // 2**20} MB",
                    field=upload.kind,
                )

    def _detect(self, uploads: list[Upload]) -> list[str]:
        types = []
        for upload in uploads:
            try:
                types.append(detect_media_type(upload.path, clean_filename(upload.filename)))
            except (EmptyFile, MediaRejected) as refused:
                refused.field = upload.kind  # media.py reads bytes; the part is known here
                raise
        return types

    def _store(self, dossier, uploads, media_types, added_by, first_position) -> list[Document]:
        kek_version = self.keyring.current_kek_version
        kek = self.sealer.wrapping_key(kek_version, dossier.key_bucket, new=True)
        documents = []
        for offset, (upload, media_type) in enumerate(zip(uploads, media_types, strict=True)):
            document_id = uuid.uuid4().hex
            data_key = new_data_key()
            with open(upload.path, "rb") as source:
                storage_name, digest = self.blobs.write(
                    source, data_key, document_id, batch=self._batch
                )
            track_new_blob(self.session, self.blobs, storage_name)
            crash_point("blob_written")  # a crash here leaves an orphan blob, never a row
            document = Document(
                id=document_id,
                dossier_id=dossier.id,
                position=first_position + offset,
                kind=upload.kind,
                filename=clean_filename(upload.filename),
                media_type=media_type,
                size=digest.plain_size,
                sha256=digest.plain_sha256,
                cipher_sha256=digest.cipher_sha256,
                cipher_size=digest.cipher_size,
                storage_name=storage_name,
                wrapped_key=wrap_data_key(
                    kek,
                    data_key,
                    kek_version=kek_version,
                    dossier_id=dossier.id,
                    document_id=document_id,
                ),
                kek_version=kek_version,
                key_bucket=dossier.key_bucket,
                added_by=added_by,
                added_at=self.clock.now(),
            )
            dossier.documents.append(document)
            documents.append(document)
        self.session.flush()
        return documents

    def _set_customer(self, dossier: Dossier, customer: dict) -> None:
        cipher = self.sealer.field_cipher(dossier.key_bucket, new=True)
        for name in CUSTOMER_FIELDS:
            value = customer.get(name)
            sealed = cipher.encrypt(value, context=f"customer.{name}")
            setattr(dossier, f"customer_{name}_enc", sealed)
            if name in SEARCHABLE_CUSTOMER_FIELDS:
                setattr(dossier, f"customer_{name}_hmac", self.fields.lookup_hash(value))

    # -- reading ---------------------------------------------------------------------------

    def get(self, dossier_id: str) -> Dossier | None:
        if not isinstance(dossier_id, str) or len(dossier_id) > 32:
            return None
        return self.session.get(Dossier, dossier_id)

    def find_by_complaint_no(self, complaint_no: str) -> Dossier | None:
        """Whatever its level: for filing's uniqueness check and the importer only; anything
        shown to someone goes through `readable_by_complaint_no`."""
        number = filed_number(complaint_no)
        return self.session.scalar(select(Dossier).where(Dossier.complaint_no == number))

    def readable_by_complaint_no(self, complaint_no: str, identity) -> Dossier | None:
        """The dossier with this number if the identity may read it (else as if none), the
        number in any letter case (`ts-i-23-001` is TS-I-23-001)."""
        query = select(Dossier).where(Dossier.complaint_no == filed_number(complaint_no))
        return self.session.scalar(readable(query, identity))

    def recent(self, identity, limit: int = 10) -> list[Dossier]:
        """The latest filed dossiers the identity may read."""
        query = (
            select(Dossier)
            .where(Dossier.state != DossierState.DESTROYED)
            .order_by(Dossier.filed_at.desc())
            .limit(limit)
        )
        return list(self.session.scalars(readable(query, identity)))

    def find_by_customer(self, field: str, value: str) -> list[Dossier]:
        """Exact match on a customer field through its keyed hash, never the clear value."""
        if field not in SEARCHABLE_CUSTOMER_FIELDS:
            raise Invalid(f"cannot look up customers by {field}", field=field)
        column = getattr(Dossier, f"customer_{field}_hmac")
        return list(
            self.session.scalars(select(Dossier).where(column == self.fields.lookup_hash(value)))
        )

    def customer(self, dossier: Dossier) -> dict:
        cipher = self.sealer.field_cipher(dossier.key_bucket)
        return {
            name: cipher.decrypt(
                getattr(dossier, f"customer_{name}_enc"), context=f"customer.{name}"
            )
            for name in CUSTOMER_FIELDS
        }

    def data_key(self, document: Document) -> bytes:
        return unwrap_data_key(
            self.sealer.wrapping_key(document.kek_version, document.key_bucket),
            document.wrapped_key,
            kek_version=document.kek_version,
            dossier_id=document.dossier_id,
            document_id=document.id,
        )

    def open_document(self, document: Document, data_key: bytes | None = None) -> Iterator[bytes]:
        """The plaintext, chunk by chunk, each released only after it authenticates;
        `data_key`: the document's, unwrapped already by the caller (else unwrapped here)."""
        data_key = self.data_key(document) if data_key is None else data_key
        return self.blobs.open_plaintext(document.storage_name, data_key, document.id)

    def as_json(self, dossier: Dossier, *, unmasked: bool) -> dict:
        customer = self.customer(dossier) if dossier.state != DossierState.DESTROYED else {}
        return dossier_json(dossier, customer if unmasked else mask_customer(customer))


def records_for(registry, session: Session) -> RecordsService:
    """The records service over `session`, built the one way: for a request's session (the
    IRecordsService factory) and for the indexer's own sessions (search)."""
    settings = registry.settings
    indexer = registry.queryUtility(IIndexer)  # a process without search indexes nothing
    return RecordsService(
        session,
        registry.getUtility(IBlobStore),
        registry.getUtility(IKeyring),
        registry.getUtility(IFieldCipher),
        registry.getUtility(IClock),
        registry.getUtility(IRetentionPolicy),
        on_change=indexer.queue if indexer is not None else None,
        buckets=registry.getUtility(IBucketKeys),
        calendar=registry.getUtility(IWorkingCalendar),
        max_upload_bytes=as_int(settings, "archive.max_upload_mb", 1) * 1024 * 1024,
        max_parts=as_int(settings, "archive.max_parts", 7),
    )


def filed_number(complaint_no: str) -> str:
    """A complaint number as it is filed: the schema admits upper-case letters only
    (`TS-I-23-001`), so any other case of the same number names the same dossier."""
    return complaint_no.strip().upper()


__all__ = ["RecordsService", "Upload", "records_for", "filed_number"]
