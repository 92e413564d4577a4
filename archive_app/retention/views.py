"""The records manager's page: what is due, holds, runs and certificates (`/retention`)."""

from __future__ import annotations

from pyramid.csrf import get_csrf_token
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationString, TranslationStringFactory
from pyramid.view import view_config
from sqlalchemy import select

from ..access.audit import log_in_transaction, log_now
from ..access.permissions import Permission
from ..dates import parse_date
from ..errors import ArchiveError, NotFound
from ..interfaces import IClock, IRecordsService
from ..labels import NO, YES
from ..records.resources import DossierContext
from .api import caller, proposal_json, purge_index, query_scope, readable_numbers
from .holds import (
    NOTHING_COVERED,
    place_hold,
    place_query_hold,
    readable_coverage,
    release_hold,
    visible_holds,
)
from .models import (
    Certificate,
    Hold,
    ProposalDecision,
    ProposalState,
    RetentionProposal,
    RetentionRun,
)
from .runner import destroyer_for
from .services import due_dossiers

_ = TranslationStringFactory("archive")


def page_values(request, message=None, error=None) -> dict:
    session = request.dbsession
    clock = request.find_service(IClock)
    as_of = parse_date(request.GET.get("as_of"), "as_of") or clock.today()
    identity = caller(request)
    return {
        "as_of": as_of,
        "due": due_dossiers(session, as_of, identity),
        "holds": visible_holds(session, identity, active_only=True),
        "proposals": [proposal_json(request, row) for row in session.scalars(
            select(RetentionProposal).where(RetentionProposal.state == ProposalState.PROPOSED)
            .order_by(RetentionProposal.proposed_at))],
        "runs": [run_view(session, run, identity) for run in session.scalars(
            select(RetentionRun).order_by(RetentionRun.started_at.desc()).limit(20))],
        "certificates": session.scalars(select(Certificate).order_by(
            Certificate.position.desc()).limit(50)).all(),
        "csrf_token": get_csrf_token(request),
        "message": message,
        "error": error,
        "yes": YES, "no": NO, "reason_hint": _("reason"),
        "value_hint": _("Complaint number, product or batch"),
    }  # fmt: skip


def run_view(session, run: RetentionRun, identity) -> dict:
    """A past run as the reader may see it: numbers above their clearance left out."""
    shown = readable_numbers(session, [*run.destroyed, *run.skipped_held], identity)
    return {"started_at": run.started_at, "as_of": run.as_of, "dry_run": run.dry_run,
            "operator": run.operator,
            "destroyed": [number for number in run.destroyed if number in shown],
            "skipped_held": [number for number in run.skipped_held if number in shown]}  # fmt: skip


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
        elif action in list(ProposalDecision):
            message = _decide(request, action)
        else:
            raise NotFound(_("unknown action"), field="action")
    except ArchiveError as error:
        request.tm.doom()
        request.response.status = error.status
        return page_values(request, error=error)
    if action == "run" or action in list(ProposalDecision) or isinstance(message, list):
        return page_values(request, message=message)  # a result, or a hold's warning
    return HTTPSeeOther(request.route_url("retention.page"))


def _dossier_by_number(request, number: str):
    number = number[:64]
    dossier = request.find_service(IRecordsService).readable_by_complaint_no(
        number, caller(request)
    )
    _check_clearance(request, dossier, number)
    return dossier


def _check_clearance(request, dossier, number: str = "") -> None:
    if dossier is None or not request.has_permission(
        Permission.MANAGE_RETENTION, DossierContext(request, dossier)
    ):
        raise NotFound(f"no dossier {number}".strip(), field="complaint_no")


def _scope_words(hold) -> TranslationString:
    """What a query hold covers, as the page says it (`query_scope` is the log's English)."""
    if hold.product_name:
        return _("Hold placed on every dossier of product ${name}.",
                 mapping={"name": hold.product_name})  # fmt: skip
    return _("Hold placed on every dossier of batch ${number}.", mapping={"number": hold.batch_no})


def _numbers(numbers) -> str:
    return ", ".join(numbers)


def _hold(request) -> TranslationString | list[TranslationString]:
    """On one dossier (by complaint number), or by query on a product or a batch."""
    records = request.find_service(IRecordsService)
    now, by, reason = request.find_service(IClock).now(), request.user.username, \
        request.POST.get("reason")  # fmt: skip
    scope = request.POST.get("scope", "complaint_no")
    value = request.POST.get("value", request.POST.get("complaint_no", "")).strip()
    if scope in ("product_name", "batch_no"):
        hold = place_query_hold(records, {scope: value or None}, reason, by, now)
        log_in_transaction(request, "hold", detail=f"{query_scope(hold)}: {hold.reason}")
        if not readable_coverage(request.dbsession, hold, caller(request)):
            return [_scope_words(hold), NOTHING_COVERED]  # shown on the page, not redirected
        return _scope_words(hold)
    dossier = _dossier_by_number(request, value)
    hold = place_hold(records, dossier, reason, by, now)
    log_in_transaction(request, "hold", dossier=dossier, detail=hold.reason)
    return _("Hold placed on ${number}.", mapping={"number": dossier.complaint_no})


def _release(request) -> TranslationString:
    try:
        hold_id = int(request.POST.get("hold_id", ""))
    except ValueError:
        raise NotFound(_("no such hold"), field="hold_id") from None
    hold = request.dbsession.get(Hold, hold_id)
    if hold is None:
        raise NotFound(_("no such hold"), field="hold_id")
    dossier = None
    if hold.dossier_id is not None:
        dossier = request.find_service(IRecordsService).get(hold.dossier_id)
        _check_clearance(request, dossier)
    now = request.find_service(IClock).now()
    hold = release_hold(request.find_service(IRecordsService), hold_id,
                        request.POST.get("reason"), request.user.username, now,
                        dossier=dossier, identity=caller(request))  # fmt: skip
    log_in_transaction(request, "release", dossier=dossier, detail=hold.release_reason)
    if dossier is not None:
        return _("Hold released on ${number}.", mapping={"number": dossier.complaint_no})
    if hold.product_name:
        return _("Hold released on every dossier of product ${name}.",
                 mapping={"name": hold.product_name})  # fmt: skip
    return _("Hold released on every dossier of batch ${number}.",
             mapping={"number": hold.batch_no})  # fmt: skip


def _decide(request, decision: str) -> list[TranslationString]:
    destroyer = destroyer_for(request, caller(request), purge_index(request))
    proposal_id = request.POST.get("proposal_id", "")
    if decision == ProposalDecision.REJECT:
        destroyer.reject(proposal_id, request.user.username)
        return [_("The proposal was rejected; nothing was destroyed.")]
    result = destroyer.approve(proposal_id, request.user.username)
    return [_destroyed(result.destroyed, would=False)]


def _destroyed(numbers, would: bool) -> TranslationString:
    if not numbers:
        return _("Nothing would be destroyed.") if would else _("Nothing was destroyed.")
    mapping = {"count": len(numbers), "numbers": _numbers(numbers)}
    if would:
        return _("Would destroy ${count}: ${numbers}.", mapping=mapping)
    return _("Destroyed ${count}: ${numbers}.", mapping=mapping)


def _run(request) -> list[TranslationString]:
    as_of = parse_date(request.POST.get("as_of"), "as_of")
    dry_run = request.POST.get("dry_run") == "on"
    result = destroyer_for(request, caller(request), purge_index(request)).run(
        as_of, dry_run, request.user.username
    )
    if result.proposal_id:
        return [_("Proposed for approval: ${numbers}.",
                  mapping={"numbers": _numbers(result.proposed)})]  # fmt: skip
    message = [_destroyed(result.destroyed, would=dry_run)]
    if result.skipped_held:
        message.append(_("Kept under hold: ${numbers}.",
                         mapping={"numbers": _numbers(result.skipped_held)}))  # fmt: skip
    return message
