"""The search's query string (`GET /api/v1/search`, its exports and the search page): one
colander schema that validates it and is the OpenAPI document's description of it."""

from __future__ import annotations

from enum import StrEnum

import colander

from ..errors import Invalid
from ..validation import StrictDate, StrictString, WholeNumber, choice, lowered, validated
from .engine import MAX_QUERY_CHARS, SearchQuery

FILTERS = ("batch_no", "product", "complaint_no", "complaint_class", "complaint_type", "outcome")
MAX_PER_PAGE = 100
MAX_PAGE = 10_000
MAX_FILTER_CHARS = 200
MAX_EXPORT_ROWS = 10_000  # rows of an export (the page says so beside its links)


class Sort(StrEnum):
    """The orders of the results. `received_on` is newest first (the API's name since its
    first version); `received_on_asc` oldest first."""

    RELEVANCE = "relevance"
    NEWEST = "received_on"
    OLDEST = "received_on_asc"


def _filter(description: str):
    # Refused when longer, never cut: a cut batch number is another batch.
    return colander.SchemaNode(
        StrictString(raw=True), missing=None, description=description,
        validator=colander.Length(max=MAX_FILTER_CHARS,
                                  max_err=f"is longer than {MAX_FILTER_CHARS} characters"),
    )  # fmt: skip


def _number(low: int, high: int, default: int, description: str):
    return colander.SchemaNode(
        WholeNumber(), missing=default, description=description,
        validator=colander.Range(low, high, min_err=f"must be from {low} to {high}",
                                 max_err=f"must be from {low} to {high}"),
    )  # fmt: skip


class ExportParameters(colander.MappingSchema):
    """The exports' query string: the search's words, filters and order, every page at once."""

    q = colander.SchemaNode(
        StrictString(raw=True), missing="", validator=colander.Length(max=MAX_QUERY_CHARS),
        description="words of the metadata (and of the documents, for roles that read them)",
    )  # fmt: skip
    batch_no = _filter("exact batch number")
    product = _filter("product name, partial as for q")
    complaint_no = _filter("exact complaint number")
    complaint_class = _filter("I, II or III")
    complaint_type = _filter("a complaint type")
    outcome = _filter("an outcome")
    received_from = colander.SchemaNode(StrictDate(), missing=None)
    received_to = colander.SchemaNode(
        StrictDate(), missing=None, description="not earlier than received_from"
    )
    include_destroyed = choice(("true", "false", "1", "0"), missing="false", preparer=lowered)
    sort = choice(
        list(Sort), missing=None,
        description="relevance (the default), received_on (newest first) or received_on_asc "
        "(oldest first); the search page's default without words is received_on",
    )  # fmt: skip


class SearchParameters(ExportParameters):
    """`GET /api/v1/search` and the search page: validates the query string and is the
    OpenAPI document's description of it (apidoc.py)."""

    page = _number(1, MAX_PAGE, 1, "from 1")
    per_page = _number(1, MAX_PER_PAGE, 20, f"at most {MAX_PER_PAGE}")


class ReversedDates(Invalid):
    """`received_from` later than `received_to`: nothing could match, so it is refused."""


REVERSED_DATES = "must not be later than received_to"


def search_query(params, schema: colander.SchemaNode | None = None,
                 default_sort: str = Sort.RELEVANCE) -> tuple[SearchQuery, str]:  # fmt: skip
    """The query the parameters ask for, and its order (a `Sort`). The engine orders by
    relevance or newest first; oldest first is read from the newest-first order (views.py)."""
    chosen = validated(schema or SearchParameters(), params)
    start, end = chosen["received_from"], chosen["received_to"]
    if start and end and start > end:
        raise ReversedDates(f"received_from {REVERSED_DATES}", field="received_from")
    sort = Sort(chosen["sort"] or default_sort)
    query = SearchQuery(
        q=chosen["q"], **{name: chosen[name] or None for name in FILTERS},
        received_from=start, received_to=end,
        include_destroyed=chosen["include_destroyed"] in ("true", "1"),
        page=chosen.get("page", 1), per_page=chosen.get("per_page", MAX_PER_PAGE),
        sort=Sort.RELEVANCE if sort == Sort.RELEVANCE else Sort.NEWEST,
    )  # fmt: skip
    return query, sort
