"""The records manager's page: what is due, holds, runs and certificates (`/retention`)."""

from __future__ import annotations

import hashlib
from functools import partial

from pyramid.csrf import get_csrf_token
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationString, TranslationStringFactory
from pyramid.view import view_config
from sqlalchemy import func, select

from ..access.audit import log_in_transaction, log_now
from ..access.permissions import Permission
from ..access.signatures import SignatureMeaning, SignatureRequest, checked_signature
from ..dates import parse_date
from ..errors import Invalid, NotFound
from ..interfaces import IClock, IDatabase, IRecordsService
from ..labels import NO, YES
from ..pages import chosen_step, shows_refusals
from ..records.resources import DossierContext
from .api import (
    caller,
    proposal_json,
    purge_index,
    query_scope,
    readable_numbers,
    sign_approval,
    signed_release,
)
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
from .paging import pager
from .runner import destroyer_for
from .services import due_dossiers
from .signing import recent_signatures, run_signatures

_ = TranslationStringFactory("archive")


DUE_PER_PAGE = 50
RUNS_PER_PAGE = 20


def page_values(request, message=None, error=None, *, dry_run=None, certificate_id=None) -> dict:
    session = request.dbsession
    clock = request.find_service(IClock)
    as_of = parse_date(request.GET.get("as_of"), "as_of") or clock.today()
    identity = caller(request)
    due = due_dossiers(session, as_of, identity)
    due_pager = pager(request.GET.get("due_page"), DUE_PER_PAGE, len(due))
    runs_pager = pager(request.GET.get("runs_page"), RUNS_PER_PAGE,
                       session.scalar(select(func.count()).select_from(RetentionRun)))  # fmt: skip
    runs = session.scalars(select(RetentionRun).order_by(
        RetentionRun.started_at.desc(), RetentionRun.id)
        .offset(runs_pager.offset).limit(runs_pager.size))  # fmt: skip
    return {
        "as_of": as_of,
        "due": [due_row(dossier, held) for dossier, held in due_pager.slice(due)],
        "due_pager": due_pager,
        "due_total": _("${count} due, ${held} of them under hold.",
                       mapping={"count": len(due), "held": sum(held for _d, held in due)}),
        "holds": visible_holds(session, identity, active_only=True),
        "proposals": [proposal_json(request, row) for row in session.scalars(
            select(RetentionProposal).where(RetentionProposal.state == ProposalState.PROPOSED)
            .order_by(RetentionProposal.proposed_at))],
        "runs": with_signatures(session, [run_view(session, run, identity) for run in runs]),
        "signatures": recent_signatures(session, identity),
        "meanings": list(SignatureMeaning),
        "runs_pager": runs_pager,
        "certificates": session.scalars(select(Certificate).order_by(
            Certificate.position.desc()).limit(50)).all(),
        "csrf_token": get_csrf_token(request),
        "message": message,
        "error": error,
        "dry_run": dry_run,
        "certificate_id": certificate_id,
        "page_url": lambda **query: page_url(request, as_of, **query),
        "yes": YES, "no": NO, "reason_hint": _("reason"),
        "value_hint": _("Complaint number, product or batch"),
    }  # fmt: skip


def page_url(request, as_of, **query) -> str:
    """The page again with one list turned to another page, the other list where it was."""
    kept = {name: request.GET[name] for name in ("due_page", "runs_page") if name in request.GET}
    return request.route_url("retention.page", _query={"as_of": as_of.isoformat(), **kept,
                                                       **query})  # fmt: skip


def due_row(dossier, held: bool) -> dict:
    return {"id": dossier.id, "complaint_no": dossier.complaint_no, "title": dossier.title,
            "products": [(p.name, p.batch_no) for p in dossier.products],
            "destroy_after": dossier.destroy_after, "rule": dossier.retention_rule,
            "held": held}  # fmt: skip


def run_view(session, run: RetentionRun, identity) -> dict:
    """A past run as the reader may see it: numbers above their clearance left out."""
    shown = readable_numbers(session, [*run.destroyed, *run.skipped_held], identity)
    return {"id": run.id, "started_at": run.started_at, "as_of": run.as_of,
            "dry_run": run.dry_run,
            "operator": run.operator, "certificate_id": run.certificate_id,
            "destroyed": [number for number in run.destroyed if number in shown],
            "skipped_held": [number for number in run.skipped_held if number in shown]}  # fmt: skip


def with_signatures(session, runs: list[dict]) -> list[dict]:
    """Each run with the signatures of the approval that made it (approval mode)."""
    signed = run_signatures(session, [run["id"] for run in runs])
    return [run | {"signatures": signed.get(run["id"], [])} for run in runs]


@view_config(route_name="retention.page", request_method="GET",
             renderer="archive_app:templates/retention/page.pt",
             permission=Permission.MANAGE_RETENTION)  # fmt: skip
def retention_page(request):
    log_now(request, "retention_due", detail="retention page")
    return page_values(request)


@view_config(route_name="retention.page", request_method="POST",
             renderer="archive_app:templates/retention/page.pt",
             permission=Permission.MANAGE_RETENTION)  # fmt: skip
@shows_refusals(lambda request, error: page_values(request, error=error))
def retention_action(request):
    step = chosen_step(request, {
        "hold": _hold, "release": _release, "run": _run, "confirm_run": _confirmed_run,
        **{decision: partial(_decide, decision=decision) for decision in ProposalDecision},
    })  # fmt: skip
    answer = step(request)
    if isinstance(answer, dict):  # a run's page: its confirmation, or what it did
        return answer
    if isinstance(answer, list):  # sentences the page says: a decision, a hold's warning
        return page_values(request, message=answer)
    return HTTPSeeOther(request.route_url("retention.page"))  # the lists show what changed


def _run(request) -> dict:
    """A dry run at once; a real one asks for confirmation first (`_confirmed_run`)."""
    return _dry_run(request) if request.POST.get("dry_run") == "on" else confirmation(request)


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
    signed = checked_signature(request, SignatureRequest.from_form(request.POST),
                               SignatureMeaning.RELEASE_HOLD, f"hold {hold_id}")  # fmt: skip
    now = request.find_service(IClock).now()
    hold = release_hold(request.find_service(IRecordsService), hold_id,
                        request.POST.get("reason"), request.user.username, now,
                        dossier=dossier, identity=caller(request))  # fmt: skip
    log_in_transaction(request, "release", dossier=dossier, detail=hold.release_reason)
    signed_release(request, signed, hold, dossier)
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
    signed = checked_signature(request, SignatureRequest.from_form(request.POST),
                               SignatureMeaning.APPROVE_DESTRUCTION,
                               f"proposal {proposal_id[:32]}")  # fmt: skip
    result = destroyer.approve(proposal_id, request.user.username)
    sign_approval(request, signed, proposal_id)
    return [_destroyed(result.destroyed, would=False)]


def _destroyed(numbers, would: bool) -> TranslationString:
    if not numbers:
        return _("Nothing would be destroyed.") if would else _("Nothing was destroyed.")
    mapping = {"count": len(numbers), "numbers": _numbers(numbers)}
    if would:
        return _("Would destroy ${count}: ${numbers}.", mapping=mapping)
    return _("Destroyed ${count}: ${numbers}.", mapping=mapping)


def _dry_run(request) -> dict:
    """What a run would destroy, shown apart from destructions (nothing is destroyed)."""
    as_of = parse_date(request.POST.get("as_of"), "as_of")
    result = destroyer_for(request, caller(request), purge_index(request)).run(
        as_of, True, request.user.username
    )
    dry_run = {"as_of": result.as_of, "numbers": result.destroyed, "held": result.skipped_held,
               "summary": _destroyed(result.destroyed, would=True)}  # fmt: skip
    return page_values(request, dry_run=dry_run)


def confirmation(request, as_of=None, error: TranslationString | None = None) -> dict:
    """The second step of a real run: how many dossiers it will destroy, and which. The form
    carries what it showed (the date, the count and a fingerprint of the list), so the
    confirmation destroys nothing the person did not see."""
    clock = request.find_service(IClock)
    as_of = as_of or parse_date(request.POST.get("as_of"), "as_of") or clock.today()
    if as_of > clock.today():
        raise Invalid(_("as_of may be later than today only for a dry run"), field="as_of")
    to_destroy, held = due_for_run(request, as_of)
    if not to_destroy:
        message = [_destroyed([], would=False)]
        if held:
            numbers = _numbers(row["complaint_no"] for row in held)
            message.append(_("Kept under hold: ${numbers}.", mapping={"numbers": numbers}))
        return page_values(request, message=message)
    # In this request's transaction: a POST's session holds SQLite's write lock already.
    detail = f"confirmation asked: {len(to_destroy)} to destroy as of {as_of}"
    log_in_transaction(request, "retention_due", detail=detail)
    request.override_renderer = "archive_app:templates/retention/confirm.pt"
    return {"as_of": as_of, "to_destroy": to_destroy, "held": held, "error": error,
            "fingerprint": list_fingerprint(to_destroy), "csrf_token": get_csrf_token(request),
            "count": _("${count} dossier(s) will be destroyed as of ${as_of}.",
                       mapping={"count": len(to_destroy), "as_of": as_of.isoformat()})}  # fmt: skip


def due_for_run(request, as_of, session=None) -> tuple[list[dict], list[dict]]:
    """What a run as of that day destroys, and what it keeps under hold (clearance-trimmed)."""
    rows = [due_row(d, held) for d, held in due_dossiers(session or request.dbsession, as_of,
                                                         caller(request))]  # fmt: skip
    return [row for row in rows if not row["held"]], [row for row in rows if row["held"]]


def list_fingerprint(rows) -> str:
    return hashlib.sha256("\n".join(sorted(row["id"] for row in rows)).encode()).hexdigest()


def _confirmed_run(request):
    as_of = parse_date(request.POST.get("as_of"), "as_of")
    if as_of is None:
        raise Invalid(_("the date to run as of is missing"), field="as_of")
    # Read on a session of its own, ended before the run: on SQLite this request's session
    # takes the write lock at its first statement, and the run writes on sessions of its own.
    with request.find_service(IDatabase).read() as session:
        to_destroy, _held = due_for_run(request, as_of, session)
    shown_count = request.POST.get("expected_count", "")
    if (shown_count != str(len(to_destroy))
            or request.POST.get("expected") != list_fingerprint(to_destroy)):  # fmt: skip
        # Something became due, was held or was destroyed since the person looked: show the
        # list as it is now and ask again; nothing is destroyed.
        request.response.status = 409
        changed = _("The list changed since you looked (${shown} shown, ${now} now): check it "
                    "again and confirm.", mapping={"shown": shown_count[:9] or "?",
                                                    "now": len(to_destroy)})  # fmt: skip
        return confirmation(request, as_of, error=changed)
    result = destroyer_for(request, caller(request), purge_index(request)).run(
        as_of, False, request.user.username, only={row["id"] for row in to_destroy}
    )
    if result.proposal_id:
        message = [_("Proposed for approval: ${numbers}.",
                     mapping={"numbers": _numbers(result.proposed)})]  # fmt: skip
    else:
        message = [_destroyed(result.destroyed, would=False)]
    if result.skipped_held:
        message.append(_("Kept under hold: ${numbers}.",
                         mapping={"numbers": _numbers(result.skipped_held)}))  # fmt: skip
    return page_values(request, message=message, certificate_id=result.certificate_id)
