"""The search page's links: pages of the results, orders, and facets that narrow the results
(or widen them again). Only links: the counts are the search service's, trimmed by clearance."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from .schemas import FILTERS, Sort

# The facets a person can click, each with the query-string names its value sets.
CLICKABLE_FACETS = ("complaint_class", "complaint_type", "year", "outcome")
SEARCH_NAMES = ("q", *FILTERS, "received_from", "received_to", "include_destroyed", "sort")


@dataclass(frozen=True)
class Link:
    value: str  # the facet value, the page number or the sort; shown through label()
    href: str
    count: int | None = None
    current: bool = False


def search_params(params) -> dict[str, str]:
    """The query string's search (words, filters, order), empty values left out."""
    return {name: params[name] for name in SEARCH_NAMES if params.get(name)}


def href(base: str, params: dict[str, str], **changes) -> str:
    """`base` with `params`, each change set (or removed where it is None)."""
    values = {**params, **changes}
    query = urlencode({name: value for name, value in values.items() if value is not None})
    return f"{base}?{query}" if query else base


def _year_range(year: str) -> dict[str, str]:
    return {"received_from": f"{year}-01-01", "received_to": f"{year}-12-31"}


def facet_filter(name: str, value: str) -> dict[str, str]:
    """The query-string values that narrow the search to a facet's value."""
    return _year_range(value) if name == "year" else {name: value}


def chosen(name: str, value: str, params: dict[str, str]) -> bool:
    return all(params.get(key) == wanted for key, wanted in facet_filter(name, value).items())


def facet_links(base: str, params: dict[str, str], facets: dict[str, dict]) -> dict[str, list]:
    """Per clickable facet, its values (the service's counts): a link that narrows to the
    value, or, for the value already chosen, a link that removes it."""
    params = {name: value for name, value in params.items() if name != "page"}
    links = {}
    for name in CLICKABLE_FACETS:
        values = facets.get(name) or {}
        ordered = sorted(values.items(), reverse=(name == "year"))  # the latest year first
        links[name] = []
        for value, count in ordered:
            narrowing = facet_filter(name, value)
            current = chosen(name, value, params)
            changes = dict.fromkeys(narrowing) if current else narrowing
            links[name].append(Link(value, href(base, params, **changes), count, current))
    return links


def sort_links(base: str, params: dict[str, str], sort: str) -> list[Link]:
    params = {name: value for name, value in params.items() if name != "page"}
    return [Link(order, href(base, params, sort=order), current=(order == sort))
            for order in Sort]  # fmt: skip


def page_links(base: str, params: dict[str, str], page: int, pages: int,
               around: int = 2) -> list[Link | None]:  # fmt: skip
    """The first, the last and `around` pages either side of the current one; None where
    pages are left out."""
    shown = sorted({1, pages, *range(max(1, page - around), min(pages, page + around) + 1)})
    links: list[Link | None] = []
    for number in shown:
        if links and links[-1] is not None and int(links[-1].value) < number - 1:
            links.append(None)
        links.append(Link(str(number), href(base, params, page=str(number)),
                          current=(number == page)))  # fmt: skip
    return links
