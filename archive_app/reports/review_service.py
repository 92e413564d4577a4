"""Issuing, finding and verifying reviews: the figures of a period frozen in a JSON signed
under the archive's key (contract §8), stored whole, readable with clearance ≥ its scope."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Invalid, NotFound
from ..records.clearance import readable_levels
from ..vault.signatures import canonical_json, public_key_text, sign_document, signature_problems
from . import review_figures as figures
from .review_data import received_between, review_rows
from .review_models import Review
from .review_periods import Period

PREVIOUS_PERIODS = 4  # "the four periods before" (contract §8)
FIELDS = (
    "review_id", "period", "from", "to", "issued_at", "author", "scope", "complaint_nos",
    "dataset_sha256", "counts", "previous", "recurrences", "time_to_close", "on_time",
    "capa_coverage", "control_chart", "public_key", "signature",
)  # fmt: skip


@dataclass(frozen=True)
class ReviewSettings:
    recurrence_threshold: int = 3


def dataset_sha256(rows: list[dict]) -> str:
    return hashlib.sha256(canonical_json(rows)).hexdigest()


def review_body(period: Period, rows: list[dict], *, review_id: str, issued_at: datetime,
                author: str, scope: str, threshold: int,
                met: Callable[[dict], bool] | None) -> tuple[dict, list[dict]]:  # fmt: skip
    """The unsigned review of `period` from `rows` (every readable dossier from the first
    previous period, or the 12 months before the end if earlier, to the period's end), and
    the rows it counts."""
    counted = received_between(rows, period.start, period.end)
    previous = []
    for before in period.before(PREVIOUS_PERIODS):
        inside = received_between(rows, before.start, before.end)
        previous.append({"period": str(before), "from": before.start.isoformat(),
                         "to": before.end.isoformat(), "total": len(inside),
                         "counts": figures.counts(inside)})  # fmt: skip
    current = figures.counts(counted)
    series = [(entry["period"], entry["counts"]["by_type"]) for entry in previous]
    series.append((str(period), current["by_type"]))
    window = received_between(rows, period.twelve_months_start(), period.end)
    body = {
        "review_id": review_id,
        "period": str(period),
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "issued_at": issued_at.isoformat(),
        "author": author,
        "scope": scope,
        "total": len(counted),
        "complaint_nos": [row["complaint_no"] for row in counted],
        "dataset_sha256": dataset_sha256(counted),
        "counts": current,
        "previous": previous,
        "recurrence_threshold": threshold,
        "recurrences": figures.recurrences(window, threshold),
        "time_to_close": figures.time_to_close(counted),
        "on_time": figures.on_time(counted, met) if met is not None else None,
        "capa_coverage": figures.capa_coverage(counted),
        "control_chart": figures.control_chart(series),
    }
    return body, counted


def rows_start(period: Period) -> date:
    return min(period.before(PREVIOUS_PERIODS)[0].start, period.twelve_months_start())


def issue_review(session: Session, identity, period: Period, *, now: datetime, today: date,
                 signing_key: Ed25519PrivateKey, settings: ReviewSettings,
                 met: Callable[[dict], bool] | None) -> dict:  # fmt: skip
    """Count, sign and store the review of `period` by `identity` (its clearance is the
    scope); the signed JSON. A period that has not ended yet is refused: a signed, frozen
    review of a quarter still receiving complaints would be out of date the next day."""
    if period.end >= today:
        raise Invalid(
            f"the period {period} has not ended yet (it ends on "
            f"{period.end.isoformat()}); review it from the day after",
            field="period",
        )
    rows = review_rows(session, identity, rows_start(period), period.end)
    review_id = uuid.uuid4().hex
    body, counted = review_body(period, rows, review_id=review_id, issued_at=now,
                                author=identity.username, scope=identity.clearance,
                                threshold=settings.recurrence_threshold, met=met)  # fmt: skip
    signed = sign_document(body | {"public_key": public_key_text(signing_key)}, signing_key)
    session.add(Review(id=review_id, period=str(period), period_from=period.start,
                       period_to=period.end, scope=identity.clearance, author=identity.username,
                       issued_at=now, body=json.dumps(signed, sort_keys=True, ensure_ascii=False),
                       dataset=canonical_json(counted).decode()))  # fmt: skip
    session.flush()
    return signed


def readable_reviews(query, identity):
    """`query` (a select() of reviews) narrowed to the scopes the identity may read: a
    review counts dossiers up to its scope, so a reader needs that clearance (§8)."""
    return query.where(Review.scope.in_([str(level) for level in readable_levels(identity)]))


def list_reviews(session: Session, identity) -> list[Review]:
    query = select(Review).order_by(Review.issued_at.desc(), Review.id)
    return list(session.scalars(readable_reviews(query, identity)))


def find_review(session: Session, identity, review_id: str) -> Review:
    """The review, or 404, also when it is above the identity's clearance (its existence
    is not revealed)."""
    row = session.get(Review, review_id[:32])
    if row is None or row.scope not in readable_levels(identity):
        raise NotFound("no such review", field="review_id")
    return row


def review_json(row: Review) -> dict:
    return json.loads(row.body)


def verify_review(review, trusted_keys) -> list[str]:
    """Problems, one sentence each; none when the review is whole and signed by one of the
    archive's keys (`trusted_keys`, raw). The key the review carries proves nothing alone."""
    if not isinstance(review, dict):
        return ["The review is not a JSON object."]
    missing = [f"The field {name} is missing." for name in FIELDS if name not in review]
    if missing:
        return missing
    return signature_problems(review, set(trusted_keys), "review")
