"""The 台账 ledger through the API (contract §8): its rows and filters, the pager, masking
per role, clearance (a restricted dossier is neither listed nor counted below its level), a
destroyed dossier's tombstone row, the workbook's rows equal to the API's under Chinese
headers, and every read and export in the access log."""

from __future__ import annotations

import io
import uuid
from datetime import datetime

import pytest
import webtest
from factories import complaint_no, file_dossier, metadata
from openpyxl import load_workbook
from support import assert_error

LEDGER = "/api/v1/reports/ledger"
WORKBOOK = "/api/v1/reports/ledger.xlsx"
ROW_FIELDS = {"complaint_no", "complaint_class", "complaint_type", "title", "received_on",
              "closed_on", "outcome", "measures", "capa_ref", "products", "customer",
              "timeline", "state"}  # fmt: skip
HEADERS = ["登记编号", "投诉类别", "投诉类型", "标题", "受理日期", "结案日期", "处理结论",
           "处理措施", "CAPA 编号", "产品名称", "批号", "客户姓名", "单位", "电话", "地址",
           "受理确认日期", "答复日期", "催告日期", "结案方式", "状态"]  # fmt: skip
# Retention run of this module: the destroyed dossier below is due, the other tests' are not.
AS_OF = "2012-08-01"


@pytest.fixture(scope="module")
def ledger(wsgi_app, tokens):
    """Four living dossiers named by a mark no other test uses (one restricted, one with two
    product lines), and a destroyed one; what each is, by letter."""
    from conftest import Api

    api = Api(webtest.TestApp(wsgi_app), tokens)
    mark = uuid.uuid4().hex[:8].upper()

    def filed(letter, complaint_class, received_on, level, *products, **overrides):
        meta = metadata(
            complaint_no=complaint_no(complaint_class, int(received_on[:4])),
            complaint_class=complaint_class, received_on=received_on,
            closed_on=received_on[:8] + "28", confidentiality=level,
            title=f"台账测试{letter}", capa_ref=f"CAPA-{letter}-{mark}",
            products=[{"name": name, "batch_no": f"{letter}{number}{mark}", "expiry": "2029-06"}
                      for number, name in enumerate(products)], **overrides,
        )  # fmt: skip
        return file_dossier(api, meta).json

    packaging = {"complaint_type": "outer_packaging", "measures": ["compensation", "return"]}
    dossiers = {
        "A": filed("A", "I", "2024-02-10", "internal", f"台账甲{mark}胶囊"),
        "B": filed("B", "II", "2024-03-15", "confidential", f"台账乙{mark}片", **packaging),
        "C": filed("C", "I", "2024-04-20", "restricted", f"台账甲{mark}胶囊"),
        "D": filed("D", "III", "2024-05-05", "internal", f"台账丙{mark}", f"台账甲{mark}注射液"),
    }
    gone = file_dossier(api, metadata(
        complaint_no=complaint_no("II", 2011), complaint_class="II", received_on="2011-03-01",
        closed_on="2011-04-01", confidentiality="internal", title=f"台账已销毁{mark}",
        products=[{"name": f"台账甲{mark}颗粒", "batch_no": f"G{mark}", "expiry": "2011-06"}],
    )).json  # fmt: skip
    run = api.post_json("/api/v1/retention/runs", {"as_of": AS_OF, "dry_run": False}, "records",
                        status=201).json  # fmt: skip
    assert gone["complaint_no"] in run["destroyed"]
    return {"mark": mark, "gone": gone, **dossiers}


def rows(api, user, **params):
    return api.get(LEDGER, user, params=params).json


def numbers(answer) -> list[str]:
    return [row["complaint_no"] for row in answer["results"]]


def expected(ledger, *letters) -> list[str]:
    return [ledger[letter]["complaint_no"] for letter in letters]


def last_entry(api, user: str, action: str) -> dict:
    """The user's latest access-log entry of `action`, as the privacy officer reads it."""
    found = api.get("/api/v1/access-log", "privacy", params={"user": user, "action": action})
    return found.json["entries"][0]  # newest first


def test_rows_carry_the_contract_fields_in_received_order(api, ledger):
    answer = rows(api, "archivist", product=ledger["mark"])
    assert answer["total"] == 4 and answer["page"] == 1 and answer["per_page"] == 50
    assert numbers(answer) == expected(ledger, "A", "B", "C", "D")
    row = answer["results"][1]
    assert set(row) >= ROW_FIELDS
    assert row["complaint_class"] == "II" and row["complaint_type"] == "outer_packaging"
    assert row["title"] == "台账测试B" and row["received_on"] == "2024-03-15"
    assert row["closed_on"] == "2024-03-28" and row["outcome"] == "justified"
    assert row["measures"] == ["compensation", "return"]
    assert row["capa_ref"] == f"CAPA-B-{ledger['mark']}" and row["state"] == "archived"
    assert row["products"] == [{"name": f"台账乙{ledger['mark']}片",
                                "batch_no": f"B0{ledger['mark']}"}]  # fmt: skip
    assert row["timeline"] == (ledger["B"].get("timeline") or {})
    # The archivist sees personal data as filed.
    assert row["customer"] == metadata()["customer"]
    assert [len(r["products"]) for r in answer["results"]] == [1, 1, 1, 2]


def test_filters_by_received_period_class_and_part_of_a_product_name(api, ledger):
    mark = ledger["mark"]
    period = rows(api, "archivist", product=mark, **{"from": "2024-03-15", "to": "2024-04-20"})
    assert numbers(period) == expected(ledger, "B", "C") and period["total"] == 2  # inclusive
    assert numbers(rows(api, "archivist", product=mark, complaint_class="I")) == expected(
        ledger, "A", "C")  # fmt: skip
    # Any of a dossier's product lines matches, by part of its name.
    assert numbers(rows(api, "archivist", product=f"台账甲{mark}")) == expected(
        ledger, "A", "C", "D")  # fmt: skip
    # A `_` or `%` in the filter is a character, not a wildcard.
    assert rows(api, "archivist", product=f"台账_{mark}")["total"] == 0
    assert rows(api, "archivist", product=f"%{mark}")["total"] == 0


def test_the_pager_walks_every_row_once(api, ledger):
    mark = ledger["mark"]
    pages = [rows(api, "archivist", product=mark, per_page="3", page=str(n)) for n in (1, 2, 3)]
    assert [p["total"] for p in pages] == [4, 4, 4]
    assert [len(p["results"]) for p in pages] == [3, 1, 0]
    assert sum((numbers(p) for p in pages), []) == expected(ledger, "A", "B", "C", "D")


def test_bad_parameters_answer_422_naming_the_field(api, ledger):
    refused = [({"per_page": "101"}, "per_page"), ({"per_page": "0"}, "per_page"),
               ({"page": "0"}, "page"), ({"from": "2024-02-30"}, "from"), ({"to": "today"}, "to"),
               ({"complaint_class": "IV"}, "complaint_class"), ({"product": "x" * 201}, "product"),
               ({"sort": "title"}, "sort")]  # fmt: skip
    for params, field in refused:
        assert_error(api.get(LEDGER, "auditor", params=params, status=422), 422, "invalid", field)
    assert_error(api.get(WORKBOOK, "auditor", params={"page": "2"}, status=422), 422, "invalid",
                 "page")  # the workbook holds every row: it has no pages  # fmt: skip


def test_personal_data_is_masked_for_roles_that_may_not_see_it(api, ledger):
    for user in ("auditor", "records"):
        customer = rows(api, user, product=ledger["mark"])["results"][0]["customer"]
        assert customer == {"name": "张**", "organization": "***", "phone": "138****5678",
                            "address": "***"}, user  # fmt: skip


def test_clearance_trims_rows_and_totals(api, ledger):
    mark = ledger["mark"]
    # auditor: confidential; archivist_internal: internal; records: restricted.
    auditor = rows(api, "auditor", product=mark)
    assert numbers(auditor) == expected(ledger, "A", "B", "D") and auditor["total"] == 3
    internal = rows(api, "archivist_internal", product=mark)
    assert numbers(internal) == expected(ledger, "A", "D") and internal["total"] == 2
    assert rows(api, "records", product=mark)["total"] == 4
    # Not even by the filters that name only the restricted one.
    only_c = {"product": mark, "from": "2024-04-20", "to": "2024-04-20"}
    assert rows(api, "auditor", **only_c) == {"total": 0, "page": 1, "per_page": 50,
                                              "results": []}  # fmt: skip


def test_a_destroyed_dossier_is_a_tombstone_row(api, ledger):
    gone = ledger["gone"]
    answer = rows(api, "archivist", **{"from": "2011-03-01", "to": "2011-03-01"})
    row = next(r for r in answer["results"] if r["complaint_no"] == gone["complaint_no"])
    assert row == {
        "id": gone["id"], "complaint_no": gone["complaint_no"], "complaint_class": "II",
        "complaint_type": gone["complaint_type"], "title": None, "received_on": "2011-03-01",
        "closed_on": "2011-04-01", "outcome": None, "measures": [], "capa_ref": None,
        "products": [], "customer": {}, "timeline": {}, "state": "destroyed",
    }  # fmt: skip
    # Its product lines went with it: a product filter no longer finds it.
    by_product = rows(api, "archivist", product=f"台账甲{ledger['mark']}")
    assert gone["complaint_no"] not in numbers(by_product)


def test_only_readers_may_read_the_ledger(api, ledger):
    for url in (LEDGER, WORKBOOK):
        for user in ("privacy", "admin"):
            assert_error(api.get(url, user, status=403), 403, "forbidden")
        api.get(url, status=401)


def test_every_read_is_logged(api, ledger):
    rows(api, "auditor", product=ledger["mark"], complaint_class="II")
    entry = last_entry(api, "auditor", "ledger")
    assert entry["outcome"] == "ok" and entry["role"] == "auditor"
    assert f"product='{ledger['mark']}'" in entry["detail"] and "class=II" in entry["detail"]
    assert entry["detail"].endswith(": 1 dossiers")


# -- the workbook -------------------------------------------------------------------------------


def workbook_rows(api, user, **params) -> tuple[list, list[list]]:
    answer = api.get(WORKBOOK, user, params=params, status=200)
    assert answer.content_type == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")  # fmt: skip
    assert answer.headers["Content-Disposition"] == 'attachment; filename="ledger.xlsx"'
    sheet = load_workbook(io.BytesIO(answer.body), read_only=True).worksheets[0]
    header, *body = [list(row) for row in sheet.iter_rows(values_only=True)]
    return header, body


def as_date(value):
    assert value is None or isinstance(value, datetime), value  # a date cell, not text
    return value.date().isoformat() if value else None


@pytest.mark.parametrize("user", ["archivist", "auditor"])
def test_the_workbook_rows_equal_the_api_rows(api, ledger, user):
    mark = ledger["mark"]
    header, body = workbook_rows(api, user, product=mark)
    assert header == HEADERS
    api_rows = []
    for page in (1, 2):  # every page of the API, two rows a page
        api_rows += rows(api, user, product=mark, per_page="2", page=str(page))["results"]
    assert len(body) == len(api_rows) == (4 if user == "archivist" else 3)
    for cells, row in zip(body, api_rows, strict=True):
        shown = dict(zip(HEADERS, cells, strict=True))
        assert shown["登记编号"] == row["complaint_no"] and shown["标题"] == row["title"]
        assert as_date(shown["受理日期"]) == row["received_on"]
        assert as_date(shown["结案日期"]) == row["closed_on"]
        assert shown["产品名称"] == "；".join(p["name"] for p in row["products"])
        assert shown["批号"] == "；".join(p["batch_no"] for p in row["products"])
        assert shown["CAPA 编号"] == row["capa_ref"]
        customer = row["customer"]
        people = [customer[name] for name in ("name", "organization", "phone", "address")]
        assert [shown["客户姓名"], shown["单位"], shown["电话"], shown["地址"]] == people
        assert shown["处理结论"] == "投诉成立" and shown["状态"] == "已归档"  # labels, not codes
    classes = {cells[0]: (cells[1], cells[2], cells[7]) for cells in body}
    assert classes[ledger["B"]["complaint_no"]] == ("Ⅱ类", "外包装", "赔偿；退货")
    assert body[0][11] == ("张三丰" if user == "archivist" else "张**")


def test_the_workbook_holds_every_page_and_the_tombstone(api, ledger):
    total = rows(api, "records")["total"]
    header, body = workbook_rows(api, "records")
    assert len(body) == total > 0  # not one page of them
    gone = next(cells for cells in body if cells[0] == ledger["gone"]["complaint_no"])
    assert gone[19] == "已销毁" and gone[3] is None and gone[11:15] == [None] * 4


def test_the_workbook_export_is_logged_and_leaves_no_file(api, ledger, storage):
    workbook_rows(api, "auditor", product=ledger["mark"], **{"from": "2024-01-01"})
    entry = last_entry(api, "auditor", "export")
    assert entry["outcome"] == "ok"
    assert entry["detail"].startswith("ledger workbook from=2024-01-01")
    assert entry["detail"].endswith(": 3 dossiers")
    assert not list((storage / "tmp").glob("ledger-*")), "a decrypted workbook stayed on disk"


def test_the_handling_timeline_is_in_the_rows_and_the_workbook(api):
    mark = uuid.uuid4().hex[:8].upper()
    timeline = {"acknowledged_on": "2023-05-13", "replied_on": "2023-06-20",
                "closure": "customer_satisfied"}  # fmt: skip
    filed = file_dossier(api, metadata(
        complaint_no=complaint_no("I", 2023), received_on="2023-05-12", closed_on="2023-07-03",
        products=[{"name": f"时限{mark}片", "batch_no": f"T{mark}", "expiry": "2025-06"}],
        timeline=timeline)).json  # fmt: skip
    [row] = rows(api, "auditor", product=mark)["results"]
    assert row["complaint_no"] == filed["complaint_no"]
    assert {name: value for name, value in row["timeline"].items() if value} == timeline
    _header, [cells] = workbook_rows(api, "auditor", product=mark)
    shown = dict(zip(HEADERS, cells, strict=True))
    assert as_date(shown["受理确认日期"]) == "2023-05-13"
    assert as_date(shown["答复日期"]) == "2023-06-20" and shown["催告日期"] is None
    assert shown["结案方式"] == "客户满意"  # the closure's label, not its code
