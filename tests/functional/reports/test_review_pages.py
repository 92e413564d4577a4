"""The reviews' pages: the list with its form (archivists), issuing from the browser, and a
review with its charts as SVG, its recurrences linked to their dossiers; Chinese by default,
English with the switch, never a raw code."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import webtest
from factories import complaint_no, file_dossier, metadata

PERIOD = "2014Q2"  # no other test files dossiers received in 2014


class Text(HTMLParser):
    """The text a person sees (SVG text included: the charts' words), without scripts."""

    def __init__(self):
        super().__init__()
        self.parts, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self.skip -= tag in ("script", "style") and self.skip > 0

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


@pytest.fixture(scope="module")
def numbers(wsgi_app, tokens):
    """Three internal dossiers of one product and type in the quarter: a recurrence."""
    from conftest import Api

    api, filed = Api(webtest.TestApp(wsgi_app), tokens), []
    for day in ("2014-04-02", "2014-05-06", "2014-06-09"):
        number = complaint_no("II", 2014)
        file_dossier(api, metadata(
            complaint_no=number, complaint_class="II", complaint_type="inner_packaging",
            confidentiality="internal", received_on=day, closed_on="2014-06-30",
            channel="wechat", products=[{"name": "板蓝根颗粒", "batch_no": f"BL{day[5:7]}",
                                         "expiry": "2099-12"}]))  # fmt: skip
        filed.append(number)
    return filed


def issue_from_page(api, user="archivist_internal"):
    page = api.get("/reports/reviews", user)
    form = page.forms["review-form"]
    form["period"] = PERIOD
    answer = form.submit("issue", status=303)
    assert re.search(r"/reports/reviews/[0-9a-f]{32}$", answer.location)
    return answer.follow()


def test_the_list_offers_the_form_to_archivists_only(api):
    assert "review-form" in api.get("/reports/reviews", "archivist").forms
    listing = api.get("/reports/reviews", "auditor")
    assert "review-form" not in listing.forms and "季度与年度回顾" in listing.text
    api.get("/reports/reviews", "privacy", status=403)


def test_a_review_issued_from_the_browser_shows_charts_and_linked_recurrences(api, numbers):
    page = issue_from_page(api)
    html = page.text
    assert html.count("<svg") >= 4  # by type, by class, by product, a control chart per type
    shown = visible(html)
    for words in ("投诉质量回顾", "重复发生", "控制图", "内包装", "板蓝根颗粒", "微信", "控制上限"):
        assert words in shown, words
    for number in numbers:
        assert f"/lookup?complaint_no={number}" in html
    for code in ("inner_packaging", "wechat", "product_type", "internal"):
        assert not re.search(rf"(?<![\w-]){code}(?![\w-])", shown), code
    english = api.get(page.request.path + "?_LOCALE_=en", "archivist_internal")
    shown = visible(english.text)
    for words in ("Complaint quality review", "Recurrences", "Inner packaging", "WeChat",
                  "Upper control limit"):  # fmt: skip
        assert words in shown, words
    assert "inner_packaging" not in shown
    # The page's downloads are the review's own.
    assert page.click(href=r"\.xlsx$").content_type.endswith("spreadsheetml.sheet")
    assert api.get(page.request.path + ".json", "auditor").json["period"] == PERIOD


def test_a_bad_period_is_refused_on_the_page(api):
    page = api.get("/reports/reviews", "archivist")
    form = page.forms["review-form"]
    form["period"] = "2999"
    refused = form.submit("issue", status=422)
    assert "review-error" in refused.text and "期间" in visible(refused.text)


def test_the_page_links_at_most_its_share_of_numbers(api, numbers, monkeypatch):
    from archive_app.reports import review_views

    review_id = api.post_json("/api/v1/reports/reviews", {"period": PERIOD}, "archivist").json[
        "review_id"]  # fmt: skip
    monkeypatch.setattr(review_views, "PAGE_NUMBERS", 1)
    shown = api.get(f"/reports/reviews/{review_id}", "archivist").text
    paragraph = shown[shown.index('<p class="numbers">') :]
    paragraph = paragraph[: paragraph.index("</p>")]
    assert paragraph.count("/lookup?") == 1 and "另有 2 个" in paragraph
