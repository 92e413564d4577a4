"""The access log under a privacy officer's clearance: every entry is shown (the chain stays
whole), but one naming a dossier above the clearance is withheld, and asking about that
dossier finds nothing, on the API, in the CSV export and on the page."""

from __future__ import annotations

import csv
import io

import pytest
import webtest
from conftest import Api
from factories import file_dossier, metadata
from support import PASSWORD, TESTING_INI

from archive_app.bootstrap import open_app
from archive_app.interfaces import IAccountService


@pytest.fixture(scope="module")
def privacy_tokens(wsgi_app, tokens) -> dict[str, str]:
    with open_app(TESTING_INI) as env:
        request = env["request"]
        with request.tm:
            request.find_service(IAccountService).add_user(
                "privacy_internal", "privacy_officer", PASSWORD, "internal"
            )
    token = webtest.TestApp(wsgi_app).post_json(
        "/api/v1/auth/token", {"username": "privacy_internal", "password": PASSWORD}
    )
    return {**tokens, "privacy_internal": token.json["token"]}


@pytest.fixture
def papi(app, privacy_tokens) -> Api:
    return Api(app, privacy_tokens)


def test_entries_naming_a_dossier_above_clearance_are_withheld_not_dropped(papi):
    restricted = file_dossier(papi, metadata(confidentiality="restricted")).json
    document = restricted["documents"][0]["id"]
    papi.get(f"/api/v1/dossiers/{restricted['id']}", "archivist")
    papi.get(f"/api/v1/dossiers/{restricted['id']}/documents/{document}", "archivist")
    named = {restricted["id"], restricted["complaint_no"], document}

    cleared = papi.get(f"/api/v1/access-log?dossier_id={restricted['id']}", "privacy").json
    seqs = {entry["seq"] for entry in cleared["entries"]}
    assert cleared["total"] >= 3 and len(seqs) == cleared["total"]

    # Asking about the dossier: nothing, not even a count.
    asked = papi.get(f"/api/v1/access-log?dossier_id={restricted['id']}", "privacy_internal")
    assert asked.json["total"] == 0 and asked.json["entries"] == []

    # The whole log: the entries are there, with what names the dossier taken out.
    listed = papi.get("/api/v1/access-log", "privacy_internal").json
    shown = {entry["seq"]: entry for entry in listed["entries"]}
    assert seqs <= set(shown)
    for seq in seqs:
        entry = shown[seq]
        assert entry["dossier_id"] is None and entry["complaint_no"] is None
        assert entry["document_id"] is None and "withheld" in entry["detail"]
        assert entry["user"] == "archivist"  # who did what, when: still reviewable
    listed_text = papi.get("/api/v1/access-log", "privacy_internal").text
    assert not any(value in listed_text for value in named)

    # The CSV export: every entry of the chain, one row each, nothing naming the dossier.
    export = papi.get("/api/v1/access-log/export.csv", "privacy_internal").text
    rows = list(csv.DictReader(io.StringIO(export)))
    numbers = [int(row["seq"]) for row in rows]
    assert numbers == list(range(1, len(numbers) + 1))  # no gap: nothing dropped
    assert not any(value in export for value in named)
    for row in rows:
        if int(row["seq"]) in seqs:
            assert row["dossier_id"] == row["complaint_no"] == row["document_id"] == ""
    full = papi.get("/api/v1/access-log/export.csv", "privacy").text
    assert restricted["complaint_no"] in full

    # The page, filtered by the dossier or not.
    page = papi.get("/access-log", "privacy_internal").text
    assert not any(value in page for value in named)
    filtered = papi.get(f"/access-log?dossier_id={restricted['id']}", "privacy_internal").text
    assert 'id="seq-' not in filtered  # no entry rows: the officer's own query is all it shows
