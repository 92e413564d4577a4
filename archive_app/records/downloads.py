"""Serving a document: streamed, always as an attachment, never rendered by the browser."""

from __future__ import annotations

import logging
from urllib.parse import quote

from pyramid.response import Response

from ..access.audit import event_for, log_now
from ..access.models import AccessOutcome
from ..errors import Internal, NotFound
from ..interfaces import IAccessLog, IRecordsService
from ..vault.envelope import KeyUnwrapError
from ..vault.keyring import KeyringError
from ..vault.streams import BlobIntegrityError

log = logging.getLogger(__name__)


def content_disposition(filename: str) -> str:
    """RFC 6266 with an ASCII fallback and the exact name in RFC 5987 `filename*`."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def document_response(request, dossier, document_id: str) -> Response:
    document = next((d for d in dossier.documents if d.id == document_id), None)
    if document is None:
        raise NotFound("no such document in this dossier", field="document_id")
    access_log = request.find_service(IAccessLog)
    failure_event = event_for(
        request, "download", AccessOutcome.FAILED, dossier=dossier, document_id=document.id,
        detail="blob failed authentication during download",
    )  # fmt: skip
    # The key unwrapped and the first chunk authenticated before any status is sent: a
    # damaged header, first chunk or key gets a clear error, and no byte of plaintext.
    try:
        chunks = iter(request.find_service(IRecordsService).open_document(document))
        first = next(chunks, b"")
    except (BlobIntegrityError, KeyUnwrapError, KeyringError, OSError) as error:
        log.error("document %s cannot be served: %s", document.id, error)
        access_log.append_now(failure_event)
        raise Internal("the document failed its integrity check; `archive verify` names "
                       "what is damaged", field="document_id") from None  # fmt: skip
    # The entry is committed before the first byte leaves: no entry, no content.
    log_now(request, "download", dossier=dossier, document_id=document.id)

    def stream():
        try:
            yield first
            yield from chunks
        except Exception:
            log.exception("download of document %s stopped", document.id)
            access_log.append_now(failure_event)
            raise

    response = Response(
        app_iter=stream(),
        content_type=document.media_type,
        content_length=document.size,
        conditional_response=False,
    )
    if response.charset is not None:
        del response.charset  # the bytes are the original's; claim no encoding for them
    response.headers["Content-Disposition"] = content_disposition(document.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Cache-Control"] = "private, no-store"
    return response
