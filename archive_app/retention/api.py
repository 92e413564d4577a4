"""The retention endpoints: holds, the due list, runs and certificates (JSON API)."""

from __future__ import annotations

import json
from datetime import date

from pyramid.response import Response
from pyramid.view import view_config

from ..access.audit import log_in_transaction, log_now
from ..access.permissions import Permission
from ..errors import Invalid, NotFound
from ..interfaces import IClock
from ..payloads import json_object
from ..records.api import living_dossier
from .certificates import render_pdf
from .models import Certificate
from .runner import destroyer_for
from .services import due_dossiers, hold_json, place_hold, release_hold


def parse_date(value, field: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        raise Invalid(f"{field} must be a date as YYYY-MM-DD", field=field) from None


def purge_index(request):
    """Removes a dossier's entries from the search index (none are kept yet: see search/)."""
    return getattr(request.registry, "purge_search_index", lambda ids: None)


@view_config(route_name="api.dossier.holds", request_method="POST", renderer="json",
             permission=Permission.MANAGE_RETENTION, require_csrf=False)  # fmt: skip
def add_hold(request):
    dossier = living_dossier(request, request.context)
    hold = place_hold(request.dbsession, dossier, json_object(request, empty_ok=True).get("reason"),
                      request.user.username, request.find_service(IClock).now())  # fmt: skip
    log_in_transaction(request, "hold", dossier=dossier, detail=hold.reason)
    request.response.status = 201
    return {key: value for key, value in hold_json(hold).items() if not key.startswith("rel")}


@view_config(route_name="api.dossier.hold", request_method="DELETE", renderer="json",
             permission=Permission.MANAGE_RETENTION, require_csrf=False)  # fmt: skip
def remove_hold(request):
    dossier = living_dossier(request, request.context)
    try:
        hold_id = int(request.matchdict["hold_id"])
    except ValueError:
        raise NotFound("no such hold on this dossier", field="hold_id") from None
    reason = json_object(request, empty_ok=True).get("reason")
    now = request.find_service(IClock).now()
    hold = release_hold(request.dbsession, dossier, hold_id, reason, request.user.username, now)
    log_in_transaction(request, "release", dossier=dossier, detail=hold.release_reason)
    return hold_json(hold)


@view_config(route_name="api.retention.due", request_method="GET", renderer="json",
             permission=Permission.MANAGE_RETENTION)  # fmt: skip
def list_due(request):
    as_of = parse_date(request.GET.get("as_of"), "as_of") or request.find_service(IClock).today()
    results = [
        {"id": d.id, "complaint_no": d.complaint_no, "destroy_after": d.destroy_after.isoformat(),
         "held": held}
        for d, held in due_dossiers(request.dbsession, as_of)
    ]  # fmt: skip
    log_now(request, "retention_due", detail=f"as of {as_of}: {len(results)} due")
    return {"results": results}


@view_config(route_name="api.retention.runs", request_method="POST", renderer="json",
             permission=Permission.MANAGE_RETENTION, require_csrf=False)  # fmt: skip
def start_run(request):
    body = json_object(request, empty_ok=True)
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise Invalid("dry_run must be true or false", field="dry_run")
    as_of = parse_date(body.get("as_of"), "as_of")
    destroyer = destroyer_for(request, request.user.role, purge_index(request))
    result = destroyer.run(as_of, dry_run, request.user.username)
    request.response.status = 201
    return result.as_json()


def certificate_row(request) -> Certificate:
    row = request.dbsession.get(Certificate, request.matchdict["certificate_id"][:32])
    if row is None:
        raise NotFound("no such certificate", field="certificate_id")
    return row


@view_config(route_name="api.retention.certificate", request_method="GET",
             permission=Permission.READ_CERTIFICATES)  # fmt: skip
def show_certificate(request):
    row = certificate_row(request)
    log_now(request, "certificate", detail=f"certificate {row.id} (json)")
    return Response(body=row.body.encode("utf-8"), content_type="application/json",
                    charset="utf-8")  # fmt: skip


@view_config(route_name="api.retention.certificate.pdf", request_method="GET",
             permission=Permission.READ_CERTIFICATES)  # fmt: skip
def certificate_pdf(request):
    row = certificate_row(request)
    log_now(request, "certificate", detail=f"certificate {row.id} (pdf)")
    response = Response(body=render_pdf(json.loads(row.body)), content_type="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="certificate-{row.id}.pdf"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
