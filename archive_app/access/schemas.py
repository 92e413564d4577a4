"""The access feature's requests, one colander schema each: it validates the request and is
the OpenAPI document's description of it (apidoc.py). Tokens, users, the access log."""

from __future__ import annotations

import colander

from ..validation import ClosedMapping, StrictBoolean, StrictString, WholeNumber, choice
from .models import AccessOutcome
from .permissions import Level, Role
from .services import FULL_NAME_LENGTH, MIN_PASSWORD_LENGTH, USERNAME
from .signatures import SignatureMeaning


def _as_typed(description: str):
    """Credentials as typed: never trimmed or cleaned (a password may hold any character)."""
    return colander.SchemaNode(StrictString(raw=True), missing_msg="is required",
                               description=description)  # fmt: skip


class TokenBody(colander.MappingSchema):
    username = _as_typed("the user name")
    password = _as_typed("the user's password")
    otp = colander.SchemaNode(
        StrictString(raw=True), missing=None,
        description="the second factor's six-digit code, or a recovery code, for an account "
                    "that has one (without it: 401 otp_required)",
    )  # fmt: skip


def _full_name(missing):
    return colander.SchemaNode(
        StrictString(allow_empty=True), missing=missing,
        validator=colander.Length(max=FULL_NAME_LENGTH),
        description="the person's name as signatures print it",
    )  # fmt: skip


def _new_password(description: str):
    # The policy itself (length, the user name, common passwords) is the service's:
    # password_policy.check_password answers 422 with this field.
    return colander.SchemaNode(StrictString(raw=True), missing_msg="is required",
                               description=description)  # fmt: skip


class PasswordChangeBody(colander.MappingSchema):
    """One's own new password: every other token and session of the account ends."""

    current = _as_typed("the password now")
    new = _new_password(f"at least {MIN_PASSWORD_LENGTH} characters, not the user name, not "
                        "among the most common passwords")  # fmt: skip


class PasswordResetBody(colander.MappingSchema):
    """An admin's reset: the user must choose their own at the next sign-in."""

    password = _new_password(f"at least {MIN_PASSWORD_LENGTH} characters, not the user name, "
                             "not among the most common passwords")  # fmt: skip
    must_change = colander.SchemaNode(
        StrictBoolean(nullable=True), missing=True,
        description="the user must choose a new password at the next sign-in (default true)",
    )  # fmt: skip


class _NullableMapping(ClosedMapping):
    """A closed object where JSON `null` stands for absent (`"signature": null`)."""

    nullable = True

    def deserialize(self, node, cstruct):
        return colander.null if cstruct is None else super().deserialize(node, cstruct)


class SignatureBody(colander.MappingSchema):
    """An electronic signature (contract §9): the signer's password and second factor
    re-entered now, and the meaning of what they sign."""

    @staticmethod
    def schema_type():
        return _NullableMapping("is not a member of a signature")

    password = _as_typed("the signer's password, re-entered")
    otp = colander.SchemaNode(StrictString(raw=True, keep_null=True), missing=None,
                              description="the second factor's code; null when none is "
                              "enrolled")  # fmt: skip
    meaning = choice(SignatureMeaning, typ=StrictString(allow_empty=True),
                     missing_msg="is required",
                     description="what the signature means; must be the action's")  # fmt: skip


def signature(**kw) -> SignatureBody:
    """The `signature` member of a signed action's body: required where
    `archive.signatures.required` is true (the view checks; the schema lets it be absent)."""
    return SignatureBody(missing=None, description="required where archive.signatures.required "
                         "is true; else optional (checked when given)", **kw)  # fmt: skip


class AccessReviewSignOff(colander.MappingSchema):
    """Signing an access review off: the fingerprint of the review that was shown."""

    expected = colander.SchemaNode(StrictString(), missing_msg="is required",
                                   description="`fingerprint` of the review shown")  # fmt: skip
    signature = signature()


class UserBody(colander.MappingSchema):
    """A new user (admins)."""

    username = colander.SchemaNode(
        StrictString(raw=True), missing_msg="is required",
        # ^…$ for the document; the service matches it whole (a trailing newline too).
        validator=colander.Regex(f"^{USERNAME.pattern}$", "must be 2-64 letters, digits, . _ - "
                                 "(no spaces), starting with a letter or digit"),
    )  # fmt: skip
    role = choice(Role, typ=StrictString(allow_empty=True), missing_msg="is required")
    clearance = choice(Level, missing=Level.INTERNAL, typ=StrictString(allow_empty=True))
    password = colander.SchemaNode(
        StrictString(raw=True), missing_msg="is required",
        validator=colander.Length(
            min=MIN_PASSWORD_LENGTH,
            min_err=f"must have at least {MIN_PASSWORD_LENGTH} characters",
        ),
    )  # fmt: skip
    full_name = _full_name(None)


class UserChangeBody(colander.MappingSchema):
    """A user's role, clearance or activity (admins); nothing else changes here."""

    @staticmethod
    def schema_type():
        return ClosedMapping("cannot be changed here")

    role = choice(Role, missing=None, typ=StrictString(allow_empty=True))
    clearance = choice(Level, missing=None, typ=StrictString(allow_empty=True))
    active = colander.SchemaNode(StrictBoolean(nullable=True), missing=None,
                                 description="false ends every token and session")  # fmt: skip
    full_name = _full_name(None)


def _log_text(description: str, **kw):
    # Cut to 64 characters by review.LogFilter (no column holds more): never refused.
    return colander.SchemaNode(StrictString(raw=True), missing=None, description=description,
                               **kw)  # fmt: skip


class AccessLogFilters(colander.MappingSchema):
    """The log's filters (the list and the CSV export), read by review.LogFilter."""

    user = _log_text("the user name, whatever its letter case")
    dossier_id = _log_text("entries naming this dossier")
    complaint_no = _log_text("entries naming the dossier of this complaint number, whatever "
                             "its letter case (an extension of the contract)")  # fmt: skip
    action = _log_text("login, search, view, download, file, hold, …")
    outcome = choice(AccessOutcome, missing=None, typ=StrictString(raw=True),
                     description="ok, denied, refused or failed")  # fmt: skip
    # review.parse_moment reads a day (dates.to_date) or a moment: no single format to give.
    start = _log_text("from this day (YYYY-MM-DD, the archive's time zone) or ISO datetime",
                      name="from")  # fmt: skip
    end = _log_text("through this day, or up to this ISO datetime", name="to")


class AccessLogQuery(AccessLogFilters):
    page = colander.SchemaNode(
        WholeNumber(), missing=1,
        validator=colander.Range(min=1, max=1_000_000, min_err="must be a whole number from 1",
                                 max_err="must be a whole number from 1 to 1000000"),
        description="100 entries a page, newest first",
    )  # fmt: skip
