"""The records manager's page: what is due, holds, runs and certificates (`/retention`)."""

from __future__ import annotations

from pyramid.csrf import get_csrf_token
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from ..access.audit import log_in_transaction, log_now
from ..access.permissions import Permission
from ..errors import ArchiveError, NotFound
from ..interfaces import IClock, IRecordsService
from ..records.resources import DossierContext
from .api import parse_date, purge_index
from .models import Certificate, Hold, RetentionRun
from .runner import destroyer_for
from .services import due_dossiers, place_hold, release_hold


def page_values(request, message=None, error=None) -> dict:
    session = request.dbsession
    clock = request.find_service(IClock)
    as_of = parse_date(request.GET.get("as_of"), "as_of") or clock.today()
    holds = session.scalars(
        select(Hold).where(Hold.released_at.is_(None)).order_by(Hold.placed_at.desc())
    ).all()
    records = request.find_service(IRecordsService)
    return {
        "as_of": as_of,
        "due": due_dossiers(session, as_of),
        "holds": [(hold, records.get(hold.dossier_id)) for hold in holds],
        "runs": session.scalars(select(RetentionRun).order_by(RetentionRun.started_at.desc())
                                .limit(20)).all(),
        "certificates": session.scalars(select(Certificate).order_by(
            Certificate.position.desc()).limit(50)).all(),
        "csrf_token": get_csrf_token(request),
        "message": message,
        "error": error,
    }  # fmt: skip


@view_config(route_name="retention.page", request_method="GET",
             renderer="archive_app:templates/retention/page.pt",
             permission=Permission.MANAGE_RETENTION)  # fmt: skip
def retention_page(request):
    log_now(request, "retention_due", detail="retention page")
    return page_values(request)


@view_config(route_name="retention.page", request_method="POST",
             renderer="archive_app:templates/retention/page.pt",
             permission=Permission.MANAGE_RETENTION)  # fmt: skip
def retention_action(request):
    action = request.POST.get("action")
    try:
        if action == "hold":
            message = _hold(request)
        elif action == "release":
            message = _release(request)
        elif action == "run":
            message = _run(request)
        else:
            raise NotFound("unknown action", field="action")
    except ArchiveError as error:
        request.tm.doom()
        request.response.status = error.status
        return page_values(request, error=error)
    if action == "run":
        return page_values(request, message=message)
    return HTTPSeeOther(request.route_url("retention.page"))


def _dossier_by_number(request):
    number = request.POST.get("complaint_no", "").strip()[:64]
    dossier = request.find_service(IRecordsService).find_by_complaint_no(number)
    if dossier is None or not request.has_permission(
        Permission.MANAGE_RETENTION, DossierContext(request, dossier)
    ):
        raise NotFound(f"no dossier {number}", field="complaint_no")
    return dossier


def _hold(request) -> str:
    dossier = _dossier_by_number(request)
    now = request.find_service(IClock).now()
    hold = place_hold(request.dbsession, dossier, request.POST.get("reason"),
                      request.user.username, now)  # fmt: skip
    log_in_transaction(request, "hold", dossier=dossier, detail=hold.reason)
    return f"hold placed on {dossier.complaint_no}"


def _release(request) -> str:
    dossier = _dossier_by_number(request)
    try:
        hold_id = int(request.POST.get("hold_id", ""))
    except ValueError:
        raise NotFound("no such hold", field="hold_id") from None
    now = request.find_service(IClock).now()
    hold = release_hold(request.dbsession, dossier, hold_id, request.POST.get("reason"),
                        request.user.username, now)  # fmt: skip
    log_in_transaction(request, "release", dossier=dossier, detail=hold.release_reason)
    return f"hold released on {dossier.complaint_no}"


def _run(request) -> str:
    as_of = parse_date(request.POST.get("as_of"), "as_of")
    dry_run = request.POST.get("dry_run") == "on"
    result = destroyer_for(request, request.user.role, purge_index(request)).run(
        as_of, dry_run, request.user.username
    )
    verb = "would destroy" if dry_run else "destroyed"
    listed = ", ".join(result.destroyed) or "nothing"
    return f"{verb}: {listed}; held: {', '.join(result.skipped_held) or 'none'}"
