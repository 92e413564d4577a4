"""A file the archive makes for its reader (an export, a PDF, a workbook): answered as an
attachment to save, under a name of the archive's own (ASCII; a document's own name is
records/downloads.py's). The web layer adds `nosniff` to every answer (web.py)."""

from __future__ import annotations

from collections.abc import Iterable

from pyramid.response import Response


def attachment(filename: str, content_type: str, *, body: bytes | None = None,
               app_iter: Iterable[bytes] | None = None, charset: str | None = None,
               no_store: bool = False) -> Response:  # fmt: skip
    """`body` built whole, or `app_iter` streamed. `no_store` where it may hold personal
    data no shared or browser cache should keep."""
    response = Response(content_type=content_type, charset=charset)
    if app_iter is not None:
        response.app_iter = app_iter
    else:
        response.body = body or b""
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    if no_store:
        response.headers["Cache-Control"] = "no-store"
    return response
