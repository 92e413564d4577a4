"""`GET /api/v1/search` and the `/search` page: results, totals and facets for what the caller
may read, every search logged with its terms, filters and result count."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from pyramid.view import view_config
from sqlalchemy import select

from ..access.audit import log_now
from ..access.permissions import Permission, levels_up_to
from ..errors import Invalid
from ..records.models import Dossier
from .engine import IndexUnavailable, SearchQuery

FILTERS = ("batch_no", "product", "complaint_no", "complaint_class", "complaint_type", "outcome")
MAX_PER_PAGE = 100
MAX_FILTER_CHARS = 200


def search_query(params) -> SearchQuery:
    def number(name, default, low, high):
        try:
            value = int(params.get(name, default))
        except ValueError:
            raise Invalid(f"{name} must be a whole number", field=name) from None
        if not low <= value <= high:
            raise Invalid(f"{name} must be from {low} to {high}", field=name)
        return value

    def day(name):
        value = params.get(name)
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise Invalid(f"{name} must be a date as YYYY-MM-DD", field=name) from None

    sort = params.get("sort", "relevance")
    if sort not in ("relevance", "received_on"):
        raise Invalid("sort must be relevance or received_on", field="sort")
    include = params.get("include_destroyed", "false").lower()
    if include not in ("true", "false", "1", "0"):
        raise Invalid("include_destroyed must be true or false", field="include_destroyed")
    for name in FILTERS:
        if len(params.get(name) or "") > MAX_FILTER_CHARS:  # never cut: a cut batch is another
            raise Invalid(f"{name} is longer than {MAX_FILTER_CHARS} characters", field=name)
    return SearchQuery(
        q=params.get("q", ""),
        **{name: params.get(name) or None for name in FILTERS},
        received_from=day("received_from"), received_to=day("received_to"),
        include_destroyed=include in ("true", "1"),
        page=number("page", 1, 1, 10_000), per_page=number("per_page", 20, 1, MAX_PER_PAGE),
        sort=sort,
    )  # fmt: skip


def run_search(request, query: SearchQuery) -> dict:
    levels = levels_up_to(request.user.clearance)
    # Document text is searched only by those who may read documents (contract §3).
    reads_text = bool(request.has_permission(Permission.SEARCH_DOCUMENT_TEXT))
    query = replace(query, document_text=reads_text)
    index, indexer = request.registry["archive.search_index"], request.registry["archive.indexer"]
    try:
        result = index.search(query, levels)
    except IndexUnavailable:
        indexer.rebuild()  # the index is a cache: rebuilt from the database when lost
        result = index.search(query, levels)
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


def summary(dossier: Dossier) -> dict:
    return {
        "id": dossier.id, "complaint_no": dossier.complaint_no,
        "complaint_class": dossier.complaint_class, "complaint_type": dossier.complaint_type,
        "title": dossier.title, "received_on": dossier.received_on.isoformat(),
        "closed_on": dossier.closed_on.isoformat(), "state": dossier.state,
        "confidentiality": dossier.confidentiality,
        "products": [{"name": p.name, "batch_no": p.batch_no} for p in dossier.products],
    }  # fmt: skip


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
