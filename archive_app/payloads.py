"""Reading a request's JSON body: an object, or the contract's 400 error."""

from __future__ import annotations

import json

from .errors import BadRequest, TooLarge

MAX_JSON_BYTES = 1024 * 1024  # every JSON body of the API is small; files go in multipart


def json_object(request, *, empty_ok: bool = False) -> dict:
    """The body as a JSON object; an empty body is `{}` only when `empty_ok`."""
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise TooLarge("the JSON body is larger than 1 MB", field=None)
    # Kept in memory (WebOb spools bodies over 10 KB to an anonymous temp file otherwise).
    request.request_body_tempfile_limit = MAX_JSON_BYTES + 1
    raw = request.body
    if len(raw) > MAX_JSON_BYTES:
        raise TooLarge("the JSON body is larger than 1 MB", field=None)
    if not raw and empty_ok:
        return {}
    try:
        body = json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, ValueError, RecursionError):  # deep nesting included
        raise BadRequest("the body must be JSON", field=None) from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object", field=None)
    return body
