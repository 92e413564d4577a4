"""Reading a request's JSON body: an object, or the contract's 400 error."""

from __future__ import annotations

import json

from .errors import BadRequest


def json_object(request, *, empty_ok: bool = False) -> dict:
    """The body as a JSON object; an empty body is `{}` only when `empty_ok`."""
    if not request.body and empty_ok:
        return {}
    try:
        body = json.loads(request.body.decode("utf-8")) if request.body else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadRequest("the body must be JSON", field=None) from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object", field=None)
    return body
