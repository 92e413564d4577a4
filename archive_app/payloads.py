"""Reading a request's JSON body: an object sent as `application/json`, or the contract's
400, 413 or 415 error."""

from __future__ import annotations

import json

from .errors import BadRequest, TooLarge, UnsupportedMedia

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
    # Only application/json: a browser sends text/plain, form and multipart bodies to any
    # origin without asking (a "simple" request), never this one without CORS.
    if request.content_type != "application/json":
        raise UnsupportedMedia("the body must be sent as Content-Type: application/json",
                               field=None)  # fmt: skip
    try:
        body = json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, ValueError, RecursionError):  # deep nesting included
        raise BadRequest("the body must be JSON", field=None) from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object", field=None)
    return body
