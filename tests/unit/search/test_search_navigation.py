"""The search page's links: which page numbers the pager shows, and facet links that narrow
the search or, for the chosen value, widen it again."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from archive_app.search.navigation import facet_links, page_links, search_params

BASE = "/search"


def numbers(links) -> list[str | None]:
    return [None if link is None else link.value for link in links]


def test_the_pager_shows_the_ends_and_the_pages_around_the_current_one():
    assert numbers(page_links(BASE, {}, 1, 1)) == ["1"]
    assert numbers(page_links(BASE, {}, 1, 3)) == ["1", "2", "3"]
    assert numbers(page_links(BASE, {}, 6, 12)) == ["1", None, "4", "5", "6", "7", "8", None, "12"]
    assert numbers(page_links(BASE, {}, 2, 12)) == ["1", "2", "3", "4", None, "12"]
    assert numbers(page_links(BASE, {}, 4, 6)) == ["1", "2", "3", "4", "5", "6"]
    [current] = [link for link in page_links(BASE, {"q": "胶囊"}, 2, 3) if link.current]
    assert parse_qs(urlsplit(current.href).query) == {"q": ["胶囊"], "page": ["2"]}


def test_facet_links_narrow_and_the_chosen_one_widens_again():
    params = search_params({"q": "胶囊", "page": "3", "complaint_class": "II", "csrf": "x"})
    assert params == {"q": "胶囊", "complaint_class": "II"}
    facets = {"complaint_class": {"II": 4}, "year": {"2022": 1, "2023": 3}, "outcome": {}}
    links = facet_links(BASE, params, facets)
    [chosen] = links["complaint_class"]
    assert chosen.current and chosen.count == 4
    assert parse_qs(urlsplit(chosen.href).query) == {"q": ["胶囊"]}  # removed, page too
    newest, older = links["year"]
    assert (newest.value, older.value) == ("2023", "2022") and not newest.current
    assert parse_qs(urlsplit(newest.href).query) == {
        "q": ["胶囊"], "complaint_class": ["II"],
        "received_from": ["2023-01-01"], "received_to": ["2023-12-31"],
    }  # fmt: skip
    in_2023 = facet_links(BASE, parse_flat(newest.href), facets)["year"][0]
    assert in_2023.current
    assert parse_qs(urlsplit(in_2023.href).query) == {"q": ["胶囊"], "complaint_class": ["II"]}
    assert links["outcome"] == [] and "complaint_type" in links


def parse_flat(href: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(href).query).items()}
