"""What a request may bring in before any view runs: a body of bounded size outside the
upload routes, and a client address that is the server's, never a header's.

One tween, just above the router (inside the transaction and the exception view, so a
refusal answers in the contract's error shape for `/api/v1`, a page otherwise, and is
logged like every other refusal):

- A declared Content-Length above `archive.max_body_kb` on any route but the uploads is
  refused (413) before anything reads the body, so WebOb never spools it (`request.POST`
  and `request.body` copy a body to a temporary file). A body without a length (chunked,
  `wsgi.input_terminated`) is read here, in memory, and refused (413) a byte past the limit.
  The upload routes stream their own multipart bodies with their own limits
  (`archive.max_upload_mb`, `archive.max_parts`: `records/uploads.py`).
- `X-Forwarded-For` is dropped: WebOb's `request.client_addr` would otherwise believe its
  first entry, which any client writes (the access log's address, sign-in throttling per
  address). The server resolves it into REMOTE_ADDR from the proxies it trusts, and only
  them (waitress `trusted_proxy` in production.ini).
"""

from __future__ import annotations

import io

from pyramid.interfaces import IRoutesMapper
from pyramid.tweens import EXCVIEW

from .errors import TooLarge
from .settings import as_int

# (route name, method) of the requests whose bodies are uploads: they stream them to disk
# with limits of their own. Every other request's body is capped here.
UPLOAD_ROUTES = frozenset(
    {
        ("api.dossiers", "POST"),
        ("api.dossier.documents", "POST"),
        ("records.new", "POST"),
    }
)
READ_SIZE = 64 * 1024


def read_at_most(stream, size: int) -> bytes:
    chunks, left = [], size
    while left > 0 and (chunk := stream.read(min(READ_SIZE, left))):
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def too_large(limit: int) -> TooLarge:
    return TooLarge(f"the request body is larger than {limit // 1024} KB", field=None)


def bounds_tween_factory(handler, registry):
    limit = as_int(registry.settings, "archive.max_body_kb", 1) * 1024

    def is_upload(request) -> bool:
        matched = registry.queryUtility(IRoutesMapper)(request)
        route = matched["route"]
        return route is not None and (route.name, request.method) in UPLOAD_ROUTES

    def bounds_tween(request):
        environ = request.environ
        environ.pop("HTTP_X_FORWARDED_FOR", None)
        length = request.content_length
        # Only bodies WebOb would read: a length, or an input that ends by itself.
        unbounded = length is None and environ.get("wsgi.input_terminated")
        if (unbounded or (length or 0) > limit) and not is_upload(request):
            if length is not None:
                raise too_large(limit)  # before a byte of it is read
            # No length: read it here, a byte past the limit at most, and hand it on in
            # memory with its length (WebOb would otherwise spool it to a temp file first).
            body = read_at_most(environ["wsgi.input"], limit + 1)
            if len(body) > limit:
                raise too_large(limit)
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        return handler(request)

    return bounds_tween


def includeme(config):
    config.add_tween("archive_app.bounds.bounds_tween_factory", under=EXCVIEW)
