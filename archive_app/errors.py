"""Domain errors with the contract's stable codes, and their one JSON shape."""

from __future__ import annotations

import errno


class ArchiveError(Exception):
    """Base of every error a client may see: an HTTP status, a stable code, a field."""

    status = 400
    code = "bad_request"

    def __init__(self, detail: str, field: str | None = None, **extra):
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra

    def as_json(self) -> dict:
        body = {"error": self.code, "detail": self.detail, "field": self.field}
        body.update(self.extra)
        return body


class BadRequest(ArchiveError):
    status, code = 400, "bad_request"


class Unauthorized(ArchiveError):
    status, code = 401, "unauthorized"


class Forbidden(ArchiveError):
    status, code = 403, "forbidden"


class NotFound(ArchiveError):
    status, code = 404, "not_found"


class MethodNotAllowed(ArchiveError):
    status, code = 405, "method_not_allowed"


class Conflict(ArchiveError):
    status, code = 409, "conflict"


class Gone(ArchiveError):
    status, code = 410, "destroyed"


class TooLarge(ArchiveError):
    status, code = 413, "too_large"


class UnsupportedMedia(ArchiveError):
    status, code = 415, "unsupported_media_type"


class Invalid(ArchiveError):
    status, code = 422, "invalid"


class Incomplete(ArchiveError):
    status, code = 422, "incomplete"


class ServiceUnavailable(ArchiveError):
    status, code = 503, "unavailable"


class StorageFull(ArchiveError):
    """The disk (or quota) is full: nothing was stored; retry when space is back."""

    status, code = 507, "storage_full"


def storage_full(exception: BaseException) -> StorageFull | None:
    """A StorageFull for an out-of-space failure from the OS or the database, else None."""
    full = isinstance(exception, OSError) and exception.errno in (errno.ENOSPC, errno.EDQUOT)
    text_of = str(getattr(exception, "orig", exception)).lower()
    full = full or "disk is full" in text_of or "no space left" in text_of
    if not full:
        return None
    return StorageFull("the archive's storage is full: nothing was stored; free space and "
                       "retry", field=None)  # fmt: skip


class Internal(ArchiveError):
    status, code = 500, "internal"
