"""The retention endpoints: holds, the due list, runs and certificates (JSON API)."""

from __future__ import annotations

import json

from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select

from ..access.audit import log_in_transaction, log_now
from ..access.permissions import Permission
from ..access.signatures import (
    SignatureMeaning,
    SignatureRequest,
    SignedKind,
    checked_signature,
    keep_signature,
    signature_json,
    signature_matches,
    signatures_of,
)
from ..attachments import attachment
from ..errors import NotFound
from ..interfaces import IClock, IIndexer, IRecordsService
from ..payloads import json_object
from ..records.api import living_dossier
from ..records.clearance import identity_of, readable
from ..records.models import Dossier, DossierCorrection
from ..records.serializers import describe_rule
from ..validation import validated
from .certificates import render_pdf
from .corrections import correct_retention_data, correction_json, describe_changes
from .holds import (
    NOTHING_COVERED,
    hold_json,
    list_holds,
    place_hold,
    place_query_hold,
    readable_coverage,
    release_hold,
)
from .models import Certificate, Hold, ProposalDecision, RetentionProposal
from .runner import destroyer_for
from .schemas import (
    CorrectionBody,
    DecisionBody,
    DueQuery,
    HoldsQuery,
    QueryHoldBody,
    ReasonBody,
    ReleaseBody,
    RunBody,
)
from .services import due_dossiers
from .signing import correction_content, proposal_content, release_content, run_signatures

CHUNK = 500  # values per IN (...) list: well inside every database's parameter limit


def caller(request):
    """The signed-in user as an identity for records/clearance.py."""
    return identity_of(request.user)


def readable_numbers(session, numbers, identity) -> set[str]:
    """Which of these complaint numbers name dossiers the identity may read (the row stays
    after destruction, with its level, so old runs are narrowed as living ones are)."""
    numbers, found = list(numbers), set()
    for start in range(0, len(numbers), CHUNK):
        query = select(Dossier.complaint_no).where(
            Dossier.complaint_no.in_(numbers[start : start + CHUNK])
        )
        found.update(session.scalars(readable(query, identity)))
    return found


def purge_index(request):
    """Removes destroyed dossiers' entries from the search index (a process without search
    has none to remove)."""
    indexer = request.registry.queryUtility(IIndexer)
    return indexer.purge if indexer is not None else lambda ids: None


@view_config(route_name="api.dossier.holds", request_method="POST", renderer="json",
             permission=Permission.MANAGE_RETENTION)  # fmt: skip
def add_hold(request):
    dossier = living_dossier(request, request.context)
    hold = place_hold(request.find_service(IRecordsService), dossier,
                      validated(ReasonBody(), json_object(request, empty_ok=True))["reason"],
                      request.user.username, request.find_service(IClock).now())  # fmt: skip
    log_in_transaction(request, "hold", dossier=dossier, detail=hold.reason)
    request.response.status = 201
    return {key: hold_json(hold)[key] for key in ("id", "reason", "placed_by", "placed_at")}


@view_config(route_name="api.dossier.hold", request_method="DELETE", renderer="json",
             permission=Permission.MANAGE_RETENTION)  # fmt: skip
def remove_hold(request):
    dossier = living_dossier(request, request.context)
    try:
        hold_id = int(request.matchdict["hold_id"])
    except ValueError:
        raise NotFound("no such hold on this dossier", field="hold_id") from None
    body = validated(ReleaseBody(), json_object(request, empty_ok=True))
    signed = checked_signature(request, SignatureRequest.from_body(body["signature"]),
                               SignatureMeaning.RELEASE_HOLD, f"hold {hold_id}")  # fmt: skip
    now = request.find_service(IClock).now()
    hold = release_hold(request.find_service(IRecordsService), hold_id, body["reason"],
                        request.user.username, now, dossier=dossier,
                        identity=caller(request))  # fmt: skip
    log_in_transaction(request, "release", dossier=dossier, detail=hold.release_reason)
    return signed_release(request, signed, hold, dossier)


def signed_release(request, signed, hold, dossier=None) -> dict:
    """The released hold, its signature (if one was given) kept over its release."""
    signature = keep_signature(request, signed, SignatureMeaning.RELEASE_HOLD,
                               SignedKind.HOLD_RELEASE, hold.id, release_content(hold),
                               dossier=dossier)  # fmt: skip
    return hold_json(hold) | ({"signature": signature_json(signature)} if signature else {})


def query_scope(hold) -> str:
    return f"product {hold.product_name}" if hold.product_name else f"batch {hold.batch_no}"


@view_config(route_name="api.holds", request_method="POST", renderer="json",
             permission=Permission.MANAGE_RETENTION)  # fmt: skip
def add_query_hold(request):
    """A hold on every dossier of a product or a batch, those filed later included."""
    body = validated(QueryHoldBody(), json_object(request))
    hold = place_query_hold(request.find_service(IRecordsService), body, body["reason"],
                            request.user.username, request.find_service(IClock).now())  # fmt: skip
    log_in_transaction(request, "hold", detail=f"{query_scope(hold)}: {hold.reason}")
    request.response.status = 201
    answer = hold_json(hold) | {"covers": readable_coverage(request.dbsession, hold,
                                                            caller(request))}  # fmt: skip
    if not answer["covers"]:
        answer["warning"] = NOTHING_COVERED.interpolate()  # English, as every API detail
    return answer


@view_config(route_name="api.holds", request_method="GET", renderer="json",
             permission=Permission.MANAGE_RETENTION)  # fmt: skip
def show_holds(request):
    """Every hold with its history; `?active=true` for those in force."""
    active = validated(HoldsQuery(), request.GET)["active"]
    holds = list_holds(request.dbsession, active_only=active == "true", identity=caller(request))
    log_now(request, "retention_due", detail=f"holds listed: {len(holds)}")
    signed = signatures_of(request.dbsession, SignedKind.HOLD_RELEASE, [h.id for h in holds])
    return {"results": [hold_json(hold) | with_signatures(signed.get(str(hold.id), []),
                                                          release_content(hold))
                        for hold in holds]}  # fmt: skip


def with_signatures(signatures, content) -> dict:
    """A record's signatures (none: nothing), each with whether the record still matches."""
    if not signatures:
        return {}
    return {"signatures": [signature_json(row, signature_matches(row, content))
                           for row in signatures]}  # fmt: skip


@view_config(route_name="api.hold", request_method="DELETE", renderer="json",
             permission=Permission.MANAGE_RETENTION)  # fmt: skip
def remove_query_hold(request):
    try:
        hold_id = int(request.matchdict["hold_id"])
    except ValueError:
        raise NotFound("no such hold", field="hold_id") from None
    hold = request.dbsession.get(Hold, hold_id)
    if hold is None or hold.dossier_id is not None:
        # Holds on one dossier are released through the dossier (its clearance applies).
        raise NotFound("no such hold by query", field="hold_id")
    body = validated(ReleaseBody(), json_object(request, empty_ok=True))
    signed = checked_signature(request, SignatureRequest.from_body(body["signature"]),
                               SignatureMeaning.RELEASE_HOLD, f"hold {hold_id}")  # fmt: skip
    now = request.find_service(IClock).now()
    hold = release_hold(request.find_service(IRecordsService), hold_id, body["reason"],
                        request.user.username, now, identity=caller(request))  # fmt: skip
    log_in_transaction(request, "release", detail=f"{query_scope(hold)}: {hold.release_reason}")
    return signed_release(request, signed, hold)


@view_config(route_name="api.retention.due", request_method="GET", renderer="json",
             permission=Permission.MANAGE_RETENTION)  # fmt: skip
def list_due(request):
    as_of = validated(DueQuery(), request.GET)["as_of"] or request.find_service(IClock).today()
    results = [
        {"id": d.id, "complaint_no": d.complaint_no, "destroy_after": d.destroy_after.isoformat(),
         "held": held}
        for d, held in due_dossiers(request.dbsession, as_of, caller(request))
    ]  # fmt: skip
    log_now(request, "retention_due", detail=f"as of {as_of}: {len(results)} due")
    return {"results": results}


@view_config(route_name="api.retention.runs", request_method="POST", renderer="json",
             permission=Permission.MANAGE_RETENTION)  # fmt: skip
def start_run(request):
    body = validated(RunBody(), json_object(request, empty_ok=True))
    destroyer = destroyer_for(request, caller(request), purge_index(request))
    result = destroyer.run(body["as_of"], body["dry_run"], request.user.username)
    # Approval mode: accepted, not done; the proposal waits for a second records manager.
    request.response.status = 202 if result.proposal_id else 201
    return result.as_json()


@view_config(route_name="api.retention.proposals", request_method="GET", renderer="json",
             permission=Permission.MANAGE_RETENTION)  # fmt: skip
def list_proposals(request):
    rows = request.dbsession.scalars(
        select(RetentionProposal).order_by(RetentionProposal.proposed_at.desc()).limit(100)
    )
    log_now(request, "retention_due", detail="retention proposals listed")
    return {"results": [proposal_json(request, row) for row in rows]}  # fmt: skip


def proposal_json(request, proposal: RetentionProposal) -> dict:
    """A proposal as the caller may see it: only the numbers they may read."""
    ids, numbers = list(proposal.dossier_ids), []
    for start in range(0, len(ids), CHUNK):
        query = select(Dossier.complaint_no).where(Dossier.id.in_(ids[start : start + CHUNK]))
        numbers += request.dbsession.scalars(readable(query, caller(request)))
    return {
        "id": proposal.id, "as_of": proposal.as_of.isoformat(), "state": proposal.state,
        "proposed_by": proposal.proposed_by, "proposed_at": proposal.proposed_at.isoformat(),
        "complaint_nos": sorted(numbers), "decided_by": proposal.decided_by,
        "decided_at": proposal.decided_at.isoformat() if proposal.decided_at else None,
        "run_id": proposal.run_id,
    }  # fmt: skip


@view_config(route_name="api.retention.proposal", request_method="POST", renderer="json",
             permission=Permission.MANAGE_RETENTION)  # fmt: skip
def decide_proposal(request):
    """`…/approve` destroys what the proposal lists (still due, not held); `…/reject`."""
    destroyer = destroyer_for(request, caller(request), purge_index(request))
    proposal_id = request.matchdict["proposal_id"]
    body = validated(DecisionBody(), json_object(request, empty_ok=True))  # reject: unsigned
    if request.matchdict["decision"] == ProposalDecision.APPROVE:
        signed = checked_signature(request, SignatureRequest.from_body(body["signature"]),
                                   SignatureMeaning.APPROVE_DESTRUCTION,
                                   f"proposal {proposal_id[:32]}")  # fmt: skip
        result = destroyer.approve(proposal_id, request.user.username)
        signature = sign_approval(request, signed, proposal_id)
        return result.as_json() | ({"signature": signature_json(signature)} if signature else {})
    if request.matchdict["decision"] == ProposalDecision.REJECT:
        rejected = destroyer.reject(proposal_id, request.user.username)
        return proposal_json(request, request.dbsession.get(RetentionProposal, rejected))
    raise NotFound("the decision is approve or reject", field="decision")


def sign_approval(request, signed, proposal_id: str):
    """Keep an approval's signature over the proposal it approved (once approve has
    committed: the destruction runs in transactions of its own)."""
    if signed is None:
        return None
    proposal = request.dbsession.get(RetentionProposal, proposal_id)
    return keep_signature(request, signed, SignatureMeaning.APPROVE_DESTRUCTION,
                          SignedKind.RETENTION_PROPOSAL, proposal.id,
                          proposal_content(proposal))  # fmt: skip


def certificate_row(request) -> Certificate:
    row = request.dbsession.get(Certificate, request.matchdict["certificate_id"][:32])
    if row is None:
        raise NotFound("no such certificate", field="certificate_id")
    return row


def opened_certificate(request, form: str) -> tuple[Certificate, dict | None]:
    """The certificate the route names and what of it the reader may see (`partial`, None
    for the signed original), the reading logged in that `form` (json, pdf)."""
    row = certificate_row(request)
    partial = partial_certificate(request, row)
    log_certificate_reading(request, row, partial, form)
    return row, partial


def log_certificate_reading(request, row: Certificate, partial: dict | None, form: str) -> None:
    log_now(request, "certificate",
            detail=f"certificate {row.id} ({form}{', partial' if partial else ''})")  # fmt: skip


def partial_certificate(request, row: Certificate) -> dict | None:
    """None when the caller may read every record (they get the signed original); else the
    certificate without the records above their clearance, marked `partial` with the number
    withheld, and without `signature`: it is not the signed document and must not pass
    for it. A record whose dossier row is not found is withheld too (fail closed)."""
    body = json.loads(row.body)
    records = body.get("records", [])
    query = select(Dossier.id).where(Dossier.certificate_id == row.id)
    readable_ids = set(request.dbsession.scalars(readable(query, caller(request))))
    kept = [record for record in records if record.get("id") in readable_ids]
    if len(kept) == len(records):
        return None
    partial = {key: value for key, value in body.items() if key != "signature"}
    return partial | {"records": kept, "partial": True,
                      "withheld_records": len(records) - len(kept)}  # fmt: skip


@view_config(route_name="api.retention.certificate", request_method="GET",
             permission=Permission.READ_CERTIFICATES)  # fmt: skip
@view_config(route_name="retention.certificate.json", request_method="GET",
             permission=Permission.READ_CERTIFICATES)  # fmt: skip
def show_certificate(request):
    row, partial = opened_certificate(request, "json")
    body = row.body if partial is None else json.dumps(partial, sort_keys=True,
                                                       ensure_ascii=False)  # fmt: skip
    return Response(body=body.encode("utf-8"), content_type="application/json",
                    charset="utf-8")  # fmt: skip


@view_config(route_name="api.retention.certificate.pdf", request_method="GET",
             permission=Permission.READ_CERTIFICATES)  # fmt: skip
@view_config(route_name="retention.certificate.pdf", request_method="GET",
             permission=Permission.READ_CERTIFICATES)  # fmt: skip
def certificate_pdf(request):
    row, partial = opened_certificate(request, "pdf")
    content = json.loads(row.body) if partial is None else partial
    zone = request.find_service(IClock).zone
    signatures = run_signatures(request.dbsession, [row.run_id]).get(row.run_id, [])
    return attachment(f"certificate-{row.id}.pdf", "application/pdf",
                      body=render_pdf(content, zone, signatures))  # fmt: skip


@view_config(route_name="api.dossier.corrections", request_method="POST", renderer="json",
             permission=Permission.MANAGE_RETENTION)  # fmt: skip
def correct_dossier(request):
    """Correct what feeds the retention rule; the destroy-after date is recomputed."""
    dossier = living_dossier(request, request.context)
    body = validated(CorrectionBody(), json_object(request))
    signed = checked_signature(request, SignatureRequest.from_body(body.pop("signature")),
                               SignatureMeaning.CORRECTION, f"dossier {dossier.id}")  # fmt: skip
    correction = correct_retention_data(
        request.find_service(IRecordsService), dossier, body,
        request.user.username, request.find_service(IClock).now())  # fmt: skip
    detail = f"{describe_changes(correction.changes)}: {correction.reason}"
    log_in_transaction(request, "correct", dossier=dossier, detail=detail)
    signature = keep_signature(request, signed, SignatureMeaning.CORRECTION,
                               SignedKind.CORRECTION, correction.id,
                               correction_content(correction), dossier=dossier)  # fmt: skip
    request.response.status = 201
    answer = {**correction_json(correction), "destroy_after": dossier.destroy_after.isoformat(),
              "retention_rule": describe_rule(dossier)}  # fmt: skip
    return answer | ({"signature": signature_json(signature)} if signature else {})


@view_config(route_name="api.dossier.corrections", request_method="GET", renderer="json",
             permission=Permission.MANAGE_RETENTION)  # fmt: skip
def list_corrections(request):
    dossier = living_dossier(request, request.context)
    query = select(DossierCorrection).join(Dossier).where(
        DossierCorrection.dossier_id == dossier.id).order_by(DossierCorrection.id)  # fmt: skip
    rows = list(request.dbsession.scalars(readable(query, caller(request))))
    log_now(request, "view", dossier=dossier, detail="retention corrections")
    signed = signatures_of(request.dbsession, SignedKind.CORRECTION, [row.id for row in rows])
    return {"results": [correction_json(row) | with_signatures(signed.get(str(row.id), []),
                                                               correction_content(row))
                        for row in rows]}  # fmt: skip
