"""The search contract beyond recall, on each backend alike (conftest.py): phrases, exact
complaint numbers, date order, pages, and relevance tiers."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from factories import complaint_no, file_dossier, metadata


def search(api, query: str, user: str = "archivist") -> dict:
    return api.get(f"/api/v1/search?{quote(query, safe='=&')}", user, status=200).json


def ids(body: dict) -> list[str]:
    return [result["id"] for result in body["results"]]


@pytest.fixture(scope="module")
def filed(search_app, tokens):
    """Four dossiers sharing the word 契约检验 (and a batch of their own backend's run)."""
    import webtest
    from conftest import Api

    api = Api(webtest.TestApp(search_app), tokens)
    batch = f"CONTRACT{id(search_app) % 10_000:04d}"

    def file(year: int, title: str, summary: str, product: str = "阿莫西林胶囊") -> dict:
        meta = metadata(
            complaint_no=complaint_no("I", year),
            title=title,
            summary=summary,
            received_on=f"{year}-05-12",
            closed_on=f"{year}-07-03",
            products=[{"name": product, "batch_no": batch, "expiry": "2030-06"}],
        )
        return file_dossier(api, meta).json

    return {
        "batch": batch,
        "title": file(2021, "契约检验丙丁戊己 alpha", "客户来电"),
        "summary": file(2023, "胶囊破损", "契约检验结果：内容物泄漏"),
        "product": file(2022, "外观异常", "客户来信", product="beta 契约检验片"),
        "late": file(2024, "契约检验标签错印", "标签问题"),
    }


def test_a_quoted_phrase_needs_its_terms_consecutive_in_one_field(api, filed):
    batch = filed["batch"]
    assert ids(search(api, f'q="丙丁戊己"&batch_no={batch}')) == [filed["title"]["id"]]
    assert ids(search(api, f"q=丙丁 戊己&batch_no={batch}")) == [filed["title"]["id"]]
    assert search(api, f'q="丙丁 戊己"&batch_no={batch}')["total"] == 0  # not consecutive
    # The title's last word and the product's first are in different fields.
    assert search(api, f'q="alpha beta"&batch_no={batch}')["total"] == 0
    assert ids(search(api, f'q="beta 契约"&batch_no={batch}')) == [filed["product"]["id"]]


def test_exact_complaint_number_and_dates(api, filed):
    number = filed["summary"]["complaint_no"]
    assert ids(search(api, f"complaint_no={number}")) == [filed["summary"]["id"]]
    assert search(api, f"complaint_no={number[:-1]}")["total"] == 0
    body = search(api, f"batch_no={filed['batch']}&received_from=2022-01-01&received_to=2023-12-31")
    assert set(ids(body)) == {filed["summary"]["id"], filed["product"]["id"]}
    assert body["facets"]["year"] == {"2022": 1, "2023": 1}


def test_sort_by_received_date_and_pages_that_never_overlap(api, filed):
    batch = filed["batch"]
    newest = ids(search(api, f"q=契约检验&batch_no={batch}&sort=received_on"))
    assert newest == [filed[name]["id"] for name in ("late", "summary", "product", "title")]
    pages = [ids(search(api, f"q=契约检验&batch_no={batch}&per_page=1&page={n}"))
             for n in range(1, 6)]  # fmt: skip
    assert [len(page) for page in pages] == [1, 1, 1, 1, 0]
    assert sorted(sum(pages, [])) == sorted(filed[name]["id"] for name in
                                            ("title", "summary", "product", "late"))  # fmt: skip


def test_relevance_puts_title_and_product_matches_before_summary_ones(api, filed):
    order = ids(search(api, f"q=契约检验&batch_no={filed['batch']}"))
    assert order[-1] == filed["summary"]["id"]  # the word in the summary only: the last tier
    assert set(order[:3]) == {filed[name]["id"] for name in ("title", "product", "late")}


def test_facets_count_product_names_over_the_matches(api, filed):
    body = search(api, f"q=契约检验&batch_no={filed['batch']}")
    assert body["facets"]["product"] == {"阿莫西林胶囊": 3, "beta 契约检验片": 1}
    assert body["facets"]["complaint_class"] == {"I": 4}
    assert body["total"] == 4


@pytest.mark.parametrize("name", ["batch_no", "product", "complaint_no", "complaint_class",
                                  "outcome"])  # fmt: skip
@pytest.mark.parametrize("value", ["a\x00b", "x' OR '1'='1", "\\\\'", "阿莫:* & !", "<->"])
def test_hostile_filters_never_fail_the_server(api, name, value):
    response = api.get(f"/api/v1/search?{name}={quote(value)}", "archivist", expect_errors=True)
    assert response.status_int in (200, 422), response.text
    if response.status_int == 200 and name != "product":  # an exact value no dossier has
        assert response.json["total"] == 0
