"""Domain errors with the contract's stable codes, and their one JSON shape."""

from __future__ import annotations

import errno
from dataclasses import dataclass


class ArchiveError(Exception):
    """Base of every error a client may see: what went wrong, the field it concerns, and any
    extra members of the answer. Its HTTP status and code come from `HTTP_ANSWERS`."""

    def __init__(self, detail: str, field: str | None = None, **extra):
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra

    @property
    def status(self) -> int:
        return http_answer(self).status

    @property
    def code(self) -> str:
        return http_answer(self).code

    def as_json(self) -> dict:
        # A catalogue message with values (`${year}`) reads in English with its values filled
        # in; pages translate `detail` themselves.
        detail = getattr(self.detail, "interpolate", lambda: self.detail)()
        body = {"error": self.code, "detail": detail, "field": self.field}
        body.update(self.extra)
        return body


# The kinds of error. A feature's own errors subclass the kind they are (search's QueryError
# is an Invalid), so the table below answers for them without knowing the feature.


class BadRequest(ArchiveError):
    pass


class Unauthorized(ArchiveError):
    pass


class SignatureRequired(Unauthorized):
    """An action that must be signed (21 CFR 11.200) came without a valid signature: the
    password (and second factor) re-entered, and the meaning the action has."""


class Forbidden(ArchiveError):
    pass


class PasswordChangeRequired(Forbidden):
    """The account must pick a new password first (an admin's reset, an expired password)."""


class SecondFactorRequired(Forbidden):
    """The account's role must use a second factor and it has none enrolled yet."""


class OtpRequired(Unauthorized):
    """The password was right; the account's second-factor code is needed too."""


class OtpInvalid(Unauthorized):
    """The second-factor code (or recovery code) was wrong or already used."""


class NotFound(ArchiveError):
    pass


class MethodNotAllowed(ArchiveError):
    pass


class Conflict(ArchiveError):
    pass


class Gone(ArchiveError):
    """The dossier was destroyed; the answer carries its tombstone."""


class TooLarge(ArchiveError):
    pass


class UnsupportedMedia(ArchiveError):
    pass


class Invalid(ArchiveError):
    pass


class Incomplete(Invalid):
    """A document kind the dossier's outcome needs is missing (`field` names the kind)."""


class QueryTooCostly(Invalid):
    """Not 5xx: the same query will run out of time again; a narrower one will not."""


class TooManyAttempts(ArchiveError):
    """Refused without checking (login throttling); `retry_after` seconds, when set."""

    retry_after: int | None = None


class ServiceUnavailable(ArchiveError):
    pass


class DirectoryUnavailable(ServiceUnavailable):
    """The LDAP / Active Directory server cannot answer: a directory user is not let in."""


class StorageFull(ArchiveError):
    """The disk (or quota) is full: nothing was stored; retry when space is back."""


class Internal(ArchiveError):
    pass


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    code: str  # the contract's stable `error` value


# The one mapping from an error to its HTTP answer: an error answers as the nearest of its
# classes listed here.
HTTP_ANSWERS: dict[type[ArchiveError], HttpAnswer] = {
    ArchiveError: HttpAnswer(400, "bad_request"),
    BadRequest: HttpAnswer(400, "bad_request"),
    SignatureRequired: HttpAnswer(401, "signature_required"),
    Unauthorized: HttpAnswer(401, "unauthorized"),
    Forbidden: HttpAnswer(403, "forbidden"),
    PasswordChangeRequired: HttpAnswer(403, "password_change_required"),
    SecondFactorRequired: HttpAnswer(403, "second_factor_required"),
    OtpRequired: HttpAnswer(401, "otp_required"),
    OtpInvalid: HttpAnswer(401, "otp_invalid"),
    NotFound: HttpAnswer(404, "not_found"),
    MethodNotAllowed: HttpAnswer(405, "method_not_allowed"),
    Conflict: HttpAnswer(409, "conflict"),
    Gone: HttpAnswer(410, "destroyed"),
    TooLarge: HttpAnswer(413, "too_large"),
    UnsupportedMedia: HttpAnswer(415, "unsupported_media_type"),
    Invalid: HttpAnswer(422, "invalid"),
    Incomplete: HttpAnswer(422, "incomplete"),
    QueryTooCostly: HttpAnswer(422, "query_too_costly"),
    TooManyAttempts: HttpAnswer(429, "too_many_attempts"),
    Internal: HttpAnswer(500, "internal"),
    ServiceUnavailable: HttpAnswer(503, "unavailable"),
    DirectoryUnavailable: HttpAnswer(503, "directory_unavailable"),
    StorageFull: HttpAnswer(507, "storage_full"),
}


def http_answer(error: ArchiveError) -> HttpAnswer:
    return next(HTTP_ANSWERS[kind] for kind in type(error).__mro__ if kind in HTTP_ANSWERS)


def storage_full(exception: BaseException) -> StorageFull | None:
    """A StorageFull for an out-of-space failure from the OS or the database, else None."""
    full = isinstance(exception, OSError) and exception.errno in (errno.ENOSPC, errno.EDQUOT)
    text_of = str(getattr(exception, "orig", exception)).lower()
    full = full or "disk is full" in text_of or "no space left" in text_of
    if not full:
        return None
    return StorageFull("the archive's storage is full: nothing was stored; free space and "
                       "retry", field=None)  # fmt: skip
