"""The preview route: a document's first page or image as a small PNG, for those who may
download the document (a preview shows its content), logged as a read like a download."""

from __future__ import annotations

from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select

from ..access.audit import log_now
from ..access.permissions import Permission
from ..errors import NotFound
from ..interfaces import IRecordsService
from ..settings import storage_dir
from .api import living_dossier
from .models import DocumentPreview
from .previews import has_preview, preview_of


def shown_previews(request, dossier) -> set[str]:
    """The documents whose preview the dossier page shows: drawable, and not already known
    to fail (those have no image to show; their download link stays)."""
    if not request.has_permission(Permission.DOWNLOAD_DOCUMENTS):
        return set()
    candidates = {document.id for document in dossier.documents if has_preview(document)}
    if not candidates:
        return set()
    failed = request.dbsession.scalars(
        select(DocumentPreview.document_id).where(
            DocumentPreview.document_id.in_(candidates), DocumentPreview.sealed_png.is_(None)
        )
    ).all()
    return candidates - set(failed)


@view_config(route_name="records.detail.preview", permission=Permission.DOWNLOAD_DOCUMENTS)
def preview(request):
    dossier = living_dossier(request, request.context)
    document_id = request.matchdict["document_id"]
    document = next((d for d in dossier.documents if d.id == document_id), None)
    if document is None or not has_preview(document):
        raise NotFound("no preview of such a document in this dossier", field="document_id")
    drawn = preview_of(request.registry, request.find_service(IRecordsService), document,
                       storage_dir(request.registry.settings) / "tmp")  # fmt: skip
    if drawn.png is None:
        raise NotFound("this document has no preview; download it instead", field="document_id")
    log_now(request, "preview", dossier=dossier, document_id=document.id)
    response = Response(body=drawn.png, content_type="image/png")
    # The document's content: kept by no cache, shared or the browser's own disk.
    response.headers["Cache-Control"] = "no-store"
    return response
