"""The retention policy that filing asks for (`IRetentionPolicy`): the configured rule set
deciding destroy-after dates, and holds by query that cover a dossier before it is filed."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from zope.interface import implementer

from ..interfaces import IRetentionPolicy
from ..records.models import ProductLine
from ..records.policy import Batch, RetentionDecision
from .holds import held_by_query
from .models import Hold
from .rules import RuleSet, decide


@implementer(IRetentionPolicy)
class RetentionPolicy:
    rule_sets = tuple(RuleSet)

    def __init__(self, rule_set: str = RuleSet.PROCEDURE, default_years: int = 5):
        if rule_set not in list(RuleSet):
            raise ValueError(f"unknown retention rule set {rule_set!r}")
        self.rule_set = rule_set
        self.default_years = default_years

    def decide(self, batches: list[Batch], closed_on: date) -> RetentionDecision:
        return decide(self.rule_set, batches, closed_on, self.default_years)

    def held_by_query(self, session: Session, names: list[str], batches: list[str]) -> bool:
        return held_by_query(session, names, batches)

    def holds_of(self, session: Session, dossier_id: str) -> list[Hold]:
        names_it = (
            select(ProductLine.id)
            .where(ProductLine.dossier_id == dossier_id,
                   or_(ProductLine.name == Hold.product_name,
                       ProductLine.batch_no == Hold.batch_no))
            .correlate_except(ProductLine)
            .exists()
        )  # fmt: skip
        query = select(Hold).where(
            or_(Hold.dossier_id == dossier_id, and_(Hold.dossier_id.is_(None), names_it))
        )
        return list(session.scalars(query.order_by(Hold.placed_at.desc(), Hold.id.desc())))
