"""Legal holds: on one dossier, or by query on every dossier of a product or a batch (those
filed later included). A held dossier is never destroyed, and its keys live in the hold
bucket (vault/buckets.py) until its last hold is released."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session
from translationstring import TranslationStringFactory

from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..records.clearance import may_read, readable_clause
from ..records.models import Dossier, ProductLine
from ..records.vocabulary import DYING_STATES, LIVING_STATES, DossierState
from .models import Hold

_ = TranslationStringFactory("archive")


def active_hold_exists(dossier_id=Dossier.id):
    """SQL: an active hold on the dossier itself, or by query on one of its products or
    batches (a query hold covers dossiers filed after it too)."""
    names_it = (
        select(ProductLine.id)
        .where(
            ProductLine.dossier_id == dossier_id,
            or_(ProductLine.name == Hold.product_name, ProductLine.batch_no == Hold.batch_no),
        )
        .correlate_except(ProductLine)  # the dossier and the hold come from outside
        .exists()
    )
    return exists().where(
        Hold.released_at.is_(None),
        or_(Hold.dossier_id == dossier_id, and_(Hold.dossier_id.is_(None), names_it)),
    )


def is_held(session: Session, dossier_id: str) -> bool:
    return bool(session.scalar(select(active_hold_exists(dossier_id))))


def held_by_query(session: Session, names: list[str], batches: list[str]) -> bool:
    """Whether an active hold by query names one of these products or batches."""
    if not names and not batches:
        return False
    return bool(session.scalar(select(exists().where(
        Hold.released_at.is_(None), Hold.dossier_id.is_(None),
        or_(Hold.product_name.in_(names), Hold.batch_no.in_(batches))))))  # fmt: skip


def place_hold(records, dossier: Dossier, reason: str, by: str, now: datetime) -> Hold:
    """A hold on one dossier; its keys move to the hold bucket."""
    if dossier.state in DYING_STATES:
        raise Conflict(_("the dossier is destroyed"), field="dossier_id")
    hold = Hold(dossier_id=dossier.id, reason=reason_text(reason), placed_by=by, placed_at=now)
    records.session.add(hold)
    records.session.flush()
    refresh_held([dossier], records)
    return hold


def place_query_hold(records, query: dict, reason, by: str, now: datetime) -> Hold:
    """A hold on every dossier of a product (exact name) or a batch, now and filed later."""
    product_name, batch_no = query.get("product_name"), query.get("batch_no")
    for field_name, value in (("product_name", product_name), ("batch_no", batch_no)):
        if value is not None and (not isinstance(value, str) or not value.strip()
                                  or len(value) > 255):  # fmt: skip
            raise Invalid(f"{field_name} must be a non-empty text", field=field_name)
    if (product_name is None) == (batch_no is None):
        raise Invalid(_("give exactly one of product_name and batch_no"), field="product_name")
    hold = Hold(product_name=product_name and product_name.strip(),
                batch_no=batch_no and batch_no.strip(), reason=reason_text(reason),
                placed_by=by, placed_at=now)  # fmt: skip
    records.session.add(hold)
    records.session.flush()
    refresh_held(covered_by(records.session, hold), records)
    return hold


def release_hold(records, hold_id, reason, by, now, dossier: Dossier | None = None, *,
                 identity) -> Hold:  # fmt: skip
    """Release a hold (kept as history); dossiers no longer held go back to their month.

    Only by an identity that may read every dossier it covers: a hold on one dossier above
    the clearance does not exist for them (404), a hold by query that reaches one is refused
    (403; the hold itself is listed to them, so refusing reveals nothing new)."""
    session = records.session
    hold = session.get(Hold, hold_id) if isinstance(hold_id, int) else None
    target = session.get(Dossier, hold.dossier_id) if hold and hold.dossier_id else None
    if (
        hold is None
        or (dossier is not None and hold.dossier_id != dossier.id)
        or (target is not None and not may_read(identity, target.confidentiality))
    ):
        raise NotFound("no such hold" + (" on this dossier" if dossier else ""), field="hold_id")
    affected = covered_by(session, hold)
    if any(not may_read(identity, covered.confidentiality) for covered in affected):
        raise Forbidden(_("this hold also covers dossiers above your clearance: only one "
                          "cleared for all of them may release it"), field="hold_id")  # fmt: skip
    if hold.released_at is not None:
        raise Conflict(_("the hold is already released"), field="hold_id")
    hold.released_at, hold.released_by, hold.release_reason = now, by, reason_text(reason)
    session.flush()
    refresh_held(affected, records)
    return hold


def covered_by(session: Session, hold: Hold) -> list[Dossier]:
    """The living dossiers a hold covers."""
    living = Dossier.state.not_in(DYING_STATES)
    if hold.dossier_id is not None:
        return list(session.scalars(select(Dossier).where(Dossier.id == hold.dossier_id, living)))
    match = (ProductLine.name == hold.product_name if hold.product_name is not None
             else ProductLine.batch_no == hold.batch_no)  # fmt: skip
    query = select(Dossier).where(living, Dossier.id.in_(
        select(ProductLine.dossier_id).where(match)))  # fmt: skip
    return list(session.scalars(query))


def readable_coverage(session: Session, hold: Hold, identity) -> int:
    """How many living dossiers the hold covers that the identity may read (a hold by query
    that covers none names a product or batch no dossier has, yet: a typo, or ahead of time)."""
    return sum(may_read(identity, dossier.confidentiality) for dossier in covered_by(session, hold))


NOTHING_COVERED = _("The hold covers no dossier yet: check the product or batch.")


def refresh_held(dossiers: list[Dossier], records) -> None:
    """Each dossier's state and key bucket as its holds now say."""
    for dossier in dossiers:
        held = is_held(records.session, dossier.id)
        if dossier.state in LIVING_STATES:
            dossier.state = DossierState.HELD if held else DossierState.ARCHIVED
        records.rebucket(dossier, held)


def visible_holds(session: Session, identity, active_only: bool) -> list[tuple[Hold, Dossier]]:
    """Holds with their dossier (None for a hold by query), newest first; a hold on a dossier
    above the identity's clearance is left out (its reason names that dossier's matter)."""
    query = (
        select(Hold, Dossier)
        .outerjoin(Dossier, Dossier.id == Hold.dossier_id)
        .where(or_(Hold.dossier_id.is_(None), readable_clause(identity)))
        .order_by(Hold.placed_at.desc(), Hold.id.desc())
    )
    if active_only:
        query = query.where(Hold.released_at.is_(None))
    return [(hold, dossier) for hold, dossier in session.execute(query)]


def list_holds(session: Session, active_only: bool, identity) -> list[Hold]:
    return [hold for hold, _dossier in visible_holds(session, identity, active_only)]


def hold_json(hold: Hold) -> dict:
    return {
        "id": hold.id, "dossier_id": hold.dossier_id, "product_name": hold.product_name,
        "batch_no": hold.batch_no, "reason": hold.reason, "placed_by": hold.placed_by,
        "placed_at": hold.placed_at.isoformat(), "released_by": hold.released_by,
        "released_at": hold.released_at.isoformat() if hold.released_at else None,
        "release_reason": hold.release_reason,
    }  # fmt: skip


def reason_text(reason) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise Invalid(_("a reason is required"), field="reason")
    return reason.strip()[:2000]
