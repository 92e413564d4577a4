"""An auditor searches in the browser: the next page of the results, a facet that narrows
them, the search saved under a name and run again, and the results exported as a workbook."""

from __future__ import annotations

import io
from datetime import date, timedelta

import openpyxl
import pytest
from factories import complaint_no, complete_files, file_dossier, metadata
from support import sign_in_page, submit

pytestmark = pytest.mark.browser
WORD = "浏览器检索词"


def test_auditor_pages_narrows_saves_and_exports(page, live_server, api, tmp_path):
    files = complete_files("unjustified")
    for number in range(24):
        cls = ("I", "II", "III")[number % 3]
        received = date(2022, 1, 3) + timedelta(days=number)
        file_dossier(api, metadata(
            complaint_no=complaint_no(cls, 2022), complaint_class=cls,
            received_on=received.isoformat(), closed_on="2022-03-01", outcome="unjustified",
            measures=[], confidentiality="internal", summary=f"{WORD}，第{number}号。",
        ), files)  # fmt: skip

    sign_in_page(page, live_server, "auditor")
    submit(page, "nav >> text=检索")
    page.fill("form.search input[name=q]", WORD)
    submit(page, "form.search button[type=submit]")
    assert page.locator("p.total strong").inner_text() == "24"
    assert page.locator("table.results tbody tr").count() == 20
    assert page.locator("p.snippet mark").count() >= 20  # why each matched

    submit(page, "nav.pager a.next")
    assert page.locator("table.results tbody tr").count() == 4
    assert "21–24" in page.locator("p.total").inner_text()

    submit(page, "div.facet a:has-text('Ⅱ类')")
    assert page.locator("p.total strong").inner_text() == "8"
    assert "page=" not in page.url  # a narrower search starts at its first page

    page.fill("form.save-search input[name=name]", "二类浏览器检索")
    submit(page, "form.save-search button")
    assert "检索已保存。" in page.content()
    submit(page, "a.run:has-text('二类浏览器检索')")
    assert page.locator("p.total strong").inner_text() == "8"
    assert "二类浏览器检索" in page.locator("section.saved-searches").inner_text()

    with page.expect_download() as download_info:
        page.click("a.export-xlsx")
    saved = tmp_path / "search.xlsx"
    download_info.value.save_as(str(saved))
    rows = list(openpyxl.load_workbook(io.BytesIO(saved.read_bytes())).active.values)
    assert rows[0][0] == "投诉编号" and len(rows) == 9
    assert {row[1] for row in rows[1:]} == {"Ⅱ类"}
