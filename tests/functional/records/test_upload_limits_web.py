"""The web filing form's limits (issue 10 item 7): the same file part limit as the API's
(`archive.max_parts`), refused before WebOb spools the parts, and no silent confidentiality."""

from __future__ import annotations

import pytest
from factories import complaint_no, docx, filled_form, pdf
from test_records_pages import signed_in


def test_a_normal_filing_fits_the_web_form_limit(app, users):
    signed_in(app, "archivist")
    form = filled_form(app, complaint_no("III", 2022), "限额内的表单", "BLG220310")
    form.set("upload", ("登记表.pdf", pdf("登记表")), index=0)
    form.set("upload", ("处理单.docx", docx("处理单")), index=1)
    form.submit("file", status=303)


@pytest.mark.parametrize("kind", ["file", "field"])
def test_web_form_refuses_more_parts_than_the_api(app, users, kind):
    signed_in(app, "archivist")
    form = filled_form(app, complaint_no("III", 2022), "过多部分", "BLG220311")
    fields = form.submit_fields("file")
    max_parts = int(app.app.registry.settings["archive.max_parts"])
    if kind == "file":  # one file more than the API takes in one request
        extra = [("upload", ("a.pdf", b"%PDF-1.4\n")) for _ in range(max_parts + 1)]
    else:
        extra = [(f"x{index}", "y") for index in range(5000)]  # the 5,000 parts
    response = app.post(
        "/dossiers/new",
        params=[(name, value) for name, value in fields if not isinstance(value, tuple)]
        + [item for item in extra if not isinstance(item[1], tuple)],
        upload_files=[("upload", "登记表.pdf", pdf("登记表")), ("upload", "处理单.docx", docx())]
        + [(name, *value) for name, value in extra if isinstance(value, tuple)],
        status=413,
    )
    assert "请求过大" in response.text  # the refusal in the page's language


def test_web_form_has_no_preselected_confidentiality(app, users):
    signed_in(app, "archivist")
    form = filled_form(app, complaint_no("III", 2022), "无密级", "BLG220312")
    assert app.get("/dossiers/new").forms["filing"]["confidentiality"].value == ""
    form["confidentiality"] = ""
    form.set("upload", ("登记表.pdf", pdf("登记表")), index=0)
    form.set("upload", ("处理单.docx", docx("处理单")), index=1)
    response = form.submit("file", status=422)
    field = response.html.select_one('select[name="confidentiality"]')
    assert "is-invalid" in field["class"]
    assert field.find_parent(class_="item-confidentiality").select_one('[id^="error-"]')
