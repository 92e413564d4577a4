"""The access-log page as a report (issue 12 item 7): complaint-number and user filters that
ignore letter case, every outcome, details in words, downloads naming their file (or saying
it was destroyed), and the XLSX export beside the CSV, logged."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

import openpyxl
import pytest
from conftest import Api
from factories import complaint_no, file_dossier, metadata
from support import add_users

from archive_app.access.accesslog import Event
from archive_app.access.models import AccessOutcome
from archive_app.interfaces import IAccessLog


@pytest.fixture
def filed(api):
    return file_dossier(api).json


def test_the_complaint_number_filter_ignores_letter_case(api, filed):
    other = file_dossier(api).json
    api.get(f"/api/v1/dossiers/{filed['id']}", "auditor")
    api.get(f"/api/v1/dossiers/{other['id']}", "auditor")
    # A denial names the dossier by its id only (no complaint number): found by number too.
    api.get(f"/api/v1/dossiers/{filed['id']}", "privacy", status=403)
    lower = filed["complaint_no"].lower()
    body = api.get(f"/api/v1/access-log?complaint_no={lower}", "privacy").json
    assert body["total"] == len(body["entries"]) >= 3
    assert {entry["dossier_id"] for entry in body["entries"]} == {filed["id"]}
    seen = {(entry["user"], entry["action"], entry["outcome"]) for entry in body["entries"]}
    assert {("archivist", "file", "ok"), ("auditor", "view", "ok")} <= seen
    assert ("privacy", "view", "denied") in seen or ("privacy", "request", "denied") in seen

    page = api.get(f"/access-log?complaint_no={lower}&_LOCALE_=en", "privacy")
    assert filed["complaint_no"] in page.text and other["complaint_no"] not in page.text
    assert page.forms["log-filters"]["complaint_no"].value == lower  # the filter stays filled in


def test_the_user_filter_ignores_letter_case(api, filed):
    api.get(f"/api/v1/dossiers/{filed['id']}", "auditor")
    upper = api.get("/api/v1/access-log?user=AUDITOR", "privacy").json
    assert upper["total"] > 0 and {entry["user"] for entry in upper["entries"]} == {"auditor"}
    assert upper["total"] == api.get("/api/v1/access-log?user=auditor", "privacy").json["total"]


def test_each_of_the_four_outcomes_filters(api, wsgi_app, filed):
    api.get(f"/api/v1/dossiers/{filed['id']}", "auditor")  # ok
    api.get("/api/v1/access-log", "auditor", status=403)  # denied
    api.get(f"/api/v1/dossiers/{'b' * 32}", "auditor", status=404)  # refused (a guessed id)
    # failed: the archive could not (a damaged blob): written as the download view writes it.
    wsgi_app.registry.getUtility(IAccessLog).append_now(Event(
        action="download", outcome=AccessOutcome.FAILED, username="auditor", role="auditor",
        detail="blob failed authentication during download"))  # fmt: skip
    for outcome in AccessOutcome:
        body = api.get(f"/api/v1/access-log?outcome={outcome}", "privacy").json
        assert body["total"] > 0, outcome
        assert {entry["outcome"] for entry in body["entries"]} == {outcome.value}
        page = api.get(f"/access-log?outcome={outcome}", "privacy")
        assert page.forms["log-filters"]["outcome"].value == outcome.value
        options = page.html.select("select[name=outcome] option")
        assert len(options) == 5  # all, and the four
    api.get("/api/v1/access-log?outcome=allowed", "privacy", status=422)


def test_details_read_as_words_not_python_reprs(api):
    api.get("/search?q=" + quote("阿莫西林") + "&complaint_class=I", "auditor")
    page = api.get("/access-log?action=search&user=auditor&_LOCALE_=en", "privacy")
    details = " ".join(cell.get_text() for cell in page.html.select("td.detail"))
    assert "{'" not in details and "q='" not in details and "None" not in details
    assert "query: 阿莫西林" in details and "Complaint class: Class I" in details
    # Actions and outcomes labelled, times in the archive's zone with its name.
    row = page.html.select("table.log tbody tr")[0].get_text(" ")
    assert "Search" in row and "Allowed" in row and "Asia/Shanghai" in row
    chinese = api.get("/access-log?action=search&user=auditor&_LOCALE_=zh_CN", "privacy")
    detail = chinese.html.select("td.detail")[0].get_text()
    assert "检索词：阿莫西林" in detail and "投诉类别：Ⅰ类" in detail  # labels inside, too


def test_a_download_entry_names_its_file(api, filed):
    document = filed["documents"][0]
    api.get(f"/api/v1/dossiers/{filed['id']}/documents/{document['id']}", "auditor")
    page = api.get(f"/access-log?complaint_no={filed['complaint_no']}&action=download",
                   "privacy")  # fmt: skip
    assert document["filename"] in page.html.select("td.document")[0].get_text()


def test_a_destroyed_dossiers_download_says_it_was_destroyed(api):
    meta = metadata(
        complaint_no=complaint_no("I", 2011), received_on="2011-03-01", closed_on="2011-04-01",
        products=[{"name": "清开灵颗粒", "batch_no": "LP201103", "expiry": "2011-06"}],
        confidentiality="internal",
    )  # fmt: skip
    gone = file_dossier(api, meta).json
    document = gone["documents"][0]
    api.get(f"/api/v1/dossiers/{gone['id']}/documents/{document['id']}", "auditor")
    run = api.post_json("/api/v1/retention/runs", {"as_of": "2013-01-01", "dry_run": False},
                        "records", status=201).json  # fmt: skip
    assert gone["complaint_no"] in run["destroyed"]
    page = api.get(f"/access-log?complaint_no={gone['complaint_no']}&action=download"
                   "&_LOCALE_=en", "privacy")  # fmt: skip
    cell = page.html.select("td.document")[0].get_text()
    assert "destroyed" in cell and document["filename"] not in page.text


def test_the_xlsx_export_has_the_csv_rows_and_is_logged(api, filed):
    api.get(f"/api/v1/dossiers/{filed['id']}", "auditor")
    query = f"complaint_no={filed['complaint_no']}"
    as_csv = list(csv.reader(io.StringIO(api.get(f"/access-log/export.csv?{query}",
                                                 "privacy").text)))  # fmt: skip
    response = api.get(f"/access-log/export.xlsx?{query}", "privacy")
    assert response.content_type.endswith("spreadsheetml.sheet")
    assert response.headers["Content-Disposition"] == 'attachment; filename="access-log.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(response.body), read_only=True).active
    as_xlsx = [["" if cell is None else str(cell) for cell in row]
               for row in sheet.iter_rows(values_only=True)]  # fmt: skip
    assert len(as_csv) >= 3 and as_xlsx == as_csv
    # The API's too, for the same filters; and both exports are in the log.
    api_xlsx = api.get(f"/api/v1/access-log/export.xlsx?{query}", "privacy")
    assert openpyxl.load_workbook(io.BytesIO(api_xlsx.body)).active.max_row == len(as_csv)
    exports = api.get("/api/v1/access-log?action=export&user=privacy", "privacy").json
    details = [entry["detail"] for entry in exports["entries"]]
    assert "access log XLSX" in details and "access log CSV" in details
    api.get(f"/access-log/export.xlsx?{query}", "auditor", status=403)
    page = api.get(f"/access-log?{query}", "privacy")
    assert page.html.select_one("a.export.xlsx")["href"].endswith(f"export.xlsx?{query}")


def test_an_xlsx_cell_is_never_a_formula(api, app):
    app.post_json("/api/v1/auth/token", {"username": "=HYPERLINK(1)", "password": "x"},
                  status=401)  # fmt: skip
    response = api.get("/api/v1/access-log/export.xlsx?user==HYPERLINK(1)", "privacy")
    sheet = openpyxl.load_workbook(io.BytesIO(response.body)).active
    users = [row[2].value for row in sheet.iter_rows(min_row=2)]
    assert users and all(user == "'=HYPERLINK(1)" for user in users)
    assert all(row[2].data_type == "s" for row in sheet.iter_rows(min_row=2))


def test_a_complaint_number_above_the_readers_clearance_finds_nothing(api, app, wsgi_app):
    tokens = add_users(app, {"privacy_page_internal": ("privacy_officer", "internal")})
    reader = Api(app, {**api.tokens, **tokens})
    restricted = file_dossier(api, metadata(confidentiality="restricted")).json
    document = restricted["documents"][0]
    api.get(f"/api/v1/dossiers/{restricted['id']}/documents/{document['id']}", "archivist")
    number = restricted["complaint_no"]
    assert api.get(f"/api/v1/access-log?complaint_no={number}", "privacy").json["total"] >= 2
    answer = reader.get(f"/api/v1/access-log?complaint_no={number.lower()}",
                        "privacy_page_internal").json  # fmt: skip
    assert answer == {"total": 0, "page": 1, "entries": []}
    page = reader.get("/access-log?action=download&user=archivist&_LOCALE_=en",
                      "privacy_page_internal")  # fmt: skip
    assert number not in page.text and document["filename"] not in page.text
    assert "Withheld" in page.text
    workbook = reader.get("/api/v1/access-log/export.xlsx?action=download&user=archivist",
                          "privacy_page_internal").body  # fmt: skip
    cells = [cell for row in openpyxl.load_workbook(io.BytesIO(workbook)).active.iter_rows(
        values_only=True) for cell in row]  # fmt: skip
    assert number not in cells and restricted["id"] not in cells and document["id"] not in cells
