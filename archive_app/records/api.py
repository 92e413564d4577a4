"""The dossier endpoints of the JSON API (`/api/v1/dossiers…`)."""

from __future__ import annotations

from pyramid.response import Response
from pyramid.view import view_config

from ..access.audit import log_in_transaction, log_now
from ..access.permissions import Permission
from ..errors import Gone, Invalid, NotFound
from ..interfaces import IRecordsService
from ..settings import storage_dir
from ..validation import validated
from .downloads import document_response
from .resources import DossierContext
from .schemas import DossierLookup, parse_metadata
from .serializers import tombstone
from .uploads import parsed_multipart
from .vocabulary import DossierState


def records(request):
    return request.find_service(IRecordsService)


def _form(request):
    service = records(request)
    return parsed_multipart(
        request,
        storage_dir(request.registry.settings) / "tmp",
        max_part_bytes=service.max_upload_bytes,
        max_parts=service.max_parts + 1,  # the metadata part
    )


def living_dossier(request, context):
    """The context's dossier, or 404 (unknown) / 410 with its tombstone (destroyed)."""
    dossier = context.dossier
    if dossier is None:
        raise NotFound("no such dossier", field="dossier_id")
    if dossier.state == DossierState.DESTROYED:
        raise Gone("the dossier was destroyed", tombstone=tombstone(dossier))
    return dossier


def dossier_body(request, dossier) -> dict:
    unmasked = bool(request.has_permission(Permission.SEE_PERSONAL_DATA, request.context))
    return records(request).as_json(dossier, unmasked=unmasked)


@view_config(
    route_name="api.dossiers", request_method="POST", renderer="json",
    permission=Permission.FILE_DOSSIERS,
)  # fmt: skip
def file_dossier(request):
    with _form(request) as form:
        metadata = parse_metadata(form.field_text("metadata"))
        _files_only(form, but="metadata")
        dossier = records(request).file_dossier(metadata, form.uploads, request.user.username)
    log_in_transaction(request, "file", dossier=dossier, detail=f"{len(form.uploads)} documents")
    request.response.status = 201
    return dossier_body(request, dossier)


@view_config(
    route_name="api.dossiers", request_method="GET", renderer="json",
    permission=Permission.READ_DOSSIERS,
)  # fmt: skip
def find_dossiers(request):
    complaint_no = validated(DossierLookup(), request.GET)["complaint_no"]
    dossier = records(request).readable_by_complaint_no(complaint_no[:64], request.user)
    results = []
    if dossier is not None and request.has_permission(
        Permission.READ_DOSSIERS, DossierContext(request, dossier)
    ):
        results.append(_readable_json(request, dossier))
    log_now(request, "search", detail=f"complaint_no lookup: {len(results)} result(s)",
            dossier=dossier if results else None)  # fmt: skip
    return {"results": results}


def _files_only(form, but: str | None = None) -> None:
    """Every part but `but` is a document: a text part (a kind sent as a field) is refused,
    the first such name in the field."""
    texts = sorted(set(form.fields) - {but})
    if texts:
        raise Invalid(f"{texts[0]} must be a file part", field=texts[0][:64])


def _readable_json(request, dossier):
    if dossier.state == DossierState.DESTROYED:
        return tombstone(dossier) | {"state": DossierState.DESTROYED}
    unmasked = bool(
        request.has_permission(Permission.SEE_PERSONAL_DATA, DossierContext(request, dossier))
    )
    return records(request).as_json(dossier, unmasked=unmasked)


@view_config(
    route_name="api.dossier", request_method="GET", renderer="json",
    permission=Permission.READ_DOSSIERS,
)  # fmt: skip
def show_dossier(request):
    dossier = living_dossier(request, request.context)
    log_now(request, "view", dossier=dossier)
    return dossier_body(request, dossier)


@view_config(
    route_name="api.dossier.documents", request_method="POST", renderer="json",
    permission=Permission.FILE_DOSSIERS,
)  # fmt: skip
def append_documents(request):
    dossier = living_dossier(request, request.context)
    with _form(request) as form:
        _files_only(form)
        added = records(request).append_documents(dossier, form.uploads, request.user.username)
    log_in_transaction(request, "append", dossier=dossier, detail=f"{len(added)} documents")
    request.response.status = 201
    return dossier_body(request, dossier)


@view_config(
    route_name="api.dossier.document", request_method="GET",
    permission=Permission.DOWNLOAD_DOCUMENTS,
)  # fmt: skip
def download_document(request) -> Response:
    dossier = living_dossier(request, request.context)
    return document_response(request, dossier, request.matchdict["document_id"])
