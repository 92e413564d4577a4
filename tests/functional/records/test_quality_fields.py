"""Issue #13 items 1 and 2: the three outcomes and what each must file, and the optional
quality metadata (contract §8) validated, stored, returned, shown and searchable."""

from __future__ import annotations

import pytest
from factories import complaint_no, complete_files, file_dossier, metadata, pdf
from sqlalchemy import text
from support import assert_error

from archive_app.interfaces import IDatabase

TIMELINE = {
    "acknowledged_on": "2023-05-13",
    "replied_on": "2023-05-20",
    "closure": "customer_satisfied",
    "closure_approved_by": "王质量",
    "extension": {"until": "2023-06-30", "reason": "需补充检验", "approved_by": "李经理"},
}
QUALITY = {
    "timeline": TIMELINE,
    "supplier": "瑞丰医药供应链有限公司",
    "adr_report_no": "ADR2023QX0417",
    "recall_no": "ZH2023RC088",
    "qp_notified_on": "2023-05-14",
    "regulator_report": {
        "authority": "上海市药品监督管理局",
        "reported_on": "2023-05-20",
        "reference": "沪药监 2023-117",
    },
}


def without(files, kind):
    return [item for item in files if item[0] != kind]


# -- item 1: outcomes and completeness ----------------------------------------------------


@pytest.mark.parametrize("outcome", ["justified", "unjustified"])
@pytest.mark.parametrize(
    "missing", ["registration_form", "handling_sheet", "investigation_report", "reply_report"]
)
def test_investigated_outcomes_need_all_four_documents(api, outcome, missing):
    meta = metadata(outcome=outcome, measures=[])
    response = file_dossier(api, meta, without(complete_files("justified"), missing), status=422)
    assert_error(response, 422, "incomplete", missing)


def test_unjustified_with_its_reports_is_filed(api):
    meta = metadata(outcome="unjustified", measures=[], capa_ref=None)
    body = file_dossier(api, meta, complete_files("unjustified")).json
    assert body["outcome"] == "unjustified" and len(body["documents"]) == 4


def test_not_established_needs_registration_form_and_handling_sheet_only(api):
    meta = metadata(outcome="not_established", measures=[], capa_ref=None)
    files = complete_files("not_established")
    assert [kind for kind, _name, _content in files] == ["registration_form", "handling_sheet"]
    body = file_dossier(api, meta, files).json
    assert body["outcome"] == "not_established"
    for missing in ("registration_form", "handling_sheet"):
        meta = metadata(outcome="not_established", measures=[])
        response = file_dossier(api, meta, without(files, missing), status=422)
        assert_error(response, 422, "incomplete", missing)


def test_confidentiality_is_required(api):
    meta = metadata()
    del meta["confidentiality"]
    assert_error(file_dossier(api, meta, status=422), 422, "invalid", "confidentiality")


def test_a_dossier_filed_under_the_old_rule_still_takes_documents(api, wsgi_app):
    """Before #13 an unjustified dossier needed two documents: one filed so keeps them, and
    appending to it does not check completeness again."""
    meta = metadata(outcome="not_established", measures=[])
    body = file_dossier(api, meta, complete_files("not_established")).json
    engine = wsgi_app.registry.getUtility(IDatabase).engine
    with engine.begin() as connection:  # as it was filed then: unjustified, two documents
        connection.execute(
            text("UPDATE dossiers SET outcome = 'unjustified' WHERE id = :id"), {"id": body["id"]}
        )
    appended = api.post(
        f"/api/v1/dossiers/{body['id']}/documents",
        "archivist",
        upload_files=[("attachment", "补充.pdf", pdf("补充材料"))],
        status=201,
    )
    assert appended.json["outcome"] == "unjustified"
    assert [d["kind"] for d in appended.json["documents"]] == [
        "registration_form",
        "handling_sheet",
        "attachment",
    ]
    again = api.get(f"/api/v1/dossiers/{body['id']}", "auditor").json
    assert len(again["documents"]) == 3


# -- item 2: the quality metadata ---------------------------------------------------------


def test_quality_fields_are_stored_and_returned(api):
    meta = metadata(**QUALITY)
    meta["products"] = meta["products"] + [
        {"name": "阿莫西林胶囊", "batch_no": "20230513", "role": "related"}
    ]
    filed = file_dossier(api, meta).json
    body = api.get(f"/api/v1/dossiers/{filed['id']}", "auditor").json
    assert body["timeline"] == {**TIMELINE, "reminded_on": None}
    for key in ("supplier", "adr_report_no", "recall_no", "qp_notified_on", "regulator_report"):
        assert body[key] == QUALITY[key], key
    assert [p["role"] for p in body["products"]] == ["complained", "related"]


def test_without_quality_fields_they_are_null(api):
    body = file_dossier(api).json
    assert body["timeline"] is None and body["regulator_report"] is None
    assert body["supplier"] is body["adr_report_no"] is body["recall_no"] is None
    assert body["products"][0]["role"] == "complained"


BAD = [
    ({"timeline": {"replied_on": "2023-02-30"}}, "timeline.replied_on"),
    ({"timeline": {"acknowledged_on": "13/05/2023"}}, "timeline.acknowledged_on"),
    ({"timeline": {"closure": "resolved"}}, "timeline.closure"),
    ({"timeline": {"replid_on": "2023-05-20"}}, "timeline.replid_on"),
    ({"timeline": "2023-05-20"}, "timeline"),
    (
        {"timeline": {"extension": {"until": "2023-06-30", "reason": "x"}}},
        "timeline.extension.approved_by",
    ),
    (
        {"timeline": {"extension": {"until": "2023-06-31", "reason": "x", "approved_by": "y"}}},
        "timeline.extension.until",
    ),
    (
        {"timeline": {"extension": {"until": "2023-01-01", "reason": "x", "approved_by": "y"}}},
        "timeline.extension.until",
    ),
    # The timeline falls between received_on (2023-05-12) and closed_on (2023-07-03).
    ({"timeline": {"acknowledged_on": "2023-05-11"}}, "timeline.acknowledged_on"),
    ({"timeline": {"replied_on": "2023-07-04"}}, "timeline.replied_on"),
    ({"timeline": {"reminded_on": "2023-06-01"}}, "timeline.reminded_on"),
    (
        {"timeline": {"replied_on": "2023-06-01", "reminded_on": "2023-05-30"}},
        "timeline.reminded_on",
    ),
    ({"timeline": {"closure": "no_feedback"}}, "timeline.replied_on"),
    ({"timeline": {"closure": "not_established"}}, "timeline.closure"),
    ({"timeline": {"closure_approved_by": 7}}, "timeline.closure_approved_by"),
    ({"qp_notified_on": "yesterday"}, "qp_notified_on"),
    ({"supplier": ""}, None),  # an empty optional text is absent, not an error
    ({"supplier": "x" * 256}, "supplier"),
    ({"adr_report_no": ["ADR1"]}, "adr_report_no"),
    ({"recall_no": "R" * 65}, "recall_no"),
    ({"regulator_report": {"reported_on": "2023-05-20"}}, "regulator_report.authority"),
    (
        {"regulator_report": {"authority": "省局", "reported_on": "2023-5-20"}},
        "regulator_report.reported_on",
    ),
    (
        {"regulator_report": {"authority": "省局", "reported_on": "2023-05-20", "x": 1}},
        "regulator_report.x",
    ),
]


@pytest.mark.parametrize(("overrides", "field"), BAD, ids=lambda v: str(v)[:40])
def test_each_quality_field_is_validated(api, overrides, field):
    meta = metadata(**overrides)
    if field is None:
        assert file_dossier(api, meta).json["supplier"] is None
        return
    assert_error(file_dossier(api, meta, status=422), 422, "invalid", field)


def test_a_product_role_is_complained_or_related(api):
    meta = metadata(products=[{"name": "阿莫西林胶囊", "batch_no": "B1", "role": "suspect"}])
    assert_error(file_dossier(api, meta, status=422), 422, "invalid", "products.0.role")


def test_not_established_closure_with_its_outcome(api):
    meta = metadata(
        outcome="not_established",
        measures=[],
        timeline={"closure": "not_established", "closure_approved_by": "王质量"},
    )
    body = file_dossier(api, meta).json
    assert body["timeline"]["closure"] == "not_established"


def test_the_dossier_page_shows_the_handling_timeline(api):
    meta = metadata(
        **QUALITY,
        products=[
            {"name": "阿莫西林胶囊", "batch_no": "20230512"},
            {"name": "阿莫西林胶囊", "batch_no": "20230513", "role": "related"},
        ],
    )
    filed = file_dossier(api, meta).json
    english = api.get(f"/dossiers/{filed['id']}?_LOCALE_=en", "auditor").text
    section = english[english.index('id="timeline"') : english.index("<h2>Documents</h2>")]
    for shown in (
        "Handling timeline",
        "2023-05-13",
        "2023-05-20",
        "Customer satisfied",
        "王质量",
        "2023-06-30",
        "需补充检验",
        "李经理",
        "瑞丰医药供应链有限公司",
        "ADR2023QX0417",
        "ZH2023RC088",
        "2023-05-14",
        "上海市药品监督管理局",
        "沪药监 2023-117",
    ):
        assert shown in section, shown
    assert "Related batch" in english
    chinese = api.get(f"/dossiers/{filed['id']}?_LOCALE_=zh_CN", "auditor").text
    assert "处理时间线" in chinese and "客户满意" in chinese and "相关批次" in chinese


def test_a_dossier_without_quality_fields_has_no_timeline_section(api):
    filed = file_dossier(api).json
    assert 'id="timeline"' not in api.get(f"/dossiers/{filed['id']}", "auditor").text


@pytest.mark.parametrize("user", ["archivist", "auditor", "records"])
@pytest.mark.parametrize("words", ["瑞丰医药供应链", "ADR2023QX0417", "zh2023rc088"])
def test_supplier_adr_and_recall_numbers_are_found_with_q(api, quality_dossier, user, words):
    found = api.get("/api/v1/search", user, params={"q": words}).json
    assert quality_dossier in [result["complaint_no"] for result in found["results"]]


@pytest.fixture(scope="module")
def quality_dossier(wsgi_app, tokens):
    import webtest
    from conftest import Api

    number = complaint_no("II")
    meta = metadata(
        complaint_no=number, complaint_class="II", confidentiality="internal", **QUALITY
    )
    file_dossier(Api(webtest.TestApp(wsgi_app), tokens), meta)
    return number


def test_the_import_folder_carries_the_quality_fields(api, tmp_path, script_request):
    import json

    from archive_app.records.importer import ImportStatus, dossier_folders, import_folders

    folder = tmp_path / "one"
    folder.mkdir()
    listing = []
    for kind, name, content in complete_files():
        (folder / name).write_bytes(content)
        listing.append({"kind": kind, "file": name})
    meta = metadata(**QUALITY)
    (folder / "dossier.json").write_text(
        json.dumps(meta | {"documents": listing}, ensure_ascii=False), encoding="utf-8"
    )
    reports = list(import_folders(script_request, tmp_path, dossier_folders(tmp_path)))
    assert [report.status for report in reports] == [ImportStatus.FILED], reports
    found = api.get(
        "/api/v1/dossiers", "auditor", params={"complaint_no": meta["complaint_no"]}
    ).json["results"]
    assert found[0]["recall_no"] == "ZH2023RC088"
    assert found[0]["timeline"]["closure_approved_by"] == "王质量"


def test_the_filing_form_takes_the_timeline(api):
    from factories import docx, filled_form

    number = complaint_no("III", 2022)
    assert "Handling timeline" in api.browser("archivist").get("/dossiers/new?_LOCALE_=en").text
    form = filled_form(api.browser("archivist"), number, "送货延误投诉", "BLG220901")
    form["acknowledged_on"], form["closure"] = "2022-08-02", "not_established"
    form["closure_approved_by"], form["supplier"] = "王质量", "九州通医药集团"
    form.set("upload", ("登记表.pdf", pdf("登记表")), index=0)
    form.set("upload", ("处理单.docx", docx("处理单")), index=1)
    form.submit("file", status=303)
    body = api.get("/api/v1/dossiers", "auditor", params={"complaint_no": number}).json
    dossier = body["results"][0]
    assert dossier["supplier"] == "九州通医药集团"
    assert dossier["timeline"] == {
        "acknowledged_on": "2022-08-02", "replied_on": None, "reminded_on": None,
        "closure": "not_established", "closure_approved_by": "王质量", "extension": None,
    }  # fmt: skip


def test_a_bad_timeline_date_in_the_form_is_refused_on_the_form(api):
    from factories import docx, filled_form

    form = filled_form(api.browser("archivist"), complaint_no("III", 2022), "时间线错误", "BLG2209")
    form["replied_on"] = "2022-09-30"  # after closed_on (2022-08-20)
    form.set("upload", ("登记表.pdf", pdf("登记表")), index=0)
    form.set("upload", ("处理单.docx", docx("处理单")), index=1)
    response = form.submit("file", status=422)
    assert 'id="filing-error"' in response.text


def test_destruction_erases_the_quality_fields(api, wsgi_app):
    meta = metadata(
        complaint_no=complaint_no("I", 2018),
        received_on="2018-03-01",
        closed_on="2018-04-01",
        products=[{"name": "复方甘草片", "batch_no": "FG180102", "expiry": "2018-06"}],
        supplier="九州通医药集团",
        adr_report_no="ADR2018SH0001",
        recall_no="ZH2018RC001",
        qp_notified_on="2018-03-02",
        timeline={"replied_on": "2018-03-05", "closure_approved_by": "王质量",
                  "extension": {"until": "2018-03-20", "reason": "客户要求复检",
                                "approved_by": "李经理"}},
        regulator_report={"authority": "上海市药品监督管理局", "reported_on": "2018-03-03"},
    )  # fmt: skip
    dossier = file_dossier(api, meta).json
    run = api.post_json("/api/v1/retention/runs", {"as_of": "2020-01-01", "dry_run": False},
                        "records", status=201).json  # fmt: skip
    assert dossier["complaint_no"] in run["destroyed"]
    engine = wsgi_app.registry.getUtility(IDatabase).engine
    with engine.connect() as connection:
        query = text("SELECT timeline, supplier, adr_report_no, recall_no, qp_notified_on, "
                     "regulator_report FROM dossiers WHERE id = :id")  # fmt: skip
        row = connection.execute(query, {"id": dossier["id"]}).one()
    assert all(value is None for value in row), row
