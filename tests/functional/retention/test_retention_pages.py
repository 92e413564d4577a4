"""The retention page as a records manager uses it (issue 12 item 6): the due list with title,
product and total, paged; dry runs apart from destructions; a real run confirmed against the
count and the list it showed; the run history paged with its certificates; a certificate as
a page; a destroyed dossier's tombstone page."""

from __future__ import annotations

import io
import re
import uuid

import pytest
import webtest
from conftest import Api
from factories import complaint_no, file_dossier, metadata
from pypdf import PdfReader
from support import add_users

from archive_app.labels import LABELS
from archive_app.retention import views

# Every dossier here closed 2009-04-01 with its product expired 2009-06: destroy after
# 2010-06-30. Nothing the other tests file is due this early, so runs here touch only these.
AS_OF = "2011-01-01"
PEOPLE = {"pages_auditor_internal": ("auditor", "internal")}


@pytest.fixture(scope="module")
def module_tokens(wsgi_app, tokens) -> dict[str, str]:
    return {**tokens, **add_users(webtest.TestApp(wsgi_app), PEOPLE)}


@pytest.fixture
def rapi(app, module_tokens) -> Api:
    api = Api(app, module_tokens)
    yield api
    # What a failed test left due would be counted by the next one: destroyed here.
    destroy(api)


def file_due(api, level: str = "internal", title: str = "复方丹参片包装破损投诉") -> dict:
    batch = "DS" + uuid.uuid4().hex[:8].upper()
    meta = metadata(
        complaint_no=complaint_no("II", 2009), complaint_class="II", received_on="2009-03-01",
        closed_on="2009-04-01", title=title, confidentiality=level,
        products=[{"name": "复方丹参片", "batch_no": batch, "expiry": "2009-06"}],
    )  # fmt: skip
    dossier = file_dossier(api, meta).json
    assert dossier["destroy_after"] == "2010-06-30"
    return dossier


def destroy(api, user: str = "records") -> dict:
    return api.post_json("/api/v1/retention/runs", {"as_of": AS_OF, "dry_run": False}, user,
                         status=201).json  # fmt: skip


def state(api, dossier) -> str:
    return api.get(f"/api/v1/dossiers/{dossier['id']}", "records", expect_errors=True).json.get(
        "state", "destroyed"
    )


def ask_to_run(api, user: str = "records", locale: str = "zh_CN", **extra):
    return api.post(f"/retention?_LOCALE_={locale}", user,
                    params={"action": "run", "as_of": AS_OF, **extra})  # fmt: skip


def test_the_due_list_shows_title_product_and_total_in_pages(rapi, monkeypatch):
    monkeypatch.setattr(views, "DUE_PER_PAGE", 2)
    due = [file_due(rapi, title=f"第{n}号丹参片投诉") for n in range(3)]
    first = rapi.get(f"/retention?as_of={AS_OF}&_LOCALE_=en", "records")
    total = first.html.select_one("#due-total").text
    assert "3 due, 0 of them under hold." in total
    rows = first.html.select("table.due tbody tr")
    assert [row.select("td")[0].text for row in rows] == [d["complaint_no"] for d in due[:2]]
    cells = [cell.text for cell in rows[0].select("td")]
    assert cells[1] == "第0号丹参片投诉"
    assert cells[2] == f"复方丹参片 ({due[0]['products'][0]['batch_no']})"
    assert cells[4] and cells[4] not in LABELS  # the rule by its label, not its code
    assert "Page 1 of 2" in first.html.select_one("nav.due-pager").text
    second = rapi.get(first.html.select_one("nav.due-pager a[rel=next]")["href"], "records")
    assert [row.select("td")[0].text for row in second.html.select("table.due tbody tr")] == [
        due[2]["complaint_no"]
    ]
    assert "Page 2 of 2" in second.html.select_one("nav.due-pager").text


def test_a_dry_run_is_shown_apart_from_destructions(rapi):
    dossier = file_due(rapi)
    page = ask_to_run(rapi, locale="en", dry_run="on")
    result = page.html.select_one("#dry-run-result")
    assert "Dry run: nothing was destroyed" in result.text
    assert "Would be destroyed (dry run)" in result.text
    assert dossier["complaint_no"] in [li.text for li in result.select("ul.would-destroy li")]
    assert page.html.select_one("#retention-message") is None  # no destruction reported
    ours = next(row for row in page.html.select("table.runs tbody tr")
                if dossier["complaint_no"] in row.text)  # fmt: skip
    assert "dry-run" in ours["class"] and "would be destroyed (dry run)" in ours.text
    assert state(rapi, dossier) == "archived"


def test_a_real_run_asks_to_confirm_how_many_it_destroys(rapi):
    due = [file_due(rapi), file_due(rapi)]
    held = file_due(rapi)
    rapi.post_json(f"/api/v1/dossiers/{held['id']}/holds", {"reason": "诉讼"}, "records",
                   status=201)  # fmt: skip
    asked = ask_to_run(rapi)  # no dry_run: the confirmation step, nothing destroyed yet
    assert "截至 2011-01-01，将销毁 2 份档案。" in asked.html.select_one("#confirm-count").text
    listed = [row.select("td")[0].text for row in asked.html.select("table.to-destroy tbody tr")]
    assert listed == [d["complaint_no"] for d in due]
    assert held["complaint_no"] in asked.html.select_one("p.held").text
    assert [state(rapi, d) for d in due] == ["archived", "archived"]
    form = next(f for f in asked.forms.values() if "expected" in f.fields)
    assert form["expected_count"].value == "2" and form["as_of"].value == AS_OF
    done = form.submit("confirm")
    message = done.html.select_one("#retention-message").text
    assert "已销毁 2 份" in message and all(d["complaint_no"] in message for d in due)
    assert held["complaint_no"] in message.split("已销毁")[-1]  # named as kept under hold
    link = done.html.select_one("#retention-message a.certificate")["href"]
    assert re.search(r"/retention/certificates/[0-9a-f]{32}$", link)
    assert [state(rapi, d) for d in due] == ["destroyed", "destroyed"]
    assert state(rapi, held) == "held"
    hold = rapi.get("/api/v1/holds?active=true", "records").json["results"]
    for item in hold:
        if item.get("dossier_id") == held["id"]:
            rapi.delete_json(f"/api/v1/dossiers/{held['id']}/holds/{item['id']}",
                             {"reason": "结束"}, "records")  # fmt: skip


def test_a_confirmation_is_refused_when_the_list_changed(rapi):
    first = file_due(rapi)
    asked = ask_to_run(rapi)
    form = next(f for f in asked.forms.values() if "expected" in f.fields)
    second = file_due(rapi)  # due too, but not on the list the person saw
    refused = form.submit("confirm", status=409)
    assert "清单已变化（当时 1 份，现在 2 份）" in refused.html.select_one("#retention-error").text
    assert [state(rapi, d) for d in (first, second)] == ["archived", "archived"]
    # The same count, another list: the fingerprint of the list refuses it too.
    again = next(f for f in refused.forms.values() if "expected" in f.fields)
    assert again["expected_count"].value == "2"
    rapi.post_json(f"/api/v1/dossiers/{first['id']}/holds", {"reason": "复核"}, "records",
                   status=201)  # fmt: skip
    third = file_due(rapi)
    again.submit("confirm", status=409)
    assert [state(rapi, d) for d in (second, third)] == ["archived", "archived"]
    # A tampered count is refused as well; nothing is destroyed.
    tampered = next(f for f in ask_to_run(rapi).forms.values() if "expected" in f.fields)
    tampered["expected_count"] = "99"
    tampered.submit("confirm", status=409)
    assert state(rapi, second) == "archived"
    fresh = next(f for f in ask_to_run(rapi).forms.values() if "expected" in f.fields)
    fresh.submit("confirm")
    assert [state(rapi, d) for d in (second, third)] == ["destroyed", "destroyed"]
    assert state(rapi, first) == "held"
    for item in rapi.get("/api/v1/holds?active=true", "records").json["results"]:
        if item.get("dossier_id") == first["id"]:
            rapi.delete_json(f"/api/v1/dossiers/{first['id']}/holds/{item['id']}",
                             {"reason": "结束"}, "records")  # fmt: skip


def test_a_future_date_is_refused_before_any_confirmation(rapi):
    page = rapi.post("/retention", "records", params={"action": "run", "as_of": "2999-01-01"},
                     status=422)  # fmt: skip
    assert page.html.select_one("#retention-error") is not None
    assert "confirm-count" not in page.text


def test_the_run_history_is_paged_newest_first_with_certificates(rapi, monkeypatch):
    monkeypatch.setattr(views, "RUNS_PER_PAGE", 2)
    file_due(rapi)
    certificate_id = destroy(rapi)["certificate_id"]
    for day in ("2011-02-01", "2011-03-01"):
        rapi.post_json("/api/v1/retention/runs", {"as_of": day, "dry_run": True}, "records",
                       status=201)  # fmt: skip
    # Other tests' runs may be dated later (a moved clock): walk the pages until ours.
    rows, page = [], rapi.get("/retention", "records")
    while len(rows) < 40:
        shown = page.html.select("table.runs tbody tr")
        assert len(shown) <= 2
        rows += shown
        if certificate_id in page.html.select_one("table.runs").decode():
            break
        page = rapi.get(page.html.select_one("nav.runs-pager a[rel=next]")["href"], "records")
    real = next(i for i, row in enumerate(rows) if certificate_id in row.decode())
    as_of = [row.select("td")[1].text for row in rows]
    assert as_of[real - 2 : real + 1] == ["2011-03-01", "2011-02-01", AS_OF]  # newest first
    started = [row.select("td")[0].text for row in rows]
    assert started == sorted(started, reverse=True)
    link = rows[real].select_one("a.certificate")["href"]
    assert link.endswith(f"/retention/certificates/{certificate_id}")
    assert rows[real - 1].select_one("a.certificate") is None  # a dry run issues none
    assert page.html.select_one("nav.runs-pager") is not None


def test_a_certificate_reads_as_a_page(rapi):
    dossier = file_due(rapi)
    result = destroy(rapi)
    url = f"/retention/certificates/{result['certificate_id']}"
    for reader in ("records", "auditor"):
        page = rapi.get(url + "?_LOCALE_=en", reader)
        text = page.html.select_one("main").text
        assert "Signature verified under the archive's signing key." in text
        assert "records" in page.html.select_one("dl.meta").text  # the operator
        assert "Asia/Shanghai" in text  # issued at, in the archive's zone with its name
        assert "Cryptographic erase" in text  # the method's label, not its stored text
        row = page.html.select_one("table.records tbody tr")
        assert row.select_one("a").text == dossier["complaint_no"]
        assert row.select_one("a")["href"].endswith(f"/dossiers/{dossier['id']}")
        assert "Class II" in row.text and "Intrinsic quality" in row.text
        assert row.select("td")[5].text.strip()  # the rule, by its label
        chain = page.html.select_one("dl.chain").text
        assert re.search(r"[0-9a-f]{64}", chain)
        previous = page.html.select_one("dl.chain a.previous")
        if previous is not None:  # the first certificate of the archive has none
            assert "/retention/certificates/" in previous["href"]
        assert page.html.select_one("a.json")["href"].endswith(".json")
        assert page.html.select_one("a.pdf")["href"].endswith(".pdf")
    chinese = rapi.get(url + "?_LOCALE_=zh_CN", "records").text
    assert "签名已通过本档案库签名密钥的核验" in chinese
    # The same address, asked for JSON, answers what the API answers.
    asked = rapi.get(url, "records", headers={"Accept": "application/json"})
    assert asked.content_type == "application/json"
    signed = rapi.get(f"/api/v1/retention/certificates/{result['certificate_id']}", "records")
    assert asked.json == signed.json and "signature" in asked.json
    browser = rapi.get(url, "records", headers={"Accept": "text/html,*/*;q=0.8"})
    assert browser.content_type == "text/html"
    rapi.get(url, "archivist", status=403)
    rapi.get("/retention/certificates/" + "0" * 32, "records", status=404)
    logged = rapi.get("/api/v1/access-log?action=certificate&user=records", "privacy").json
    assert any(f"certificate {result['certificate_id']} (page)" in entry["detail"]
               for entry in logged["entries"])  # fmt: skip


def test_a_certificate_shows_only_what_the_reader_may_read(rapi):
    restricted = file_due(rapi, "restricted")
    alone = destroy(rapi)["certificate_id"]
    url = f"/retention/certificates/{alone}"
    assert restricted["complaint_no"] in rapi.get(url, "records").text
    hidden = rapi.get(url, "pages_auditor_internal", status=404)
    assert restricted["complaint_no"] not in hidden.text
    tombstone = rapi.get(f"/dossiers/{restricted['id']}", "pages_auditor_internal", status=404)
    assert restricted["complaint_no"] not in tombstone.text  # its tombstone stays hidden too

    internal, restricted = file_due(rapi), file_due(rapi, "restricted")
    mixed = destroy(rapi)["certificate_id"]
    page = rapi.get(f"/retention/certificates/{mixed}?_LOCALE_=en", "pages_auditor_internal")
    assert internal["complaint_no"] in page.text
    assert restricted["complaint_no"] not in page.text and restricted["id"] not in page.text
    assert "1 record(s) above your clearance withheld" in page.html.select_one(
        "#certificate-partial").text  # fmt: skip
    printed = pdf_text(rapi.get(f"/retention/certificates/{mixed}.pdf",
                                "pages_auditor_internal").body)  # fmt: skip
    assert "无：部分视图不带签名" in printed and restricted["complaint_no"] not in printed


def test_a_destroyed_dossier_shows_its_tombstone(rapi):
    dossier = file_due(rapi)
    certificate_id = destroy(rapi)["certificate_id"]
    page = rapi.get(f"/dossiers/{dossier['id']}?_LOCALE_=en", "auditor", status=410)
    text = page.html.select_one("main").text
    assert dossier["complaint_no"] in text and "Destroyed" in text
    destroyed_at = page.html.select_one("#destroyed-at").text
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} Asia/Shanghai", destroyed_at)
    link = page.html.select_one("a.certificate")
    assert link["href"].endswith(f"/retention/certificates/{certificate_id}")
    rapi.get(link["href"], "auditor", status=200)
    assert dossier["title"] not in page.text  # erased with the dossier
    chinese = rapi.get(f"/dossiers/{dossier['id']}?_LOCALE_=zh_CN", "archivist", status=410)
    assert "本档案已按保存规则销毁" in chinese.text and certificate_id in chinese.text
    assert chinese.html.select_one("a.certificate") is None  # archivists read no certificate
    api_answer = rapi.get(f"/api/v1/dossiers/{dossier['id']}", "auditor", status=410).json
    assert api_answer["error"] == "destroyed"


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_certificate_pdf_prints_chinese_labels_and_no_codes(rapi):
    dossier = file_due(rapi)
    certificate_id = destroy(rapi)["certificate_id"]
    response = rapi.get(f"/retention/certificates/{certificate_id}.pdf", "records")
    printed = pdf_text(response.body)
    for text in ("数据销毁证书", "投诉编号", "Ⅱ类", "内在质量", "文件数、大小", "密码学擦除",
                 "Asia/Shanghai", dossier["complaint_no"]):  # fmt: skip
        assert text in printed, text
    # English beside the Chinese is expected ("search entries purged"); a stored code is not:
    # the compound ones, and the one-word states and levels a record could carry.
    codes = [code for code in LABELS if re.fullmatch(r"[a-z][a-z_-]{2,}", code)
             and re.search("[_-]", code)] + ONE_WORD_CODES  # fmt: skip
    shown = [code for code in codes if re.search(rf"(?<![A-Za-z_]){code}(?![A-Za-z_])",
                                                 printed)]  # fmt: skip
    assert not shown, shown
    assert "■" not in printed


ONE_WORD_CODES = ["destroyed", "destroying", "archived", "held", "internal", "confidential",
                  "restricted", "justified", "unjustified"]  # fmt: skip


def test_a_long_cell_wraps_inside_its_column():
    """A plain table cell never wraps: one too wide for its column would run over the next."""
    from reportlab.platypus import Paragraph

    from archive_app.fonts import pdf_cjk_font
    from archive_app.retention.certificates import CELL_PADDING, _fitted

    font = pdf_cjk_font()
    long_number = "TS-III-19-" + "1234567890" * 3
    cells = _fitted([long_number, "2019-02-01"], [30 * 72 / 25.4, 19 * 72 / 25.4], font, 8,
                    _cell_style(font))  # fmt: skip
    assert isinstance(cells[0], Paragraph) and cells[1] == "2019-02-01"
    room = 30 * 72 / 25.4 - 2 * CELL_PADDING
    width, height = cells[0].wrap(room, 1000)
    assert width <= room and height > 11  # on more than one line, inside the column


def _cell_style(font):
    from reportlab.lib.styles import ParagraphStyle

    return ParagraphStyle("cell", fontName=font, fontSize=8, leading=11, wordWrap="CJK")
