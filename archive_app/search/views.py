"""`GET /api/v1/search` and the `/search` page: results, totals and facets for what the caller
may read, every search logged with its terms, filters and result count."""

from __future__ import annotations

from dataclasses import replace

from pyramid.view import view_config
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from translationstring import TranslationStringFactory

from ..access.audit import log_now
from ..access.permissions import Permission, levels_up_to
from ..errors import Invalid
from ..interfaces import IIndexer, ISearchService
from ..records.models import Dossier
from ..records.serializers import summary
from . import navigation
from .analysis import terms
from .engine import IndexUnavailable, SearchQuery, SearchResult, query_words
from .saved import kept_query, saved_searches_of
from .schemas import FILTERS, MAX_EXPORT_ROWS, ReversedDates, SearchParameters, Sort, search_query

__all__ = ["SearchParameters", "run_search", "search_query"]  # the OpenAPI document's too
_ = TranslationStringFactory("archive")
SEARCHED_BY = ("q", *FILTERS, "received_from", "received_to")
ID_BATCH = 500  # ids per `IN (...)`: within every database's bound-parameter limit


def _engine_search(request, query: SearchQuery, levels) -> SearchResult:
    index = request.find_service(ISearchService)
    try:
        return index.search(query, levels)
    except IndexUnavailable:
        request.find_service(IIndexer).rebuild()  # the index is a cache: rebuilt when lost
        return index.search(query, levels)


def _window(request, query: SearchQuery, levels, start: int, stop: int):
    """The engine's hits at positions [start, stop) of its order, read as at most two of its
    pages of that size; with the first page's total and facets."""
    size = stop - start
    pages = sorted({start // size + 1, (stop - 1) // size + 1})
    found = [_engine_search(request, replace(query, page=n, per_page=size), levels) for n in pages]
    offset = (pages[0] - 1) * size
    hits = [hit for result in found for hit in result.hits][start - offset : stop - offset]
    return found[0], hits


def ranked_hits(request, query: SearchQuery, sort: str, levels, start: int, stop: int):
    """(result, hits at positions [start, stop) in the chosen order). The engine orders by
    relevance or newest first; oldest first is the newest-first order read backwards."""
    if sort != Sort.OLDEST:
        return _window(request, query, levels, start, stop)
    counted = _engine_search(request, replace(query, page=1, per_page=1), levels)
    low, high = max(0, counted.total - stop), counted.total - start
    if high <= low:
        return counted, []
    result, hits = _window(request, query, levels, low, high)
    return result, hits[::-1]


def readable_rows(request, ids: list[str], levels) -> dict[str, Dossier]:
    rows = {}
    for first in range(0, len(ids), ID_BATCH):
        batch = ids[first : first + ID_BATCH]
        query = select(Dossier).where(Dossier.id.in_(batch), Dossier.confidentiality.in_(levels))
        # The summaries name each product: loaded with the batch, not a query per dossier.
        query = query.options(selectinload(Dossier.products))
        rows.update({dossier.id: dossier for dossier in request.dbsession.scalars(query)})
    return rows


def find(request, query: SearchQuery, sort: str, start: int, stop: int,
         action: str = "search") -> dict:  # fmt: skip
    """The search as the caller may see it: hits [start, stop) in `sort`'s order as
    summaries with their highlights, the total and the facets; logged as `action`."""
    levels = levels_up_to(request.user.clearance)
    # Document text is searched only by those who may read documents (contract §3).
    reads_text = bool(request.has_permission(Permission.SEARCH_DOCUMENT_TEXT))
    query = replace(query, document_text=reads_text)
    result, hits = ranked_hits(request, query, sort, levels, start, stop)
    rows = readable_rows(request, [hit["id"] for hit in hits], levels)
    results, unmarked = [], {}
    words = set(query_words(query))
    for hit in hits:
        # The index already trimmed by clearance; the database row is checked again.
        dossier = rows.get(hit["id"])
        if dossier is not None:
            results.append(summary(dossier) | {"highlights": hit["highlights"]})
            if words and not hit["highlights"]:
                unmarked[dossier.id] = unmarked_match(dossier, words, reads_text)
    filters = {name: getattr(query, name) for name in FILTERS if getattr(query, name)}
    dates = f"from={query.received_from} to={query.received_to}"
    detail = f"q={query.q!r} filters={filters} {dates} sort={sort}: {result.total} results"
    log_now(request, action, detail=detail if action == "search" else f"search {detail}")
    return {"total": result.total, "results": results, "facets": result.facets,
            "unmarked": unmarked}  # fmt: skip


def unmarked_match(dossier: Dossier, words: set[str], reads_text: bool) -> dict:
    """Why a hit the index highlights nothing of matched: its manufacturer (a field the
    index does not keep highlights of) or, for roles that search it, its documents' text."""
    makers = [p.manufacturer for p in dossier.products if p.manufacturer]
    matched = [maker for maker in makers if words & set(terms(maker))]
    return {"manufacturer": ", ".join(matched), "text": reads_text and not matched}


def run_search(request, query: SearchQuery, sort: str = Sort.RELEVANCE) -> dict:
    start = (query.page - 1) * query.per_page
    found = find(request, query, sort, start, start + query.per_page)
    return {"total": found["total"], "page": query.page, "per_page": query.per_page,
            "results": found["results"], "facets": found["facets"],
            "unmarked": found["unmarked"]}  # fmt: skip


@view_config(route_name="api.search", request_method="GET", renderer="json",
             permission=Permission.READ_DOSSIERS)  # fmt: skip
def search_api(request):
    found = run_search(request, *search_query(request.GET))
    del found["unmarked"]  # the page's explanation; the API's hits carry their highlights
    return found


@view_config(route_name="search.page", request_method="GET",
             renderer="archive_app:templates/search/page.pt",
             permission=Permission.READ_DOSSIERS)  # fmt: skip
def search_page(request):
    params = request.GET
    searched = any(params.get(name) for name in SEARCHED_BY)
    page = {"found": None, "params": params, "searched": searched, "error": None,
            "reversed_dates": False,
            "saved": saved_searches_of(request.dbsession, request.user.username)}  # fmt: skip
    if not searched:
        return page
    try:
        # Without words there is no relevance to speak of: the newest first.
        query, sort = search_query(params, default_sort=Sort.RELEVANCE if params.get("q")
                                   else Sort.NEWEST)  # fmt: skip
    except Invalid as error:
        request.response.status = error.status
        return page | {"error": error, "reversed_dates": isinstance(error, ReversedDates)}
    found = run_search(request, query, sort)
    return page | {"found": found, "sort": sort} | links(request, params, found, sort)


def export_note():
    return _(
        "Only the first ${count} results are exported: narrow the search for the rest.",
        mapping={"count": MAX_EXPORT_ROWS},
    )


def links(request, params, found: dict, sort: str) -> dict:
    base = request.route_url("search.page")
    searched = navigation.search_params(params)
    pages = max(1, -(-found["total"] // found["per_page"]))
    current = found["page"]
    paged = searched | ({"per_page": params["per_page"]} if params.get("per_page") else {})
    kept = kept_query(params)
    return {
        "pages": pages,
        "page_links": navigation.page_links(base, paged, current, pages),
        # Beyond the last page (a bookmark of a search that since found less), back to it.
        "previous_href": navigation.href(base, paged, page=str(min(current - 1, pages)))
        if current > 1 else None,
        "next_href": navigation.href(base, paged, page=str(current + 1)) if current < pages
        else None,
        "first_shown": (current - 1) * found["per_page"] + 1,
        "last_shown": min(found["total"], current * found["per_page"]),
        "facet_links": navigation.facet_links(base, searched, found["facets"]),
        "sort_links": navigation.sort_links(base, searched, sort),
        "unmarked": found["unmarked"],
        "kept_query": kept,
        "remove_word": _("Remove this filter"),
        "export_note": export_note() if found["total"] > MAX_EXPORT_ROWS else None,
        "csv_href": navigation.href(request.route_url("search.export.csv"), searched),
        "xlsx_href": navigation.href(request.route_url("search.export.xlsx"), searched),
    }  # fmt: skip
