"""Approving an issued quarterly or annual review: a second step after issuing, by an
archivist other than its author (four eyes, as a retention proposal's approval), signed
(批准评审) where `archive.signatures.required` is true. The signature covers the review's
signed body, which is frozen: a changed body no longer matches it."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.orm import Session

from ..access.signatures import Signature, SignedKind, signature_matches, signatures_of
from ..errors import Conflict, Forbidden
from .review_models import Review


def approval_content(review: Review) -> dict:
    """What an approval signs: the review as issued (its signed JSON)."""
    return {"review_id": review.id, "review": json.loads(review.body)}


def check_approvable(review: Review, approver: str) -> None:
    """Refused before anything is signed: the author approving their own review, or a
    review already approved."""
    if review.approved_by is not None:
        raise Conflict(f"the review is already approved by {review.approved_by}",
                       field="review_id")  # fmt: skip
    if review.author.lower() == approver.lower():
        raise Forbidden("the author cannot approve their own review; another archivist can",
                        field="review_id")  # fmt: skip


def approve(review: Review, approver: str, now: datetime) -> None:
    check_approvable(review, approver)
    review.approved_by, review.approved_at = approver, now


def approval_signatures(session: Session, review: Review) -> list[tuple[Signature, bool]]:
    """The review's signatures, each with whether the stored review still matches it."""
    content = approval_content(review)
    rows = signatures_of(session, SignedKind.REVIEW, [review.id]).get(review.id, [])
    return [(row, signature_matches(row, content)) for row in rows]
