"""The rows a review counts: the dossiers its author may read (the one clearance query),
received in a span of days, as plain dicts without personal data.

Two queries, whatever the number of dossiers (the dossiers' columns, then their product
lines joined to the same conditions), so a yearly review over 100,000 dossiers stays a
matter of seconds.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date

from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import Session

from ..records.clearance import readable
from ..records.models import Dossier, ProductLine
from ..records.vocabulary import LIVING_STATES

# The handling timeline and a product line's role arrive with the quality fields (contract
# §8); a tree without them reads every line as complained and every reply as the closing.
_TIMELINE = getattr(Dossier, "timeline", None)
_ROLE = getattr(ProductLine, "role", None)
RELATED = "related"  # a batch the investigation covered, not one complained of


def _conditions(identity, start: date, end: date):
    """Received in [start, end], readable by the identity, not destroyed. Destroyed dossiers
    are left out: their metadata is erased, and a review issued before their destruction
    keeps the figures it froze."""
    query = select(Dossier.id).where(
        Dossier.received_on >= start, Dossier.received_on <= end,
        Dossier.state.in_([str(state) for state in LIVING_STATES]),
    )  # fmt: skip
    return readable(query, identity).whereclause


def review_rows(session: Session, identity, start: date, end: date) -> list[dict]:
    """The readable dossiers received from `start` to `end` (inclusive), by complaint number."""
    where = _conditions(identity, start, end)
    # The measures as stored text, read below: most are `[]`, and a JSON decoder per row was
    # a tenth of a yearly review.
    measures = type_coerce(Dossier.measures, String).label("measures")
    columns = [Dossier.id, Dossier.complaint_no, Dossier.complaint_class, Dossier.complaint_type,
               Dossier.channel, Dossier.outcome, measures, Dossier.capa_ref,
               Dossier.received_on, Dossier.closed_on]  # fmt: skip
    if _TIMELINE is not None:
        columns.append(_TIMELINE)
    products: dict[str, list[dict]] = defaultdict(list)
    line_columns = [ProductLine.dossier_id, ProductLine.name, ProductLine.batch_no]
    lines = select(*line_columns).join(Dossier, ProductLine.dossier_id == Dossier.id).where(where)
    if _ROLE is not None:
        lines = lines.where((_ROLE.is_(None)) | (_ROLE != RELATED))
    # Core rows on the session's connection: the ORM's row handling doubled the time.
    connection = session.connection()
    for dossier_id, name, batch_no in connection.execute(
        lines.order_by(ProductLine.dossier_id, ProductLine.position)
    ):
        products[dossier_id].append({"name": name, "batch_no": batch_no})
    rows = []
    for values in connection.execute(select(*columns).where(where)):
        timeline = (values[10] or {}) if _TIMELINE is not None else {}
        rows.append({
            "complaint_no": values.complaint_no,
            "complaint_class": values.complaint_class,
            "complaint_type": values.complaint_type,
            "channel": values.channel,
            "outcome": values.outcome,
            "measures": _measures(values.measures),
            "capa_ref": values.capa_ref,
            "received_on": values.received_on.isoformat(),
            "closed_on": values.closed_on.isoformat(),
            "replied_on": timeline.get("replied_on") if isinstance(timeline, dict) else None,
            "products": products.get(values.id, []),
        })  # fmt: skip
    rows.sort(key=lambda row: row["complaint_no"])
    return rows


def _measures(value) -> list[str]:
    """The stored list (text on SQLite; PostgreSQL's driver may hand it over decoded)."""
    if isinstance(value, str):
        value = json.loads(value) if value not in ("[]", "") else []
    return sorted(value or [])


def received_between(rows: list[dict], start: date, end: date) -> list[dict]:
    first, last = start.isoformat(), end.isoformat()  # ISO dates order as text does
    return [row for row in rows if first <= row["received_on"] <= last]
