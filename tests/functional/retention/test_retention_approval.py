"""Approval mode (four eyes) and the EU GMP rule set, on a second app over the same archive
configured with `archive.retention.approval = true` and `archive.retention.rule = eu-gmp`."""

from __future__ import annotations

import pytest
import webtest
from conftest import Api
from factories import complaint_no, complete_files, metadata, metadata_part
from plaster import get_settings
from support import PASSWORD, TESTING_INI, assert_error

from archive_app import main
from archive_app.bootstrap import open_app
from archive_app.interfaces import IAccountService, IDatabase

AS_OF = "2021-01-01"


@pytest.fixture(scope="module")
def strict_api(wsgi_app, tokens):
    settings = dict(get_settings(TESTING_INI, "app:main"))
    settings.update({"archive.retention.approval": "true", "archive.retention.rule": "eu-gmp"})
    app = main({"__file__": TESTING_INI}, **settings)
    with open_app(TESTING_INI) as env:
        request = env["request"]
        with request.tm:
            request.find_service(IAccountService).add_user(
                "records2", "records_manager", PASSWORD, "restricted"
            )
    test_app = webtest.TestApp(app)
    token = test_app.post_json(
        "/api/v1/auth/token", {"username": "records2", "password": PASSWORD}
    ).json["token"]
    yield Api(test_app, {**tokens, "records2": token})
    app.registry.getUtility(IDatabase).dispose()


def file_old(api, **product) -> dict:
    meta = metadata(
        complaint_no=complaint_no("I", 2019), received_on="2019-03-01", closed_on="2019-04-01",
        products=[{"name": "复方甘草片", "batch_no": "FG1901", "expiry": "2019-06", **product}],
    )  # fmt: skip
    return api.post("/api/v1/dossiers", "archivist", params=[metadata_part(meta)],
                    upload_files=complete_files(), status=201).json  # fmt: skip


def test_the_eu_gmp_rule_keeps_five_years_after_certification(strict_api):
    certified = file_old(strict_api, certified_on="2018-05-10")
    assert certified["destroy_after"] == "2023-05-10"
    assert certified["retention_rule"].startswith("eu-gmp v1: certified 2018-05-10 + 5 years")
    assert certified["products"][0]["certified_on"] == "2018-05-10"
    unknown = file_old(strict_api)  # no certification date: closing stands in for it
    assert unknown["destroy_after"] == "2024-04-01"
    assert "certification unknown" in unknown["retention_rule"]
    assert_error(
        strict_api.post(
            "/api/v1/dossiers",
            "archivist",
            params=[
                metadata_part(
                    metadata(
                        products=[{"name": "甲", "batch_no": "B1", "certified_on": "2018-13-01"}]
                    )
                )
            ],
            upload_files=complete_files(),
            status=422,
        ),
        422,
        "invalid",
        "products.0.certified_on",
    )


def test_a_run_proposes_and_only_a_second_records_manager_destroys(strict_api):
    api = strict_api
    doomed = file_old(api, expiry="2010-01")  # eu-gmp: closed 2019-04-01 + 5 y = 2024-04-01
    as_of = "2024-06-01"
    due = {
        row["id"]
        for row in api.get(f"/api/v1/retention/due?as_of={as_of}", "records").json["results"]
    }
    assert doomed["id"] in due
    proposal = api.post_json("/api/v1/retention/runs", {"as_of": as_of, "dry_run": False},
                             "records", status=202).json  # fmt: skip
    assert proposal["destroyed"] == [] and doomed["complaint_no"] in proposal["proposed"]
    assert api.get(f"/api/v1/dossiers/{doomed['id']}", "auditor").json["state"] == "archived"

    approve = f"/api/v1/retention/proposals/{proposal['proposal_id']}/approve"
    assert_error(api.post_json(approve, {}, "records", status=403), 403, "forbidden",
                 "proposal_id")  # fmt: skip
    api.post_json(approve, {}, "auditor", status=403)
    listed = api.get("/api/v1/retention/proposals", "records2").json["results"]
    assert next(p for p in listed if p["id"] == proposal["proposal_id"])["state"] == "proposed"

    result = api.post_json(approve, {}, "records2").json
    assert doomed["complaint_no"] in result["destroyed"] and result["certificate_id"]
    gone = api.get(f"/api/v1/dossiers/{doomed['id']}", "auditor", status=410).json
    assert gone["tombstone"]["certificate_id"] == result["certificate_id"]
    assert_error(api.post_json(approve, {}, "records2", status=409), 409, "conflict",
                 "proposal_id")  # fmt: skip


def test_a_rejected_proposal_destroys_nothing_and_a_later_hold_wins(strict_api):
    api = strict_api
    first, second = file_old(api, expiry="2010-01"), file_old(api, expiry="2010-01")
    as_of = "2024-06-01"
    proposal = api.post_json("/api/v1/retention/runs", {"as_of": as_of, "dry_run": False},
                             "records", status=202).json  # fmt: skip
    base = f"/api/v1/retention/proposals/{proposal['proposal_id']}"
    rejected = api.post_json(f"{base}/reject", {}, "records2").json
    assert rejected["state"] == "rejected" and rejected["decided_by"] == "records2"
    api.post_json(f"{base}/approve", {}, "records2", status=409)
    api.post_json("/api/v1/retention/proposals/nope/approve", {}, "records2", status=404)
    api.post_json(f"{base}/destroy", {}, "records2", status=404)

    again = api.post_json("/api/v1/retention/runs", {"as_of": as_of, "dry_run": False},
                          "records", status=202).json  # fmt: skip
    api.post_json(f"/api/v1/dossiers/{first['id']}/holds", {"reason": "新的诉讼"}, "records",
                  status=201)  # fmt: skip
    result = api.post_json(f"/api/v1/retention/proposals/{again['proposal_id']}/approve", {},
                           "records2").json  # fmt: skip
    assert first["complaint_no"] in result["skipped_held"]
    assert second["complaint_no"] in result["destroyed"]
    assert api.get(f"/api/v1/dossiers/{first['id']}", "auditor").json["state"] == "held"
