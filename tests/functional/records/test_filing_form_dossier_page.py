"""The dossier page's own sections (issue 12 item 2): documents appended by archivists with
errors beside their input, the dossier's holds for records managers, its corrections, and
"who saw it" for privacy officers (who may not read the dossier itself)."""

from __future__ import annotations

import hashlib

import pytest
from factories import docx, file_dossier, jpeg, metadata, pdf


@pytest.fixture
def dossier(api, users):
    return file_dossier(api, metadata()).json


def test_archivists_append_documents_from_the_page(api, dossier):
    browser = api.browser("archivist")
    page = browser.get(f"/dossiers/{dossier['id']}")
    form = next(f for f in page.forms.values() if "append" in f.fields)
    photo, report = jpeg(11), pdf("补充调查报告")
    form.set("attachment", [("现场照片.jpg", photo)])
    form.set("investigation_report", ("补充调查.pdf", report))
    response = form.submit("append", status=303).follow()
    assert "2 个文件已追加" in response.html.select_one("#filed-message").get_text()
    shown = api.get(f"/api/v1/dossiers/{dossier['id']}", "archivist").json
    digests = {d["sha256"] for d in shown["documents"]}
    assert {hashlib.sha256(photo).hexdigest(), hashlib.sha256(report).hexdigest()} <= digests
    entries = api.get(f"/api/v1/access-log?action=append&dossier_id={dossier['id']}",
                      "privacy").json["entries"]  # fmt: skip
    assert entries and "(web)" in entries[0]["detail"]


def test_a_refused_append_says_which_file_beside_its_input(api, dossier):
    browser = api.browser("archivist")
    page = browser.get(f"/dossiers/{dossier['id']}")
    form = next(f for f in page.forms.values() if "append" in f.fields)
    form.set("reply_report", ("答复.docx", b"<html><script>alert(1)</script>"))
    form.set("attachment", [("好的附件.docx", docx("附件"))])
    response = form.submit("append", status=415)
    error = response.html.select_one("#append-error-reply_report").get_text()
    assert "答复.docx" in error and "请重新选择" in error
    assert "<script>alert" not in response.text
    before = len(dossier["documents"])
    assert len(api.get(f"/api/v1/dossiers/{dossier['id']}", "archivist").json["documents"]) \
        == before  # fmt: skip


def test_an_empty_append_is_refused_on_the_page(api, dossier):
    browser = api.browser("archivist")
    page = browser.get(f"/dossiers/{dossier['id']}")
    form = next(f for f in page.forms.values() if "append" in f.fields)
    response = form.submit("append", status=422)
    assert response.html.select_one("#append-error").get_text().strip()


@pytest.mark.parametrize("user", ["auditor", "records"])
def test_only_archivists_see_the_append_form(api, dossier, user):
    page = api.get(f"/dossiers/{dossier['id']}", user)
    assert not page.html.select("form.append")
    api.post(f"/dossiers/{dossier['id']}", user, status=403)


def test_records_managers_see_active_and_released_holds(api, dossier):
    url = f"/api/v1/dossiers/{dossier['id']}/holds"
    first = api.post_json(url, {"reason": "监管问询保全"}, "records", status=201).json
    api.delete_json(f"{url}/{first['id']}", {"reason": "问询结束"}, "records")
    api.post_json(url, {"reason": "诉讼保全"}, "records", status=201)
    page = api.get(f"/dossiers/{dossier['id']}", "records")
    rows = page.html.select("section.dossier-holds tr.active, section.dossier-holds tr.released")
    text = {row["class"][0]: row.get_text(" ", strip=True) for row in rows}
    assert "诉讼保全" in text["active"]
    assert "监管问询保全" in text["released"] and "问询结束" in text["released"]
    for user in ("archivist", "auditor"):
        assert not api.get(f"/dossiers/{dossier['id']}", user).html.select("section.dossier-holds")


def test_corrections_are_listed_with_the_changed_date(api, dossier):
    url = f"/api/v1/dossiers/{dossier['id']}/corrections"
    api.post_json(url, {"reason": "厂家更正有效期",
                        "products": [{"batch_no": "20230512", "expiry": "2026-02"}]},
                  "records", status=201)  # fmt: skip
    page = api.get(f"/dossiers/{dossier['id']}", "auditor")
    text = page.html.select_one("section.dossier-corrections").get_text(" ", strip=True)
    assert "厂家更正有效期" in text and "2025-06 → 2026-02" in text
    assert "销毁日期" in text or "可销毁日期" in text or "2027-02-28" in text
    assert "destroy_after" not in text and ".expiry" not in text


def test_above_clearance_a_privacy_officer_gets_no_link(api, users):
    from support import add_users

    tokens = add_users(api.app, {"privacy_below_filing": ("privacy_officer", "internal")})
    api.tokens.update(tokens)
    secret = file_dossier(api, metadata(confidentiality="restricted")).json
    page = api.get(f"/dossiers/{secret['id']}", "privacy_below_filing", status=403)
    assert not page.html.select(".who-saw-it")
    unknown = api.get("/dossiers/0123456789abcdef0123456789abcdef", "privacy_below_filing",
                      status=403)  # fmt: skip
    assert page.html.select_one("main").get_text() == unknown.html.select_one("main").get_text()


def test_privacy_officers_get_a_who_saw_it_link_instead_of_the_dossier(api, dossier):
    page = api.get(f"/dossiers/{dossier['id']}", "privacy", status=403)
    link = page.html.select_one(".who-saw-it a")
    assert link["href"].endswith(f"/access-log?dossier_id={dossier['id']}")
    assert dossier["title"] not in page.text and dossier["complaint_no"] not in page.text
    # An id that does not exist, and a dossier above the officer's clearance, answer alike.
    unknown = api.get("/dossiers/0123456789abcdef0123456789abcdef", "privacy", status=403)
    assert not unknown.html.select(".who-saw-it")
    assert api.get(link["href"], "privacy").status_int == 200
    assert not api.get(f"/dossiers/{dossier['id']}", "auditor").html.select(".who-saw-it")
