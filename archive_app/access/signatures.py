"""Electronic signatures (21 CFR 11.50, 11.70, 11.200): the signer re-enters their password
(and second factor, when enrolled) at the moment of the action and states its meaning; the
signature keeps who (user name and full name), when (UTC), what it means, which record, and
the SHA-256 of the canonical JSON of what was signed, so that a changed record no longer
matches it.

The features that sign (retention, reports, the access review) say what their record's signed
content is; this module checks, keeps and re-checks signatures without knowing them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from translationstring import TranslationStringFactory

from ..db import Base, UTCDateTime
from ..errors import SignatureRequired
from ..interfaces import IAccountService, IClock, ICredentials, IDatabase
from ..settings import as_bool
from ..vault.signatures import canonical_json
from .audit import log_after_request, log_in_transaction
from .models import AccessOutcome

_ = TranslationStringFactory("archive")

REQUIRED_SETTING = "archive.signatures.required"


class SignatureMeaning(StrEnum):
    """What a signature means (11.50(a)(3)); each signed action takes exactly one."""

    APPROVE_DESTRUCTION = "approve_destruction"  # 批准销毁
    RELEASE_HOLD = "release_hold"  # 解除保全
    CORRECTION = "correction"  # 更正
    APPROVE_REVIEW = "approve_review"  # 批准评审
    ACCESS_REVIEW = "access_review"  # 访问权限评审


class SignedKind(StrEnum):
    """The kinds of record a signature is linked to (its `record_kind`)."""

    RETENTION_PROPOSAL = "retention_proposal"
    HOLD_RELEASE = "hold_release"
    CORRECTION = "correction"
    REVIEW = "quality_review"
    ACCESS_REVIEW = "access_review"


class Signature(Base):
    """One signature, kept for good: nothing updates or deletes these rows."""

    __tablename__ = "signatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    signer: Mapped[str] = mapped_column(String(64), index=True)  # the user name
    full_name: Mapped[str] = mapped_column(String(200))  # as it was when signing
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    meaning: Mapped[str] = mapped_column(String(32))
    record_kind: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(64))
    content_sha256: Mapped[str] = mapped_column(String(64))


Index("ix_signatures_record", Signature.record_kind, Signature.record_id)


@dataclass(frozen=True)
class SignatureRequest:
    """A signature as the request carries it (`{"password", "otp", "meaning"}`)."""

    password: str
    otp: str | None
    meaning: str

    @classmethod
    def from_form(cls, post) -> SignatureRequest | None:
        """The page form's fields `signature_password`, `signature_otp`, `signature_meaning`;
        None when the form carries no password (nothing was signed)."""
        password = post.get("signature_password") or ""
        if not password:
            return None
        return cls(password[:1024], (post.get("signature_otp") or "").strip()[:16] or None,
                   (post.get("signature_meaning") or "")[:32])  # fmt: skip

    @classmethod
    def from_body(cls, body: dict | None) -> SignatureRequest | None:
        """The validated `signature` member of a JSON body (access/schemas.py)."""
        if not body:
            return None
        return cls(body["password"], body.get("otp"), body["meaning"])


def signatures_required(settings) -> bool:
    """`archive.signatures.required`: true in production.ini, false (optional) elsewhere."""
    return as_bool(settings, REQUIRED_SETTING)


def signer_name(user) -> str:
    return getattr(user, "full_name", None) or user.username


def second_factor_ok(credentials, user, otp: str | None) -> bool | None:
    """Whether `otp` is the user's current second factor (a TOTP code or an unused recovery
    code, used up by this check: access/account.py); None when the user has none enrolled
    or no credentials service is given."""
    if credentials is None or not credentials.has_second_factor(user):
        return None
    return credentials.verify_second_factor(user, otp or "") is not None


def check_signature(
    accounts,
    user,
    given: SignatureRequest | None,
    meaning: SignatureMeaning,
    *,
    required: bool,
    credentials=None,
) -> SignatureRequest | None:
    """The signature checked for an action of `meaning` by `user`: returned when valid, None
    when none was given and none is required; else SignatureRequired (nothing is changed:
    callers check before they act). `accounts` verifies the password (services.py)."""
    if given is None:
        if required:
            # A catalogue message: the API answers its English, a page its own language.
            raise SignatureRequired(_(
                "this action must be signed: re-enter your password (and one-time code when "
                "enrolled) and state its meaning"), field="signature")  # fmt: skip
        return None
    if given.meaning != meaning:
        raise SignatureRequired(_("the meaning stated is not this action's"),
                                field="signature.meaning")  # fmt: skip
    if not accounts.verify_password(user, given.password):
        raise SignatureRequired(_("the password is not the signer's"), field="signature.password")
    if second_factor_ok(credentials, user, given.otp) is False:
        raise SignatureRequired(_("the one-time code is not valid"), field="signature.otp")
    return given


def content_sha256(content) -> str:
    """Hex SHA-256 of the canonical JSON (contract §6's rule) of what was signed."""
    return hashlib.sha256(canonical_json(content)).hexdigest()


def record_signature(session: Session, user, meaning: SignatureMeaning, kind: SignedKind,
                     record_id, content, now: datetime) -> Signature:  # fmt: skip
    signature = Signature(
        signer=user.username,
        full_name=signer_name(user)[:200],
        signed_at=now,
        meaning=meaning,
        record_kind=kind,
        record_id=str(record_id),
        content_sha256=content_sha256(content),
    )
    session.add(signature)
    session.flush()
    return signature


def signatures_of(session: Session, kind: SignedKind, record_ids) -> dict[str, list[Signature]]:
    """{record id: its signatures, oldest first} for records of one kind."""
    ids = [str(record_id) for record_id in record_ids]
    found: dict[str, list[Signature]] = {}
    for start in range(0, len(ids), 500):
        query = (select(Signature).where(Signature.record_kind == kind,
                                          Signature.record_id.in_(ids[start : start + 500]))
                 .order_by(Signature.signed_at, Signature.id))  # fmt: skip
        for row in session.scalars(query):
            found.setdefault(row.record_id, []).append(row)
    return found


def signature_matches(signature: Signature, content) -> bool:
    """Whether the record as it is now is what was signed (content recomputed from it)."""
    return content is not None and content_sha256(content) == signature.content_sha256


def signature_json(signature: Signature, matches: bool | None = None) -> dict:
    body = {
        "id": signature.id, "signer": signature.signer, "full_name": signature.full_name,
        "signed_at": signature.signed_at.isoformat(), "meaning": signature.meaning,
        "record_kind": signature.record_kind, "record_id": signature.record_id,
        "content_sha256": signature.content_sha256,
    }  # fmt: skip
    if matches is not None:
        body["matches"] = matches
    return body


# -- in a request ---------------------------------------------------------------------------


def checked_signature(
    request,
    given: SignatureRequest | None,
    meaning: SignatureMeaning,
    what: str,
    *,
    required: bool | None = None,
) -> SignatureRequest | None:
    """`check_signature` for the signed-in user, before the action changes anything; a
    refusal is logged (once the request's transaction has ended: the refusal rolls it back)
    with `what`, naming the record. `required` defaults to `archive.signatures.required`."""
    if required is None:
        required = signatures_required(request.registry.settings)
    accounts = request.find_service(IAccountService)
    # Only an enrolled signer's code is looked up (the loaded user says): reading the account
    # row would begin the request's transaction, which must take no lock before a retention
    # approval writes on sessions of its own.
    enrolled = getattr(request.user, "totp_secret", None) is not None
    credentials = request.find_service(ICredentials) if enrolled else None
    try:
        if credentials is not None and not request.dbsession.in_transaction():
            # The code is used up in a transaction of its own, committed at once. Not the
            # request's session, nor a savepoint in it: either begins the request's
            # transaction, whose write lock (BEGIN IMMEDIATE on SQLite) an approval's own
            # sessions would then wait for until the busy timeout (the TOTP approval test).
            with request.find_service(IDatabase).write() as session, session.begin():
                return check_signature(
                    accounts,
                    request.user,
                    given,
                    meaning,
                    required=required,
                    credentials=credentials.using(session),
                )
        return check_signature(accounts, request.user, given, meaning, required=required,
                               credentials=credentials)  # fmt: skip
    except SignatureRequired as error:
        log_after_request(request, "sign", AccessOutcome.DENIED,
                          detail=f"{meaning} of {what} refused: {error.field}")  # fmt: skip
        raise


def keep_signature(request, given: SignatureRequest | None, meaning: SignatureMeaning,
                   kind: SignedKind, record_id, content, **log) -> Signature | None:  # fmt: skip
    """Keep the checked signature (None: nothing was signed) over `content` in the request's
    transaction, logged with it; `log` adds the entry's dossier."""
    if given is None:
        return None
    signature = record_signature(request.dbsession, request.user, meaning, kind, record_id,
                                 content, request.find_service(IClock).now())  # fmt: skip
    log_in_transaction(request, "sign", detail=f"signature {signature.id}: {meaning} of "
                       f"{kind} {record_id}, sha256 {signature.content_sha256}", **log)  # fmt: skip
    return signature
