"""Corrections of the metadata that feeds retention (closing day, expiry, certification):
the destroy-after date is recomputed, the keys follow it to their new bucket, and every
correction is kept with who, when, why and the values before and after.

Nothing else of a filed dossier can be changed: its record stays as filed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from sqlalchemy import select

from ..errors import Conflict, Invalid
from ..records.clearance import readable
from ..records.models import Dossier, DossierCorrection
from ..records.policy import Batch, RetentionDecision
from ..records.vocabulary import LIVING_STATES, DossierState
from .holds import is_held, reason_text

RECOMPUTE_BATCH = 200  # dossiers per committed transaction of a recomputation


def correct_retention_data(records, dossier: Dossier, body: dict, by: str,
                           now: datetime) -> DossierCorrection:  # fmt: skip
    """Apply a correction, as retention/schemas.py CorrectionBody reads it: the rule's date
    is recomputed; each product line is named by its batch number."""
    if dossier.state == DossierState.DESTROYING:
        raise Conflict("the dossier is being destroyed", field="dossier_id")
    reason = reason_text(body["reason"])
    changes: dict[str, list] = {}
    if "closed_on" in body:
        closed_on = body["closed_on"]
        if closed_on < dossier.received_on:
            raise Invalid("must not be before received_on", field="closed_on")
        if closed_on != dossier.closed_on:
            changes["closed_on"] = [dossier.closed_on.isoformat(), closed_on.isoformat()]
            dossier.closed_on = closed_on
    for index, item in enumerate(body.get("products", ())):
        product = next((p for p in dossier.products if p.batch_no == item["batch_no"]), None)
        if product is None:
            raise Invalid("no product line of this dossier has this batch number",
                          field=f"products.{index}.batch_no")  # fmt: skip
        if "expiry" in item and item["expiry"] != product.expiry:  # None clears it
            changes[f"{product.batch_no}.expiry"] = [product.expiry, item["expiry"]]
            product.expiry = item["expiry"]
        if "certified_on" in item and item["certified_on"] != product.certified_on:
            certified = item["certified_on"]
            old = product.certified_on.isoformat() if product.certified_on else None
            changes[f"{product.batch_no}.certified_on"] = [
                old, certified.isoformat() if certified else None]  # fmt: skip
            product.certified_on = certified
    if not changes:
        raise Invalid("nothing to correct: every value is as filed", field=None)
    correction = _apply_rule(records, dossier, changes, by, now, reason)
    records.on_change(records.session, dossier.id)  # the index holds closed_on
    records.session.flush()
    return correction


def planned_change(records, dossier: Dossier) -> dict | None:
    """What applying the configured rule set again would change of the dossier, as a
    correction keeps it (`destroy_after` if its date moves, `retention_rule`: old and new);
    None when nothing. Preview and recompute both ask it, so they cannot disagree."""
    decision = records.retention_decision(_batches(dossier), dossier.closed_on)
    old_rule = f"{dossier.retention_rule} v{dossier.retention_rule_version}"
    new_rule = f"{decision.rule.name} v{decision.rule.version}"
    if (dossier.destroy_after, old_rule) == (decision.destroy_after, new_rule):
        return None
    return _with_date({"retention_rule": [old_rule, new_rule]}, dossier, decision)


def recompute(records, dossier: Dossier, by: str, now: datetime) -> DossierCorrection | None:
    """Apply the configured rule set again (after `archive.retention.rule` changed); the
    change, if any, is kept as a correction."""
    changes = planned_change(records, dossier)
    if changes is None:
        return None
    return _apply_rule(records, dossier, changes, by, now, f"rule set {records.policy.rule_set}")


def recomputable_ids(session, identity) -> list[str]:
    """The living dossiers (archived or held) the identity may read, in id order."""
    query = select(Dossier.id).where(Dossier.state.in_(LIVING_STATES)).order_by(Dossier.id)
    return list(session.scalars(readable(query, identity)))


def recompute_all(ids: list[str], transaction: Callable, records_for: Callable, clock, by: str,
                  log_event: Callable[..., None],
                  progress: Callable[[int], None] | None = None,
                  ) -> Iterator[tuple[str, str]]:  # fmt: skip
    """`recompute` for each dossier of `ids`, committed in batches (a rerun after a crash
    resumes, and no transaction grows with the archive). Yields each changed dossier's complaint
    number and a description of its change once its batch is committed; each is logged with
    `log_event(session, **fields)`. `transaction(work)` runs work(session) and commits it;
    `records_for(session)` is the records service on that session."""

    def apply(session, records, dossier: Dossier) -> str | None:
        correction = recompute(records, dossier, by, clock.now())
        if correction is None:
            return None
        detail = describe_changes(correction.changes)
        log_event(session, action="correct", dossier_id=dossier.id,
                  complaint_no=dossier.complaint_no, detail=detail)  # fmt: skip
        return detail

    return _in_batches(ids, transaction, records_for, apply, progress)


def preview_all(ids: list[str], read: Callable, records_for: Callable,
                progress: Callable[[int], None] | None = None,
                ) -> Iterator[tuple[str, str]]:  # fmt: skip
    """What `recompute_all` would change, in its words and its batches, changing nothing:
    `read(work)` runs work(session) in a transaction that is never committed."""

    def plan(_session, records, dossier: Dossier) -> str | None:
        changes = planned_change(records, dossier)
        return None if changes is None else describe_changes(changes)

    return _in_batches(ids, read, records_for, plan, progress)


def _in_batches(ids: list[str], transaction: Callable, records_for: Callable,
                step: Callable, progress=None) -> Iterator[tuple[str, str]]:  # fmt: skip
    """`step(session, records, dossier)` for each dossier of `ids`, RECOMPUTE_BATCH to a
    transaction; yields (complaint number, what step returned) where it returned something,
    once that batch's transaction has ended (and `progress(how many)` has been told)."""
    for start in range(0, len(ids), RECOMPUTE_BATCH):
        batch = ids[start : start + RECOMPUTE_BATCH]

        def work(session, batch=batch) -> list[tuple[str, str]]:
            records = records_for(session)
            done = []
            for dossier_id in batch:
                dossier = records.get(dossier_id)
                detail = step(session, records, dossier)
                if detail is not None:
                    done.append((dossier.complaint_no, detail))
            return done

        done = transaction(work)
        if progress is not None:
            progress(len(batch))
        yield from done


def _apply_rule(records, dossier: Dossier, changes: dict, by: str, now: datetime,
                reason: str) -> DossierCorrection:  # fmt: skip
    """The date the rule now gives, kept with the changes that led to it; keys follow."""
    decision = records.retention_decision(_batches(dossier), dossier.closed_on)
    changes = _with_date(changes, dossier, decision)
    dossier.destroy_after = decision.destroy_after
    dossier.retention_rule = decision.rule.name
    dossier.retention_rule_version = decision.rule.version
    dossier.retention_derivation = decision.derivation
    correction = DossierCorrection(dossier_id=dossier.id, changed_by=by, changed_at=now,
                                   reason=reason, changes=changes)  # fmt: skip
    records.session.add(correction)
    records.rebucket(dossier, is_held(records.session, dossier.id))
    return correction


def _with_date(changes: dict, dossier: Dossier, decision: RetentionDecision) -> dict:
    """The changes, led by the destroy-after date's when the decision moves it."""
    if decision.destroy_after == dossier.destroy_after:
        return changes
    moved = [dossier.destroy_after.isoformat(), decision.destroy_after.isoformat()]
    return {"destroy_after": moved, **changes}


def _batches(dossier: Dossier) -> list[Batch]:
    return [Batch(product.expiry, product.certified_on) for product in dossier.products]


def describe_changes(changes: dict) -> str:
    return "; ".join(f"{name} {old} → {new}" for name, (old, new) in changes.items())


def correction_json(correction: DossierCorrection) -> dict:
    return {
        "id": correction.id, "dossier_id": correction.dossier_id,
        "changed_by": correction.changed_by, "changed_at": correction.changed_at.isoformat(),
        "reason": correction.reason, "changes": correction.changes,
    }  # fmt: skip
