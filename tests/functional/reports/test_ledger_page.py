"""The `/reports/ledger` page: filters, totals, the pager and the Excel download, for each
role that reads the ledger (in Chinese, personal data masked per role, trimmed by
clearance); refused to the others; the nav link only for its readers."""

from __future__ import annotations

import io
import re
import uuid
from html import unescape

import pytest
import webtest
from factories import complaint_no, file_dossier, metadata
from openpyxl import load_workbook

PAGE = "/reports/ledger"


@pytest.fixture(scope="module")
def marked(wsgi_app, tokens):
    """Three dossiers of one product no other test names: internal, internal, restricted."""
    from conftest import Api

    api = Api(webtest.TestApp(wsgi_app), tokens)
    mark = uuid.uuid4().hex[:8].upper()
    filed = []
    for day, level in (("03", "internal"), ("04", "internal"), ("05", "restricted")):
        meta = metadata(complaint_no=complaint_no("I", 2024), received_on=f"2024-06-{day}",
                        closed_on="2024-06-30", confidentiality=level,
                        products=[{"name": f"页面台账{mark}", "batch_no": f"P{day}{mark}",
                                   "expiry": "2029-01"}])  # fmt: skip
        filed.append(file_dossier(api, meta).json)
    return {"mark": mark, "numbers": [dossier["complaint_no"] for dossier in filed]}


def total_on(page) -> int:
    return int(re.search(r'id="ledger-total">(\d+)<', page.text).group(1))


@pytest.mark.parametrize(("user", "shown", "name"), [
    ("archivist", 3, "张三丰"), ("archivist_internal", 2, "张三丰"), ("auditor", 2, "张**"),
    ("records", 3, "张**")])  # fmt: skip
def test_the_page_shows_the_rows_each_reader_may_read(api, marked, user, shown, name):
    page = api.get(PAGE, user, params={"product": marked["mark"]}, status=200)
    assert total_on(page) == shown
    listed = [number for number in marked["numbers"] if number in page.text]
    assert listed == marked["numbers"][:shown]  # the restricted one only for those cleared
    assert name in page.text
    if name == "张**":
        assert "张三丰" not in page.text and "仁和大药房" not in page.text
    for words in ("投诉台账", "登记编号", "受理日期", "处理结论", "Ⅰ类", "投诉成立", "已归档"):
        assert words in page.text, words
    assert '/reports/ledger">台账</a>' in page.text  # the nav link


def test_filters_pager_and_the_excel_link_keep_the_query(api, marked):
    mark = marked["mark"]
    first = api.get(PAGE, "records", params={"product": mark, "per_page": "2"})
    assert total_on(first) == 3 and "1 / 2" in first.text
    assert marked["numbers"][:2] == [n for n in marked["numbers"] if n in first.text]
    following = unescape(re.search(r'href="([^"]+)">下一页<', first.text).group(1))
    second = api.get(following, "records")
    assert [n for n in marked["numbers"] if n in second.text] == marked["numbers"][2:]
    assert "上一页" in second.text
    narrowed = api.get(PAGE, "records", params={"product": mark, "from": "2024-06-04",
                                                  "to": "2024-06-04"})  # fmt: skip
    assert total_on(narrowed) == 1 and marked["numbers"][1] in narrowed.text
    excel = unescape(re.search(r'id="ledger-excel" href="([^"]+)"', narrowed.text).group(1))
    assert excel.startswith("http://localhost/reports/ledger.xlsx?") and "per_page" not in excel
    workbook = api.get(excel, "records", status=200)
    sheet = load_workbook(io.BytesIO(workbook.body), read_only=True).worksheets[0]
    cells = list(sheet.iter_rows(values_only=True))
    assert cells[0][0] == "登记编号" and [row[0] for row in cells[1:]] == [marked["numbers"][1]]


def test_the_empty_form_means_no_filter(api, marked):
    empty = {"from": "", "to": "", "complaint_class": "", "product": ""}
    assert total_on(api.get(PAGE, "auditor", params=empty)) == total_on(api.get(PAGE, "auditor"))


def test_bad_filters_are_refused_on_the_page(api, marked):
    page = api.get(PAGE, "auditor", params={"from": "2024-13-01"}, status=422)
    assert "受理" in page.text or "日期" in page.text


@pytest.mark.parametrize("user", ["privacy", "admin"])
def test_roles_that_may_not_read_it_are_refused_and_not_shown_the_link(api, marked, user):
    for url in (PAGE, "/reports/ledger.xlsx"):
        api.get(url, user, status=403)
    assert "/reports/ledger" not in api.get("/", user).text


def test_the_page_in_english(api, marked):
    page = api.get(PAGE, "auditor", params={"product": marked["mark"], "_LOCALE_": "en"})
    for words in ("Complaint ledger", "Registration number", "Download Excel", "Class I"):
        assert words in page.text, words
