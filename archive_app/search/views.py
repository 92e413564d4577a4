"""`GET /api/v1/search` and the `/search` page: results, totals and facets for what the caller
may read, every search logged with its terms, filters and result count."""

from __future__ import annotations

from dataclasses import replace

import colander
from pyramid.view import view_config
from sqlalchemy import select

from ..access.audit import log_now
from ..access.permissions import Permission, levels_up_to
from ..errors import ArchiveError, Invalid
from ..interfaces import IIndexer, ISearchService
from ..records.models import Dossier
from ..records.serializers import summary
from ..validation import StrictDate, StrictString, WholeNumber, choice, lowered, validated
from .engine import MAX_QUERY_CHARS, IndexUnavailable, QueryError, QueryTimedOut, SearchQuery

FILTERS = ("batch_no", "product", "complaint_no", "complaint_class", "complaint_type", "outcome")
MAX_PER_PAGE = 100
MAX_FILTER_CHARS = 200


class QueryTooCostly(ArchiveError):
    """422, not 5xx: the same query will run out of time again; a narrower one will not."""

    status, code = 422, "query_too_costly"


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


class SearchParameters(colander.MappingSchema):
    """`GET /api/v1/search` and the search page: validates the query string and is the
    OpenAPI document's description of it (apidoc.py)."""

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
    received_to = colander.SchemaNode(StrictDate(), missing=None)
    include_destroyed = choice(("true", "false", "1", "0"), missing="false", preparer=lowered)
    sort = choice(("relevance", "received_on"), missing="relevance")
    page = _number(1, 10_000, 1, "from 1")
    per_page = _number(1, MAX_PER_PAGE, 20, f"at most {MAX_PER_PAGE}")


def search_query(params) -> SearchQuery:
    chosen = validated(SearchParameters(), params)
    return SearchQuery(
        q=chosen["q"], **{name: chosen[name] or None for name in FILTERS},
        received_from=chosen["received_from"], received_to=chosen["received_to"],
        include_destroyed=chosen["include_destroyed"] in ("true", "1"),
        page=chosen["page"], per_page=chosen["per_page"], sort=chosen["sort"],
    )  # fmt: skip


def run_search(request, query: SearchQuery) -> dict:
    levels = levels_up_to(request.user.clearance)
    # Document text is searched only by those who may read documents (contract §3).
    reads_text = bool(request.has_permission(Permission.SEARCH_DOCUMENT_TEXT))
    query = replace(query, document_text=reads_text)
    index, indexer = request.find_service(ISearchService), request.find_service(IIndexer)
    try:
        try:
            result = index.search(query, levels)
        except IndexUnavailable:
            indexer.rebuild()  # the index is a cache: rebuilt from the database when lost
            result = index.search(query, levels)
    except QueryError as error:
        raise Invalid(error.detail, field=error.field) from None
    except QueryTimedOut as error:
        raise QueryTooCostly(f"{error}: add words or filters to narrow it", field="q") from None
    rows = {d.id: d for d in request.dbsession.scalars(
        select(Dossier).where(Dossier.id.in_([hit["id"] for hit in result.hits])))}  # fmt: skip
    results = []
    for hit in result.hits:
        dossier = rows.get(hit["id"])
        # The index already trimmed by clearance; the database row is checked again.
        if dossier is None or dossier.confidentiality not in levels:
            continue
        results.append(summary(dossier) | {"highlights": hit["highlights"]})
    filters = {name: getattr(query, name) for name in FILTERS if getattr(query, name)}
    dates = f"from={query.received_from} to={query.received_to}"
    detail = f"q={query.q!r} filters={filters} {dates}: {result.total} results"
    log_now(request, "search", detail=detail)
    return {"total": result.total, "page": result.page, "per_page": result.per_page,
            "results": results, "facets": result.facets}  # fmt: skip


@view_config(route_name="api.search", request_method="GET", renderer="json",
             permission=Permission.READ_DOSSIERS)  # fmt: skip
def search_api(request):
    return run_search(request, search_query(request.GET))


@view_config(route_name="search.page", request_method="GET",
             renderer="archive_app:templates/search/page.pt",
             permission=Permission.READ_DOSSIERS)  # fmt: skip
def search_page(request):
    params = request.GET
    searched = any(params.get(name) for name in ("q", *FILTERS, "received_from", "received_to"))
    found = run_search(request, search_query(params)) if searched else None
    return {"found": found, "params": params, "searched": searched}
