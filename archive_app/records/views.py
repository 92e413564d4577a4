"""Pages for people: the filing form, a dossier with its documents, downloads, look-up."""

from __future__ import annotations

from types import SimpleNamespace

import deform
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ..access.audit import log_after_request, log_in_transaction, log_now
from ..access.models import AccessOutcome
from ..access.permissions import Permission
from ..errors import ArchiveError, NotFound
from ..interfaces import IRecordsService
from ..settings import storage_dir
from .api import living_dossier
from .downloads import document_response
from .forms import filing_form, metadata_from, uploads_from, without_files
from .preview_views import shown_previews
from .resources import DossierContext


def as_object(value):
    """JSON-shaped data with attribute access, for templates (`d.customer.name`)."""
    if isinstance(value, dict):
        return SimpleNamespace(**{key: as_object(item) for key, item in value.items()})
    if isinstance(value, list):
        return [as_object(item) for item in value]
    return value


def records(request):
    return request.find_service(IRecordsService)


@view_config(route_name="records.new", request_method="GET",
             renderer="archive_app:templates/records/new.pt",
             permission=Permission.FILE_DOSSIERS)  # fmt: skip
def new_dossier(request):
    form = filing_form(request)
    return {"form": form.render(), "resources": form.get_widget_resources(), "error": None}


@view_config(route_name="records.new", request_method="POST",
             renderer="archive_app:templates/records/new.pt",
             permission=Permission.FILE_DOSSIERS)  # fmt: skip
def file_dossier(request):
    request.add_finished_callback(close_form_uploads)
    form = filing_form(request)
    resources = form.get_widget_resources()
    try:
        appstruct = form.validate(request.POST.items())
    except deform.ValidationFailure as failure:
        request.response.status = 422
        log_after_request(
            request, "file", AccessOutcome.REFUSED, detail="422 invalid: the form (web)"
        )
        return {"form": failure.render(), "resources": resources, "error": None}
    uploads = uploads_from(appstruct, storage_dir(request.registry.settings) / "tmp")
    try:
        dossier = records(request).file_dossier(
            metadata_from(appstruct), uploads, request.user.username
        )
    except ArchiveError as error:
        # Nothing was stored (the transaction is aborted); show the reason on the same form.
        request.tm.doom()
        request.response.status = error.status
        log_after_request(request, "file", AccessOutcome.REFUSED,
                          detail=f"{error.status} {error.code}: {error.detail} (web)")  # fmt: skip
        return {
            "form": form.render(without_files(appstruct)),
            "resources": resources,
            "error": error,
        }
    finally:
        for upload in uploads:
            upload.path.unlink(missing_ok=True)
    log_in_transaction(request, "file", dossier=dossier, detail=f"{len(uploads)} documents (web)")
    return HTTPSeeOther(request.route_url("records.detail", dossier_id=dossier.id))


def close_form_uploads(request):
    """WebOb spools the body and each upload to temporary files; close them when done."""
    for value in request.POST.values():
        handle = getattr(value, "file", None)
        if handle is not None:
            handle.close()
    request.body_file_raw.close()


@view_config(route_name="records.detail", renderer="archive_app:templates/records/detail.pt",
             permission=Permission.READ_DOSSIERS)  # fmt: skip
def show_dossier(request):
    dossier = living_dossier(request, request.context)
    unmasked = bool(request.has_permission(Permission.SEE_PERSONAL_DATA))
    log_now(request, "view", dossier=dossier, detail="web")
    return {
        "dossier": as_object(records(request).as_json(dossier, unmasked=unmasked)),
        "retention_rule": dossier.retention_rule,
        "can_download": bool(request.has_permission(Permission.DOWNLOAD_DOCUMENTS)),
        "previews": shown_previews(request, dossier),
    }


@view_config(route_name="records.detail.download", permission=Permission.DOWNLOAD_DOCUMENTS)
def download(request):
    dossier = living_dossier(request, request.context)
    return document_response(request, dossier, request.matchdict["document_id"])


@view_config(route_name="records.lookup", permission=Permission.READ_DOSSIERS)
def lookup(request):
    """Open a dossier by its complaint number (existence above clearance stays hidden)."""
    complaint_no = (request.GET.get("complaint_no") or "").strip()[:64]
    dossier = (records(request).readable_by_complaint_no(complaint_no, request.user)
               if complaint_no else None)  # fmt: skip
    if dossier is None or not request.has_permission(
        Permission.READ_DOSSIERS, DossierContext(request, dossier)
    ):
        raise NotFound(f"no dossier {complaint_no}", field="complaint_no")
    return HTTPSeeOther(request.route_url("records.detail", dossier_id=dossier.id))
