"""The ledger's rows: which dossiers (the one clearance query, then the filters), in which
order, and the row each becomes (personal data masked unless the reader may see it).

A destroyed dossier (or one being destroyed) stays in the ledger as a tombstone row: its
number, class, type, dates and state, nothing else, as its tombstone keeps them
(records/serializers.py): the register shows that the complaint existed and why its record
is gone, without any of what the destruction erased."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, selectinload

from ..records.clearance import readable
from ..records.masking import mask_customer
from ..records.models import Dossier, ProductLine
from ..records.serializers import heading, summary_products
from ..records.vocabulary import DYING_STATES

# Rows read from the database at a time when every row is wanted (the workbook): bounded
# memory whatever the ledger's size, and few round trips.
BATCH_SIZE = 1000


@dataclass(frozen=True)
class LedgerFilter:
    """The ledger's filters: received on from..to (inclusive), a class, part of a product name."""

    received_from: date | None = None
    received_to: date | None = None
    complaint_class: str | None = None
    product: str | None = None

    @classmethod
    def from_params(cls, chosen: dict) -> LedgerFilter:
        """From the validated query string (ledger_schemas.py)."""
        return cls(received_from=chosen.get("from"), received_to=chosen.get("to"),
                   complaint_class=chosen.get("complaint_class") or None,
                   product=chosen.get("product") or None)  # fmt: skip

    def describe(self) -> str:
        """For the access log: what the reader asked for."""
        return (f"from={self.received_from} to={self.received_to} "
                f"class={self.complaint_class} product={self.product!r}")  # fmt: skip


class Ledger:
    """The ledger as one reader sees it. `customer_of(dossier)` decrypts a dossier's
    customer fields (records' service); `unmasked` says whether the reader may see them."""

    def __init__(self, session: Session, identity, customer_of: Callable[[Dossier], dict], *,
                 unmasked: bool):  # fmt: skip
        self.session = session
        self.identity = identity
        self.customer_of = customer_of
        self.unmasked = unmasked

    def query(self, chosen: LedgerFilter) -> Select:
        """The dossiers of the ledger: what the identity may read, narrowed by the filters."""
        query = readable(select(Dossier), self.identity)
        if chosen.received_from is not None:
            query = query.where(Dossier.received_on >= chosen.received_from)
        if chosen.received_to is not None:
            query = query.where(Dossier.received_on <= chosen.received_to)
        if chosen.complaint_class is not None:
            query = query.where(Dossier.complaint_class == chosen.complaint_class)
        if chosen.product is not None:
            # Part of a name, taken literally: `%` and `_` in it are characters, not wildcards.
            query = query.where(exists().where(
                ProductLine.dossier_id == Dossier.id,
                ProductLine.name.contains(chosen.product, autoescape=True)))  # fmt: skip
        return query

    def total(self, chosen: LedgerFilter) -> int:
        counted = self.query(chosen).with_only_columns(func.count()).order_by(None)
        return self.session.scalar(counted)

    def page(self, chosen: LedgerFilter, page: int, per_page: int) -> list[dict]:
        query = self._ordered(chosen).limit(per_page).offset((page - 1) * per_page)
        return [self.row(dossier) for dossier in self.session.scalars(query)]

    def rows(self, chosen: LedgerFilter) -> Iterator[dict]:
        """Every row, in ledger order, read BATCH_SIZE dossiers at a time."""
        query = self._ordered(chosen).execution_options(yield_per=BATCH_SIZE)
        with self.session.execute(query).scalars() as dossiers:
            for dossier in dossiers:
                yield self.row(dossier)
                # Rows already written need not stay in the session's identity map.
                self.session.expunge(dossier)

    def _ordered(self, chosen: LedgerFilter) -> Select:
        # The register's order: as received, then by number (a stable order for the pager).
        return (self.query(chosen).options(selectinload(Dossier.products))
                .order_by(Dossier.received_on, Dossier.complaint_no))  # fmt: skip

    def row(self, dossier: Dossier) -> dict:
        if dossier.state in DYING_STATES:
            return tombstone_row(dossier)
        customer = self.customer_of(dossier)
        return {
            **heading(dossier),
            "outcome": dossier.outcome,
            "measures": list(dossier.measures or []),
            "capa_ref": dossier.capa_ref,
            "products": summary_products(dossier),
            "customer": customer if self.unmasked else mask_customer(customer),
            # Filed with the handling timeline (contract §8) when the dossier carries one.
            "timeline": dict(getattr(dossier, "timeline", None) or {}),
            "state": dossier.state,
        }


def tombstone_row(dossier: Dossier) -> dict:
    """A destroyed dossier's row: what its tombstone keeps, nothing of what was erased."""
    return {
        "id": dossier.id,
        "complaint_no": dossier.complaint_no,
        "complaint_class": dossier.complaint_class,
        "complaint_type": dossier.complaint_type,
        "title": None,
        "received_on": dossier.received_on.isoformat(),
        "closed_on": dossier.closed_on.isoformat(),
        "outcome": None,
        "measures": [],
        "capa_ref": None,
        "products": [],
        "customer": {},
        "timeline": {},
        "state": dossier.state,
    }
