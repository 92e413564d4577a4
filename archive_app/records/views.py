"""Pages for people: the filing form, a dossier with its documents, downloads, look-up."""

from __future__ import annotations

from types import SimpleNamespace

import deform
from pyramid.csrf import get_csrf_token
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.renderers import render_to_response
from pyramid.view import view_config
from sqlalchemy import select

from ..access.audit import log_after_request, log_in_transaction, log_now
from ..access.models import AccessOutcome
from ..access.permissions import Permission
from ..errors import ArchiveError, BadRequest, Invalid, NotFound
from ..interfaces import IRecordsService
from ..labels import error_message, field_label, label
from ..settings import storage_dir
from .api import living_dossier
from .appending import APPEND_KINDS, appended_uploads, input_of
from .downloads import document_response
from .drafts import drafts_for
from .forms import (
    chosen_files,
    drop_file,
    file_problems,
    filing_form,
    form_path,
    metadata_from,
    refusal,
    uploads_from,
)
from .models import DossierCorrection
from .preview_views import shown_previews
from .resources import DossierContext
from .vocabulary import DocumentKind, DossierState

_ = TranslationStringFactory("archive")

FILED_QUEUE = "records.filed"  # the flash queue that says which dossier was just filed
APPENDED_QUEUE = "records.appended"  # how many documents were just appended


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
    draft = drafts_for(request.registry).open(None, request.user.username)
    form = filing_form(request, draft)
    return {"form": form.render(), "resources": form.get_widget_resources(), "error": None,
            "summary": [], "marked": False}  # fmt: skip


@view_config(route_name="records.new", request_method="POST",
             renderer="archive_app:templates/records/new.pt",
             permission=Permission.FILE_DOSSIERS)  # fmt: skip
def file_dossier(request):
    """File the dossier, or show the form again with every error beside its field and the
    chosen files kept (encrypted, records/drafts.py) so that none need choosing again."""
    request.add_finished_callback(close_form_uploads)
    draft = drafts_for(request.registry).open(request.POST.get("draft"), request.user.username)
    form = filing_form(request, draft)
    try:
        appstruct, failure = form.validate(request.POST.items()), None
        cstruct = form.cstruct
    except deform.ValidationFailure as refused:
        appstruct, failure, cstruct = None, refused, refused.cstruct
    except (TypeError, ValueError) as error:
        # Deform's __start__/__end__ markers dropped or moved by hand: colander then meets a
        # sequence or mapping that is not one. Only a tampered body does that: a refusal.
        raise BadRequest(f"the form's body is malformed: {error}", field=None) from None
    service = records(request)
    uploads = uploads_from(cstruct, storage_dir(request.registry.settings) / "tmp", draft)
    try:
        problems = file_problems(uploads, service.max_upload_bytes)
        if failure is None and not problems:
            try:
                dossier = service.file_dossier(
                    metadata_from(appstruct), list(uploads.values()), request.user.username
                )
            except ArchiveError as error:
                problems[form_path(error.field, cstruct) or ""] = error
    finally:
        for upload in uploads.values():
            upload.path.unlink(missing_ok=True)
    if failure is not None or problems:
        return refused_filing(request, form, draft, cstruct, failure, problems)
    # The kept files go once the dossier is committed (a failed commit may be submitted again).
    request.tm.get().addAfterCommitHook(lambda committed: committed and draft.discard())
    log_in_transaction(request, "file", dossier=dossier, detail=f"{len(uploads)} documents (web)")
    request.session.flash(dossier.complaint_no, FILED_QUEUE)
    return HTTPSeeOther(request.route_url("records.detail", dossier_id=dossier.id))


def refused_filing(request, form, draft, cstruct, failure, problems: dict):
    """The form again: each problem beside its field (a refused file is not kept: the person
    chooses it again), the other files kept; nothing stored, the refusal logged."""
    request.tm.doom()  # the records service may have flushed rows before it refused
    translate = request.localizer.translate
    chosen = {path: data.get("filename") or "" for path, data in chosen_files(cstruct)}
    for path, data in chosen_files(cstruct):
        if path in problems:
            draft.forget(data["uid"])
            drop_file(form, cstruct, path)
        else:
            draft.keep(data["uid"])
    messages, summary = {}, []
    for path, error in problems.items():
        reason = translate(error_message(error))
        summary.append((problem_label(path or error.field, translate), reason))
        if not path:
            continue
        if path in chosen:
            reason = translate(
                _(
                    "${filename} was not kept: ${reason} Choose a file again.",
                    mapping={"filename": chosen[path], "reason": reason},
                )
            )
        messages[path] = reason
    shown = refusal(form, cstruct, messages)
    first = next(iter(problems.values()), None)
    request.response.status = first.status if failure is None and first is not None else 422
    detail = (f"{first.status} {first.code}: {first.detail}" if failure is None and first
              else "422 invalid: the form")  # fmt: skip
    log_after_request(request, "file", AccessOutcome.REFUSED, detail=f"{detail} (web)"[:500])
    return {"form": shown.render(), "resources": form.get_widget_resources(), "error": None,
            "summary": summary, "marked": failure is not None}  # fmt: skip


def problem_label(path: str | None, translate) -> str:
    """What the error summary calls a field (`attachments.1` is "Attachment 2")."""
    head, _sep, index = (path or "").partition(".")
    if head == "attachments" and index.isdigit():
        return f"{translate(label(DocumentKind.ATTACHMENT))} {int(index) + 1}"
    return translate(field_label(path))


def close_form_uploads(request):
    """WebOb spools the body and each upload to temporary files; close them when done."""
    for value in request.POST.values():
        handle = getattr(value, "file", None)
        if handle is not None:
            handle.close()
    request.body_file_raw.close()


@view_config(route_name="records.detail", request_method="GET",
             renderer="archive_app:templates/records/detail.pt",
             permission=Permission.READ_DOSSIERS)  # fmt: skip
def show_dossier(request):
    gone = request.context.dossier
    if gone is not None and gone.state == DossierState.DESTROYED:
        return tombstone_page(request, gone)
    dossier = living_dossier(request, request.context)
    log_now(request, "view", dossier=dossier, detail="web")
    filed = [number for number in request.session.pop_flash(FILED_QUEUE)
             if number == dossier.complaint_no]  # fmt: skip
    appended = request.session.pop_flash(APPENDED_QUEUE)
    message = None
    if filed:
        message = _("Dossier ${number} filed", mapping={"number": filed[0]})
    elif appended:
        message = _("${count} document(s) appended", mapping={"count": appended[0]})
    return dossier_page(request, dossier, message=message)


def dossier_page(request, dossier, *, message=None, append_errors=None) -> dict:
    """What the dossier page shows; its sections only for the roles they are for."""
    unmasked = bool(request.has_permission(Permission.SEE_PERSONAL_DATA))
    service = records(request)
    may_see_holds = bool(request.has_permission(Permission.MANAGE_RETENTION))
    return {
        "dossier": as_object(service.as_json(dossier, unmasked=unmasked)),
        "retention_rule": dossier.retention_rule,
        "can_download": bool(request.has_permission(Permission.DOWNLOAD_DOCUMENTS)),
        "previews": shown_previews(request, dossier),
        "filed_message": message,
        # -- the dossier's history and the archivist's append form (records/appending.py)
        "holds": service.policy.holds_of(service.session, dossier.id) if may_see_holds else None,
        "corrections": corrections_of(request, dossier),
        "can_append": bool(request.has_permission(Permission.FILE_DOSSIERS)),
        "append_kinds": APPEND_KINDS,
        "append_errors": append_errors or {},
        "csrf_token": get_csrf_token(request),
        "who_saw_it": request.route_url("access.log", _query={"dossier_id": dossier.id})
        if request.has_permission(Permission.REVIEW_ACCESS_LOG) else None,
    }  # fmt: skip


def corrections_of(request, dossier) -> list[dict]:
    """The dossier's retention corrections, oldest first, each change in words."""
    translate = request.localizer.translate
    rows = request.dbsession.scalars(
        select(DossierCorrection)
        .where(DossierCorrection.dossier_id == dossier.id)
        .order_by(DossierCorrection.changed_at, DossierCorrection.id)
    )
    return [
        as_object({
            "changed_at": row.changed_at, "changed_by": row.changed_by, "reason": row.reason,
            "changes": [(change_label(name, translate), old, new)
                        for name, (old, new) in (row.changes or {}).items()],
        })
        for row in rows
    ]  # fmt: skip  # fmt: skip


def change_label(name: str, translate) -> str:
    """`destroy_after`, `closed_on`, `<batch>.expiry` in the page's language."""
    if name == "destroy_after":
        return translate(_("Destroy after"))
    batch, _sep, what = name.rpartition(".")
    if batch:
        return f"{translate(field_label('batch_no'))} {batch}: {translate(field_label(what))}"
    return translate(field_label(name))


@view_config(route_name="records.detail", request_method="POST",
             renderer="archive_app:templates/records/detail.pt",
             permission=Permission.FILE_DOSSIERS)  # fmt: skip
def append_documents(request):
    """Append documents from the dossier page through the records service (as the API's
    `POST …/documents`); a refusal shows the page again with the error beside its input."""
    request.add_finished_callback(close_form_uploads)
    dossier = living_dossier(request, request.context)
    service = records(request)
    uploads = appended_uploads(request.POST, storage_dir(request.registry.settings) / "tmp")
    try:
        problems = file_problems(uploads, service.max_upload_bytes)
        if not uploads:
            problems[""] = Invalid(_("choose at least one file to append"), field="documents")
        if not problems:
            try:
                added = service.append_documents(dossier, list(uploads.values()),
                                                 request.user.username)  # fmt: skip
            except ArchiveError as error:
                problems[error.field or ""] = error
    finally:
        for upload in uploads.values():
            upload.path.unlink(missing_ok=True)
    if problems:
        return refused_append(request, dossier, uploads, problems)
    log_in_transaction(request, "append", dossier=dossier, detail=f"{len(added)} documents (web)")
    request.session.flash(len(added), APPENDED_QUEUE)
    return HTTPSeeOther(request.route_url("records.detail", dossier_id=dossier.id))


def refused_append(request, dossier, uploads: dict, problems: dict) -> dict:
    """The dossier page again, each problem beside the input it concerns; nothing stored."""
    request.tm.doom()
    first = next(iter(problems.values()))
    request.response.status = first.status
    detail = f"{first.status} {first.code}: {first.detail} (web)"[:500]
    log_after_request(request, "append", AccessOutcome.REFUSED, detail=detail)
    translate = request.localizer.translate
    errors: dict[str, str] = {}
    for path, error in problems.items():
        reason = translate(error_message(error))
        upload = uploads.get(path)
        if upload is not None:
            mapping = {"filename": upload.filename, "reason": reason}
            reason = translate(_("${filename} was not appended: ${reason} Choose a file again.",
                                 mapping=mapping))  # fmt: skip
        key = input_of(path) if input_of(path) in APPEND_KINDS else ""
        errors[key] = " ".join(filter(None, (errors.get(key), reason)))
    return dossier_page(request, dossier, append_errors=errors)


def tombstone_page(request, dossier):
    """What a destroyed dossier leaves: its tombstone and its certificate, still 410 Gone."""
    log_now(request, "view", dossier=dossier, detail="tombstone (web)")
    response = render_to_response("archive_app:templates/records/tombstone.pt", {
        "dossier": dossier,
        "can_read_certificate": bool(request.has_permission(Permission.READ_CERTIFICATES)),
    }, request=request)  # fmt: skip
    response.status = 410
    return response


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
