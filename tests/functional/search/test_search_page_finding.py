"""Finding things on the search page (issue 12 item 3): the pager reaches every hit, the sort
orders, facet links narrow (with the service's counts), snippets say why a dossier matched,
reversed dates are refused, and exports hold the search's rows, trimmed and logged."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, timedelta
from urllib.parse import quote

import openpyxl
import pytest
from factories import complaint_no, complete_files, file_dossier, metadata

# Run on the Whoosh backend only: conftest.py whoosh_backend_only says why.
pytestmark = pytest.mark.usefixtures("whoosh_backend_only")

WORD = "翻页专用词"  # in every corpus dossier's summary, nowhere else
SECRET_YEAR = "2020"  # only the restricted dossiers were received then
RESULT_NUMBER = re.compile(r'<td><a href="[^"]*/dossiers/[^"]+">(TS-[^<]+)</a></td>')


@pytest.fixture(scope="module")
def corpus(wsgi_app, tokens):
    """30 internal dossiers (three classes, three years, two types) and two restricted ones
    received in 2020, of a type no internal one has."""
    import webtest
    from conftest import Api

    api = Api(webtest.TestApp(wsgi_app), tokens)
    files = complete_files("unjustified")
    internal = []
    for number in range(30):
        cls = ("I", "II", "III")[number % 3]
        received = date(2021 + number % 3, 1, 1) + timedelta(days=number * 7)
        meta = metadata(
            complaint_no=complaint_no(cls, received.year), complaint_class=cls,
            complaint_type=("service", "outer_packaging")[number % 2],
            title=f"检索样本{number:02d}", received_on=received.isoformat(),
            closed_on=(received + timedelta(days=20)).isoformat(), outcome="unjustified",
            measures=[], confidentiality="internal", summary=f"客户来电，{WORD}，第{number}号。",
        )  # fmt: skip
        internal.append(file_dossier(api, meta, files).json)
    restricted = [
        file_dossier(
            api,
            metadata(
                complaint_no=complaint_no("III", 2020),
                complaint_class="III",
                complaint_type="packaging_design",
                title=f"机密样本{number}",
                received_on=f"2020-03-0{number + 1}",
                closed_on="2020-04-01",
                outcome="unjustified",
                measures=[],
                confidentiality="restricted",
                summary=f"{WORD}，机密。",
            ),
            files,
        ).json  # fmt: skip
        for number in range(2)
    ]
    return {"internal": internal, "restricted": restricted}


def page_numbers(page) -> list[str]:
    """The complaint numbers of the results table, in order."""
    return RESULT_NUMBER.findall(page.text)


def api_numbers(api, query: str, user: str) -> list[str]:
    """Every result of the API's search, page after page, in its order."""
    numbers, page = [], 1
    while True:
        body = api.get(f"/api/v1/search?{query}&per_page=100&page={page}", user).json
        numbers += [result["complaint_no"] for result in body["results"]]
        if page * 100 >= body["total"]:
            return numbers
        page += 1


def link(page, text: str, within: str = "") -> str:
    """The href of the link whose text starts with `text` (facets, pager, sort), after the
    first `within` on the page."""
    shown = page.text[page.text.index(within) :]
    for href, label in re.findall(r'<a\s[^>]*?href="([^"]+)"[^>]*>([^<]*)', shown):
        if label.strip().startswith(text):
            return html.unescape(href).replace("http://localhost", "")
    raise AssertionError(f"no link {text!r} on the page")


def test_the_pager_reaches_hits_21_to_30_of_30(api, corpus):
    first = api.get(f"/search?q={quote(WORD)}", "archivist_internal")
    assert "<strong>30</strong>" in first.text and "1–20" in first.text
    assert len(page_numbers(first)) == 20 and 'rel="prev"' not in first.text
    second = api.get(link(first, "下一页"), "archivist_internal")
    assert "21–30" in second.text and 'rel="next"' not in second.text
    assert len(page_numbers(second)) == 10
    shown = page_numbers(first) + page_numbers(second)
    assert sorted(shown) == sorted(d["complaint_no"] for d in corpus["internal"])
    back = api.get(link(second, "1", 'class="pager"'), "archivist_internal")
    assert page_numbers(back) == page_numbers(first)
    beyond = api.get(f"/search?q={quote(WORD)}&page=4", "archivist_internal")
    assert page_numbers(beyond) == [] and "–" not in beyond.text.split('class="total"')[1][:80]
    assert page_numbers(api.get(link(beyond, "上一页"), "archivist_internal")) == page_numbers(
        second
    )  # the last page
    assert page_numbers(api.get(link(second, "上一页"), "archivist_internal")) == page_numbers(
        first
    )


def test_sort_by_received_date_newest_and_oldest_first(api, corpus):
    by_date = sorted(corpus["internal"], key=lambda d: d["received_on"])
    oldest = [d["complaint_no"] for d in by_date]
    query = f"q={quote(WORD)}"
    assert api_numbers(api, query + "&sort=received_on", "archivist_internal") == oldest[::-1]
    assert api_numbers(api, query + "&sort=received_on_asc", "archivist_internal") == oldest
    # Pages of the oldest-first order that straddle the engine's own pages.
    for per_page, page in ((7, 2), (7, 5), (13, 3)):
        body = api.get(f"/api/v1/search?{query}&sort=received_on_asc&per_page={per_page}"
                       f"&page={page}", "archivist_internal").json  # fmt: skip
        expected = oldest[(page - 1) * per_page : page * per_page]
        assert [r["complaint_no"] for r in body["results"]] == expected, (per_page, page)
        assert body["total"] == 30
    # The page: the sort links, and without words the newest first by default.
    relevance = api.get(f"/search?{query}", "archivist_internal")
    ordered = api.get(link(relevance, "受理日期，最早的在前"), "archivist_internal")
    assert page_numbers(ordered) == oldest[:20]
    newest = api.get(f"/search?received_from=2021-01-01&received_to=2023-12-31&{query}"
                     "&sort=received_on", "archivist_internal")  # fmt: skip
    assert page_numbers(newest) == oldest[::-1][:20]
    api.get(f"/api/v1/search?{query}&sort=oldest", "archivist_internal", status=422)


def test_a_facet_link_narrows_with_the_counts_of_the_api(api, corpus):
    query = f"q={quote(WORD)}"
    facets = api.get(f"/api/v1/search?{query}", "archivist_internal").json["facets"]
    page = api.get(f"/search?{query}", "archivist_internal")
    narrowed = api.get(link(page, "Ⅱ类"), "archivist_internal")
    wanted = facets["complaint_class"]["II"]
    assert f"<strong>{wanted}</strong>" in narrowed.text
    by_api = api.get(f"/api/v1/search?{query}&complaint_class=II", "archivist_internal").json
    assert by_api["total"] == wanted == 10
    assert sorted(page_numbers(narrowed)) == sorted(r["complaint_no"] for r in by_api["results"])
    # The chosen value's link widens the search again.
    assert "<strong>30</strong>" in api.get(link(narrowed, "Ⅱ类"), "archivist_internal").text
    # A year is the received-date range of that year.
    in_2022 = api.get(link(page, "2022"), "archivist_internal")
    assert f"<strong>{facets['year']['2022']}</strong>" in in_2022.text
    assert 'value="2022-01-01"' in in_2022.text and 'value="2022-12-31"' in in_2022.text
    both = api.get(link(in_2022, "服务"), "archivist_internal")
    expected = api.get(f"/api/v1/search?{query}&received_from=2022-01-01&received_to=2022-12-31"
                       "&complaint_type=service", "archivist_internal").json  # fmt: skip
    assert f"<strong>{expected['total']}</strong>" in both.text and expected["total"] > 0


def export_rows(response) -> list[list[str]]:
    if response.content_type == "text/csv":
        return list(csv.reader(io.StringIO(response.body.decode("utf-8-sig"))))
    sheet = openpyxl.load_workbook(io.BytesIO(response.body), read_only=True).active
    return [[cell if cell is not None else "" for cell in row] for row in sheet.values]


def test_a_restricted_dossier_never_shows_in_facets_or_exports_of_an_internal_user(api, corpus):
    secret = {d["complaint_no"] for d in corpus["restricted"]}
    query = f"q={quote(WORD)}"
    page = api.get(f"/search?{query}", "archivist_internal").text
    assert "包装设计" not in page and f">{SECRET_YEAR} (" not in page
    for url in ("/search.csv", "/search.xlsx"):
        numbers = {row[0] for row in export_rows(api.get(f"{url}?{query}", "archivist_internal"))}
        assert not numbers & secret and len(numbers) == 31  # the header and 30 rows
    # The same search by a restricted archivist has them: the test can fail.
    full = api.get(f"/search?{query}", "archivist").text
    assert "包装设计" in full and f">{SECRET_YEAR} (2)" in full
    assert secret <= {row[0] for row in export_rows(api.get(f"/search.csv?{query}", "archivist"))}


def test_export_rows_equal_the_api_results_and_are_logged(api, corpus):
    query = f"q={quote(WORD)}&sort=received_on_asc&complaint_type=service"
    expected = api_numbers(api, query, "auditor")
    assert len(expected) == 15
    for url in (f"/search.csv?{query}", f"/search.xlsx?{query}",
                f"/api/v1/search.csv?{query}", f"/api/v1/search.xlsx?{query}"):  # fmt: skip
        response = api.get(url, "auditor")
        assert "attachment" in response.headers["Content-Disposition"]
        rows = export_rows(response)
        assert rows[0][:3] == ["投诉编号", "投诉类别", "投诉类型"], url
        assert [row[0] for row in rows[1:]] == expected, url
        assert {row[2] for row in rows[1:]} == {"服务"}  # words, never the codes
    english = export_rows(api.get(f"/search.csv?{query}&_LOCALE_=en", "auditor"))
    assert english[0][:2] == ["Complaint number", "Complaint class"]
    entries = api.get("/api/v1/access-log?action=export&user=auditor", "privacy").json
    assert entries["total"] >= 4
    assert all(WORD in entry["detail"] and "15 results" in entry["detail"]
               for entry in entries["entries"][:4])  # fmt: skip
    api.get(f"/api/v1/search.csv?{query}", "privacy", status=403)
    api.get(f"/search.csv?{query}&received_from=2023-01-02&received_to=2023-01-01", "auditor",
            status=422)  # fmt: skip


def test_a_snippet_shows_why_a_dossier_matched_and_is_escaped(api, corpus, wsgi_app):
    page = api.get(f"/search?q={quote(WORD)}", "auditor").text
    # the summary's words around the query's, the query's marked (bigrams: 翻页, 专用)
    assert re.search(
        r'class="snippet">客户来电，<mark[^>]*>翻页</mark><mark[^>]*>专用</mark>词', page
    )
    number = complaint_no("I")
    file_dossier(api, metadata(
        complaint_no=number, title="摘要转义样本", confidentiality="internal",
        summary="<script>alert(1)</script> 转义检查词 <b>粗</b>",
    ))  # fmt: skip
    escaped = api.get(f"/search?q={quote('转义检查词')}", "auditor").text
    assert number in escaped and "<script>alert" not in escaped and "<b>粗" not in escaped
    assert "&lt;/script&gt;" in escaped and "&lt;b&gt;粗" in escaped and "<mark" in escaped


def test_document_text_matches_say_so_only_to_roles_that_search_it(api, corpus):
    files = [item for item in complete_files() if item[0] != "investigation_report"]
    from archive_app.demo.documents import make_pdf

    files.append(("investigation_report", "r.pdf", make_pdf("调查报告", ["正文独有词戊己"])))
    number = complaint_no("I")
    file_dossier(api, metadata(complaint_no=number, confidentiality="internal"), files)
    query = quote("正文独有词戊己")
    auditor = api.get(f"/search?q={query}", "auditor").text
    assert number in auditor and "在其文件的正文中找到。" in auditor
    records = api.get(f"/search?q={query}", "records").text
    assert number not in records and "<strong>0</strong>" in records
    # A manufacturer matched (a field without highlights): named, for every role.
    maker = complaint_no("I")
    products = [{"name": "维生素C片", "batch_no": "MK2301", "manufacturer": "庚辛独有制药厂"}]
    file_dossier(api, metadata(complaint_no=maker, confidentiality="internal",
                               products=products))  # fmt: skip
    for user in ("records", "auditor"):
        shown = api.get(f"/search?q={quote('庚辛独有')}", user).text
        assert maker in shown and "生产企业</span>: 庚辛独有制药厂" in shown, user
        assert "在其文件的正文中找到。" not in shown
    assert "unmarked" not in api.get(f"/api/v1/search?q={quote('庚辛独有')}", "records").json


def test_reversed_dates_are_refused_beside_the_fields(api, corpus):
    dates = "received_from=2023-05-02&received_to=2023-05-01"
    page = api.get(f"/search?q={quote(WORD)}&{dates}", "auditor", status=422)
    assert 'id="dates-error"' in page.text and "受理日期范围的起始日期晚于结束日期" in page.text
    assert 'aria-invalid="true"' in page.text and page_numbers(page) == []
    english = api.get(f"/search?{dates}&_LOCALE_=en", "auditor", status=422).text
    assert "The start of the received-date range is later than its end" in english
    answer = api.get(f"/api/v1/search?{dates}", "auditor", status=422).json
    assert answer["error"] == "invalid" and answer["field"] == "received_from"
    same_day = "received_from=2023-05-01&received_to=2023-05-01"
    api.get(f"/api/v1/search?{same_day}", "auditor", status=200)


def test_an_export_past_its_cap_says_so_and_formulas_stay_text(api, corpus, monkeypatch):
    from archive_app.search import exports, views

    monkeypatch.setattr(exports, "MAX_EXPORT_ROWS", 5)
    monkeypatch.setattr(views, "MAX_EXPORT_ROWS", 5)
    query = f"q={quote(WORD)}&sort=received_on"
    expected = api_numbers(api, query, "auditor")[:5]
    capped = api.get(f"/search.csv?{query}", "auditor")
    assert capped.headers["X-Export-Truncated"] == "5"
    assert [row[0] for row in export_rows(capped)[1:]] == expected
    workbook = export_rows(api.get(f"/search.xlsx?{query}", "auditor"))
    assert [row[0] for row in workbook[1:6]] == expected
    assert workbook[-1][0] == "只导出前 5 条结果：如需其余结果，请缩小检索范围。"
    assert "只导出前 5 条结果" in api.get(f"/search?{query}", "auditor").text
    monkeypatch.undo()
    number = complaint_no("I")
    file_dossier(api, metadata(complaint_no=number, title="=HYPERLINK(\"http://x\")公式标题",
                               confidentiality="internal", summary="公式检查词"))  # fmt: skip
    for url in ("/search.csv", "/search.xlsx"):
        [row] = export_rows(api.get(f"{url}?q={quote('公式检查词')}", "auditor"))[1:]
        assert row[0] == number and row[3] == '\'=HYPERLINK("http://x")公式标题', url
