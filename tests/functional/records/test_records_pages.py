"""The pages people use, through WebTest: sign-in with CSRF, the dossier page, look-up."""

from __future__ import annotations

import pytest
from factories import file_dossier, filled_form, metadata
from support import PASSWORD


def signed_in(app, username):
    page = app.get("/login")
    form = page.forms[0]
    form["username"], form["password"] = username, PASSWORD
    form.submit(status=303)
    return app


@pytest.fixture
def filed(api):
    return file_dossier(api).json


def test_home_redirects_to_login_when_signed_out(app):
    assert app.get("/", status=303).location.endswith("/login")


def test_login_needs_the_csrf_token(app, users):
    app.get("/login")
    app.post("/login", {"username": "archivist", "password": PASSWORD}, status=400)


def test_dossier_page_shows_documents_and_personal_data(app, users, filed):
    signed_in(app, "archivist")
    page = app.get(f"/dossiers/{filed['id']}")
    assert filed["complaint_no"] in page.text
    assert "13812345678" in page.text
    assert page.text.count('class="download"') == len(filed["documents"])


def test_dossier_page_masks_for_auditors(app, users, filed):
    signed_in(app, "auditor")
    page = app.get(f"/dossiers/{filed['id']}")
    assert "13812345678" not in page.text and "138****5678" in page.text


def test_page_of_a_dossier_above_clearance_is_not_found(app, users, api):
    restricted = file_dossier(api, metadata(confidentiality="restricted")).json
    signed_in(app, "auditor")
    app.get(f"/dossiers/{restricted['id']}", status=404)


def test_lookup_by_complaint_number(app, users, filed):
    signed_in(app, "auditor")
    response = app.get(f"/lookup?complaint_no={filed['complaint_no']}", status=303)
    assert response.location.endswith(f"/dossiers/{filed['id']}")
    app.get("/lookup?complaint_no=TS-I-99-999", status=404)


def test_download_from_the_page(app, users, filed):
    signed_in(app, "auditor")
    document = filed["documents"][0]
    response = app.get(f"/dossiers/{filed['id']}/documents/{document['id']}")
    assert response.headers["Content-Disposition"].startswith("attachment")


def test_privacy_officer_may_not_open_dossiers(app, users, filed):
    signed_in(app, "privacy")
    app.get(f"/dossiers/{filed['id']}", status=403)
    app.get("/dossiers/new", status=403)


def test_filing_through_the_form(app, users):
    from factories import complaint_no, docx, pdf

    signed_in(app, "archivist")
    number = complaint_no("III", 2022)
    form = filled_form(app, number, "送货延误投诉", "BLG220301")
    form.set("upload", ("登记表.pdf", pdf("登记表")), index=0)
    form.set("upload", ("处理单.docx", docx("处理单")), index=1)
    response = form.submit("file", status=303)
    page = response.follow()
    assert number in page.text and "BLG220301" in page.text


def test_form_errors_are_shown_and_nothing_is_filed(app, users):
    signed_in(app, "archivist")
    form = app.get("/dossiers/new").forms["filing"]
    response = form.submit("file", status=422)
    assert "filing" in response.text


@pytest.mark.parametrize(("filename", "content", "status"), [
    ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
     415),
    ("登记表.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>", 415),
    ("登记表.pdf", b"", 415),
])  # fmt: skip
def test_hostile_uploads_through_the_form_are_refused_and_logged(app, api, users, filename,
                                                                  content, status):  # fmt: skip
    from factories import complaint_no, docx

    signed_in(app, "archivist")
    number = complaint_no("III", 2022)
    form = filled_form(app, number, "表单恶意上传", "BLG220302")
    form.set("upload", (filename, content), index=0)
    form.set("upload", ("处理单.docx", docx("处理单")), index=1)
    response = form.submit("file", status=status)
    assert "<script>alert" not in response.text
    assert api.get(f"/api/v1/dossiers?complaint_no={number}", "archivist").json["results"] == []
    refused = api.get("/api/v1/access-log?user=archivist&outcome=refused", "privacy").json
    assert refused["entries"] and str(status) in refused["entries"][0]["detail"]
