"""The quality manager's journey: issue the quarter's review from the browser, read its
charts, open a recurring complaint, print the review (its PDF)."""

from __future__ import annotations

import pytest
from factories import complaint_no, file_dossier, metadata
from support import screenshot_folder, sign_in_page, submit

pytestmark = pytest.mark.browser
PERIOD = "2013Q3"  # no other test files dossiers received in 2013


def test_quality_manager_issues_reads_and_prints_a_review(page, live_server, api, tmp_path):
    numbers = []
    for day in ("2013-07-08", "2013-08-12", "2013-09-16"):
        meta = metadata(complaint_no=complaint_no("I", 2013), received_on=day,
                        closed_on="2013-09-30", confidentiality="internal",
                        products=[{"name": "双黄连口服液", "batch_no": "SHL1307",
                                   "expiry": "2099-12"}])  # fmt: skip
        numbers.append(file_dossier(api, meta).json["complaint_no"])

    sign_in_page(page, live_server, "archivist")
    submit(page, "nav >> text=回顾报告")
    page.fill("#review-form input[name=period]", PERIOD)
    submit(page, "#review-form button")
    assert page.locator("figure.chart svg").count() >= 4
    recurrences = page.text_content("table.recurrences")
    assert all(number in recurrences for number in numbers)
    page.screenshot(path=str(screenshot_folder(tmp_path) / "review.png"), full_page=True)

    with page.expect_download() as download_info:
        page.click("p.downloads a.pdf")
    saved = tmp_path / "review.pdf"
    download_info.value.save_as(str(saved))
    assert saved.read_bytes().startswith(b"%PDF")

    submit(page, f"table.recurrences a >> text={numbers[0]}")
    assert numbers[0] in page.content() and "/dossiers/" in page.url
