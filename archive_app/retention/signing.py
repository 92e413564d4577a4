"""What retention's signatures cover (access/signatures.py): an approved destruction
proposal, a hold's release, a correction. Each content is recomputed from the stored record,
so a record changed after it was signed no longer matches its signature."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access.signatures import Signature, SignedKind, signature_matches, signatures_of
from ..records.clearance import readable
from ..records.models import Dossier, DossierCorrection
from .models import Hold, RetentionProposal


def _when(value: datetime | None) -> str | None:
    # The same instant reads the same whatever zone or database handed it back.
    return value.astimezone(UTC).isoformat() if value is not None else None


def proposal_content(proposal: RetentionProposal) -> dict:
    """What an approval signs: the proposal as made (its decision fields are the signature's
    consequence, not its content)."""
    return {"proposal_id": proposal.id, "as_of": proposal.as_of.isoformat(),
            "proposed_by": proposal.proposed_by, "proposed_at": _when(proposal.proposed_at),
            "dossier_ids": sorted(proposal.dossier_ids), "decision": "approve"}  # fmt: skip


def release_content(hold: Hold) -> dict:
    return {"hold_id": hold.id, "dossier_id": hold.dossier_id, "product_name": hold.product_name,
            "batch_no": hold.batch_no, "reason": hold.reason, "placed_by": hold.placed_by,
            "placed_at": _when(hold.placed_at), "released_by": hold.released_by,
            "released_at": _when(hold.released_at),
            "release_reason": hold.release_reason}  # fmt: skip


def correction_content(correction: DossierCorrection) -> dict:
    return {"correction_id": correction.id, "dossier_id": correction.dossier_id,
            "changed_by": correction.changed_by, "changed_at": _when(correction.changed_at),
            "reason": correction.reason, "changes": correction.changes}  # fmt: skip


def signed_content(session: Session, signature: Signature) -> dict | None:
    """The content of the record a retention signature names, as stored now; None when
    the record is gone (which matches nothing)."""
    kind, record_id = signature.record_kind, signature.record_id
    if kind == SignedKind.RETENTION_PROPOSAL:
        proposal = session.get(RetentionProposal, record_id)
        return proposal_content(proposal) if proposal else None
    if kind == SignedKind.HOLD_RELEASE and record_id.isdigit():
        hold = session.get(Hold, int(record_id))
        return release_content(hold) if hold else None
    if kind == SignedKind.CORRECTION and record_id.isdigit():
        correction = session.get(DossierCorrection, int(record_id))
        return correction_content(correction) if correction else None
    return None


RETENTION_KINDS = (SignedKind.RETENTION_PROPOSAL, SignedKind.HOLD_RELEASE, SignedKind.CORRECTION)


def verify_signature(session: Session, signature: Signature) -> bool:
    return signature_matches(signature, signed_content(session, signature))


def recent_signatures(session: Session, identity, limit: int = 20) -> list[tuple]:
    """The latest retention signatures the identity may see, with whether each still
    matches its record: a release or correction of a dossier above their clearance is left
    out (a release by query names no dossier)."""
    rows = session.scalars(select(Signature).where(Signature.record_kind.in_(RETENTION_KINDS))
                           .order_by(Signature.signed_at.desc(), Signature.id.desc())
                           .limit(limit * 4))  # fmt: skip
    shown = []
    for signature in rows:
        dossier_id = _dossier_of(session, signature)
        if dossier_id is not None:
            query = select(Dossier.id).where(Dossier.id == dossier_id)
            if session.scalar(readable(query, identity)) is None:
                continue
        shown.append((signature, verify_signature(session, signature)))
        if len(shown) == limit:
            break
    return shown


def _dossier_of(session: Session, signature: Signature) -> str | None:
    content = signed_content(session, signature) or {}
    return content.get("dossier_id")


def run_signatures(session: Session, run_ids) -> dict[str, list[Signature]]:
    """{run id: the signatures of the proposal whose approval made that run}."""
    run_ids = [run_id for run_id in run_ids if run_id]
    if not run_ids:
        return {}
    proposals = dict(
        session.execute(
            select(RetentionProposal.id, RetentionProposal.run_id).where(
                RetentionProposal.run_id.in_(run_ids)
            )
        ).all()
    )
    signed = signatures_of(session, SignedKind.RETENTION_PROPOSAL, list(proposals))
    return {run_id: signed.get(proposal_id, []) for proposal_id, run_id in proposals.items()}
