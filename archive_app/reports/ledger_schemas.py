"""What the ledger's query string may say: the filters (every ledger request) and the page
(the JSON and the page; the workbook holds every row). The OpenAPI document is written from
these (apidoc.py)."""

from __future__ import annotations

import colander

from ..records.vocabulary import ComplaintClass
from ..validation import StrictDate, StrictString, WholeNumber, choice

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100
MAX_PRODUCT_CHARS = 200


class LedgerFilters(colander.MappingSchema):
    """`GET /api/v1/reports/ledger.xlsx` (and the filters of every ledger request)."""

    # `from` and `to` are Python keywords: the nodes are named in __init__ below.
    complaint_class = choice(list(ComplaintClass), missing=None, description="I, II or III")
    product = colander.SchemaNode(
        StrictString(), missing=None, description="part of a product name",
        validator=colander.Length(max=MAX_PRODUCT_CHARS,
                                  max_err=f"is longer than {MAX_PRODUCT_CHARS} characters"),
    )  # fmt: skip

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        # First in the document and in error order: the received-on period.
        self.children[:0] = [
            colander.SchemaNode(StrictDate(), name="from", missing=None,
                                description="received on or after (YYYY-MM-DD)"),
            colander.SchemaNode(StrictDate(), name="to", missing=None,
                                description="received on or before (YYYY-MM-DD)"),
        ]  # fmt: skip


class LedgerQuery(LedgerFilters):
    """`GET /api/v1/reports/ledger` and the `/reports/ledger` page: the filters and a page."""

    page = colander.SchemaNode(
        WholeNumber(), missing=1, description="from 1",
        validator=colander.Range(1, 100_000, min_err="must be from 1", max_err="is too large"),
    )  # fmt: skip
    per_page = colander.SchemaNode(
        WholeNumber(), missing=DEFAULT_PER_PAGE, description=f"at most {MAX_PER_PAGE}",
        validator=colander.Range(1, MAX_PER_PAGE, min_err=f"must be from 1 to {MAX_PER_PAGE}",
                                 max_err=f"must be from 1 to {MAX_PER_PAGE}"),
    )  # fmt: skip
