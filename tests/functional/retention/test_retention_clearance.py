"""Clearance inside every retention query: an internal records manager or auditor never
lists, holds, releases, proposes, approves, destroys or reads in a certificate a dossier
above their clearance; hold reasons go with their dossier; the run's lease is renewed."""

from __future__ import annotations

import base64
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import webtest
from conftest import Api
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from factories import complaint_no, file_dossier, metadata
from plaster import get_settings
from pypdf import PdfReader
from sqlalchemy import or_, select
from support import TESTING_INI, add_users, assert_error

from archive_app import main
from archive_app.bootstrap import open_app
from archive_app.interfaces import IClock, IDatabase

# Every dossier here closed 2016-04-01 with its product expired 2016-06: destroy after
# 2017-06-30. Nothing the other tests file is due this early, so runs here touch only these.
AS_OF = "2018-01-01"
INTERNAL_USERS = {"records_internal": ("records_manager", "internal"),
                  "auditor_internal": ("auditor", "internal")}  # fmt: skip


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture(scope="module")
def module_tokens(wsgi_app, tokens) -> dict[str, str]:
    return {**tokens, **add_users(webtest.TestApp(wsgi_app), INTERNAL_USERS)}


@pytest.fixture
def rapi(app, module_tokens) -> Api:
    return Api(app, module_tokens)


@pytest.fixture(scope="module")
def approval_api(wsgi_app, module_tokens):
    """A second app over the same archive with `archive.retention.approval = true`."""
    settings = dict(get_settings(TESTING_INI, "app:main"))
    settings["archive.retention.approval"] = "true"
    app = main({"__file__": TESTING_INI}, **settings)
    yield Api(webtest.TestApp(app), module_tokens)
    app.registry.getUtility(IDatabase).dispose()


def batch() -> str:
    return "CL" + uuid.uuid4().hex[:8].upper()


def file_due(api, level: str, batch_no: str | None = None) -> dict:
    meta = metadata(
        complaint_no=complaint_no("I", 2016), received_on="2016-03-01", closed_on="2016-04-01",
        products=[{"name": "清开灵颗粒", "batch_no": batch_no or batch(), "expiry": "2016-06"}],
        confidentiality=level,
    )  # fmt: skip
    dossier = file_dossier(api, meta).json
    assert dossier["destroy_after"] == "2017-06-30"
    return dossier


def run(api, user: str, dry_run=False, status=201) -> dict:
    return api.post_json("/api/v1/retention/runs", {"as_of": AS_OF, "dry_run": dry_run}, user,
                         status=status).json  # fmt: skip


def due_ids(api, user: str) -> set[str]:
    return {row["id"] for row in
            api.get(f"/api/v1/retention/due?as_of={AS_OF}", user).json["results"]}  # fmt: skip


def state(api, dossier) -> str:
    answer = api.get(f"/api/v1/dossiers/{dossier['id']}", "archivist", status=[200, 410])
    return "destroyed" if answer.status_int == 410 else answer.json["state"]


def test_the_due_list_and_dry_runs_name_only_what_the_manager_may_read(rapi):
    internal, restricted = file_due(rapi, "internal"), file_due(rapi, "restricted")
    held = file_due(rapi, "restricted")
    rapi.post_json(f"/api/v1/dossiers/{held['id']}/holds", {"reason": "诉讼保全"}, "records",
                   status=201)  # fmt: skip
    assert {internal["id"], restricted["id"], held["id"]} <= due_ids(rapi, "records")
    seen = due_ids(rapi, "records_internal")
    assert internal["id"] in seen and not {restricted["id"], held["id"]} & seen

    hidden = {restricted["complaint_no"], held["complaint_no"]}
    full = run(rapi, "records", dry_run=True)  # the restricted manager's run names them all
    assert hidden <= {*full["destroyed"], *full["skipped_held"]}
    dry = run(rapi, "records_internal", dry_run=True)
    assert internal["complaint_no"] in dry["destroyed"]
    assert not hidden & {*dry["destroyed"], *dry["skipped_held"]}

    # The page: due list, holds and the runs table (the restricted manager's run above).
    page = rapi.get(f"/retention?as_of={AS_OF}", "records_internal").text
    assert internal["complaint_no"] in page
    for number in hidden:
        assert number not in page
    assert held["complaint_no"] in rapi.get(f"/retention?as_of={AS_OF}", "records").text


def test_holds_above_clearance_are_neither_listed_nor_released(rapi):
    restricted_batch = batch()
    restricted = file_due(rapi, "restricted", restricted_batch)
    secret = f"机密诉讼理由 {uuid.uuid4().hex}"
    hold = rapi.post_json(f"/api/v1/dossiers/{restricted['id']}/holds", {"reason": secret},
                          "records", status=201).json  # fmt: skip
    assert hold["id"] in {h["id"] for h in rapi.get("/api/v1/holds", "records").json["results"]}
    listed = rapi.get("/api/v1/holds", "records_internal")
    assert secret not in listed.text and restricted["id"] not in listed.text
    assert secret not in rapi.get("/retention", "records_internal").text
    release = f"/api/v1/dossiers/{restricted['id']}/holds/{hold['id']}"
    rapi.delete_json(release, {"reason": "撤销"}, "records_internal", status=404)

    # A hold by query that reaches the restricted dossier: listed, but not theirs to release.
    query_hold = rapi.post_json("/api/v1/holds", {"batch_no": restricted_batch, "reason": "批次"},
                                "records", status=201).json  # fmt: skip
    assert query_hold["id"] in {
        h["id"] for h in rapi.get("/api/v1/holds", "records_internal").json["results"]
    }
    assert_error(
        rapi.delete_json(
            f"/api/v1/holds/{query_hold['id']}", {"reason": "撤销"}, "records_internal", status=403
        ),
        403,
        "forbidden",
        "hold_id",
    )
    page = rapi.post(
        "/retention",
        "records_internal",
        params={"action": "release", "hold_id": str(query_hold["id"]), "reason": "撤销"},
        status=403,
    )
    assert "超出您密级" in page.text  # the refusal in the page's language
    active = {h["id"] for h in rapi.get("/api/v1/holds?active=true", "records").json["results"]}
    assert {hold["id"], query_hold["id"]} <= active and state(rapi, restricted) == "held"
    rapi.delete_json(f"/api/v1/holds/{query_hold['id']}", {"reason": "撤销"}, "records")
    rapi.delete_json(release, {"reason": "诉讼结束"}, "records")


def test_approval_mode_never_proposes_or_approves_above_clearance(approval_api):
    api = approval_api
    internal, restricted = file_due(api, "internal"), file_due(api, "restricted")
    proposal = run(api, "records_internal", status=202)
    assert internal["complaint_no"] in proposal["proposed"]
    assert restricted["complaint_no"] not in proposal["proposed"]
    approved = api.post_json(f"/api/v1/retention/proposals/{proposal['proposal_id']}/approve",
                             {}, "records").json  # fmt: skip
    assert internal["complaint_no"] in approved["destroyed"]
    assert restricted["complaint_no"] not in approved["destroyed"]
    assert state(api, restricted) == "archived" and state(api, internal) == "destroyed"

    # The restricted manager's proposal names it; the internal one's approval cannot reach it.
    theirs = run(api, "records", status=202)
    assert restricted["complaint_no"] in theirs["proposed"]
    listed = api.get("/api/v1/retention/proposals", "records_internal").json["results"]
    assert restricted["complaint_no"] not in json.dumps(listed)
    assert restricted["complaint_no"] not in api.get("/retention", "records_internal").text
    result = api.post_json(f"/api/v1/retention/proposals/{theirs['proposal_id']}/approve", {},
                           "records_internal").json  # fmt: skip
    assert restricted["complaint_no"] not in {*result["destroyed"], *result["skipped_held"]}
    assert state(api, restricted) == "archived"


def test_a_restricted_dossier_waits_for_a_manager_cleared_for_it(rapi):
    internal, restricted = file_due(rapi, "internal"), file_due(rapi, "restricted")
    first = run(rapi, "records_internal")
    assert internal["complaint_no"] in first["destroyed"]
    assert restricted["complaint_no"] not in {*first["destroyed"], *first["skipped_held"]}
    assert state(rapi, restricted) == "archived"
    assert restricted["id"] in due_ids(rapi, "records")
    second = run(rapi, "records")
    assert restricted["complaint_no"] in second["destroyed"]
    assert state(rapi, restricted) == "destroyed"
    page = rapi.get("/retention", "records_internal").text  # the runs table too
    assert internal["complaint_no"] in page and restricted["complaint_no"] not in page


def test_a_destroyed_dossiers_own_hold_reasons_go_with_it(rapi):
    from archive_app.retention.models import Hold

    dossier = file_due(rapi, "restricted")
    reason, release_reason = f"专属诉讼 {uuid.uuid4().hex}", f"结案 {uuid.uuid4().hex}"
    hold = rapi.post_json(f"/api/v1/dossiers/{dossier['id']}/holds", {"reason": reason},
                          "records", status=201).json  # fmt: skip
    rapi.delete_json(f"/api/v1/dossiers/{dossier['id']}/holds/{hold['id']}",
                     {"reason": release_reason}, "records")  # fmt: skip
    assert dossier["complaint_no"] in run(rapi, "records")["destroyed"]
    with open_app(TESTING_INI) as env:
        request = env["request"]
        with request.tm:
            found = request.dbsession.scalars(select(Hold.id).where(or_(
                Hold.reason.contains(reason[-32:]),
                Hold.release_reason.contains(release_reason[-32:])))).all()  # fmt: skip
    assert found == []
    shown = next(h for h in rapi.get("/api/v1/holds", "records").json["results"]
                 if h["id"] == hold["id"])  # fmt: skip
    assert "erased" in shown["reason"] and "erased" in shown["release_reason"]
    assert shown["placed_by"] == "records"  # the history stays: who and when, not why


def test_a_certificate_is_served_whole_only_to_one_cleared_for_every_record(rapi):
    internal, restricted = file_due(rapi, "internal"), file_due(rapi, "restricted")
    mixed = run(rapi, "records")
    assert {internal["complaint_no"], restricted["complaint_no"]} <= set(mixed["destroyed"])
    url = f"/api/v1/retention/certificates/{mixed['certificate_id']}"
    whole = rapi.get(url, "records").json
    assert restricted["id"] in {record["id"] for record in whole["records"]}
    unsigned = {key: value for key, value in whole.items() if key != "signature"}
    canonical = json.dumps(unsigned, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False).encode()  # fmt: skip
    Ed25519PublicKey.from_public_bytes(base64.b64decode(whole["public_key"])).verify(
        base64.b64decode(whole["signature"]), canonical)  # fmt: skip
    assert "partial" not in whole
    for reader in ("auditor_internal", "auditor"):
        partial = rapi.get(url, reader)
        assert restricted["complaint_no"] not in partial.text
        assert restricted["id"] not in partial.text
        body = partial.json
        assert body["partial"] is True and "signature" not in body
        assert body["withheld_records"] == len(whole["records"]) - len(body["records"]) >= 1
        printed = pdf_text(rapi.get(f"{url}.pdf", reader).body)
        assert "Partial view, not the signed certificate" in printed
        assert restricted["complaint_no"] not in printed
    kept = {record["id"] for record in rapi.get(url, "auditor_internal").json["records"]}
    assert internal["id"] in kept

    # A certificate of internal dossiers only: the internal auditor gets it whole, signed.
    alone = file_due(rapi, "internal")
    only = run(rapi, "records")
    own = rapi.get(f"/api/v1/retention/certificates/{only['certificate_id']}",
                   "auditor_internal").json  # fmt: skip
    assert [record["id"] for record in own["records"]] == [alone["id"]]
    assert "signature" in own and "partial" not in own
    printed = pdf_text(rapi.get(f"/api/v1/retention/certificates/{only['certificate_id']}.pdf",
                                "auditor_internal").body)  # fmt: skip
    assert alone["complaint_no"] in printed and "Partial view" not in printed


class MovingClock:
    """Real-looking time that a test moves on by hand."""

    def __init__(self, real):
        self.zone, self.at = real.zone, datetime.now(UTC)

    def now(self):
        return self.at

    def today(self):
        return self.at.astimezone(self.zone).date()


def test_a_long_run_renews_its_lease_and_keeps_others_out(rapi, wsgi_app, monkeypatch):
    from datetime import date

    from archive_app.records.clearance import SYSTEM
    from archive_app.retention import services
    from archive_app.retention.models import RetentionLease
    from archive_app.retention.runner import destroyer_for

    doomed = [file_due(rapi, "internal") for _ in range(3)]
    monkeypatch.setattr(services, "BATCH", 1)  # one committed step per dossier
    registry = wsgi_app.registry
    clock = MovingClock(registry.getUtility(IClock))
    # The app's clock (the API's second run sees it too) and the command's.
    monkeypatch.setattr(registry.getUtility(IClock), "now", clock.now)
    seen, second, expiry = [], [], []
    with open_app(TESTING_INI) as env:
        monkeypatch.setattr(env["registry"].getUtility(IClock), "now", clock.now)
        destroyer = destroyer_for(env["request"], SYSTEM, lambda ids: None)

        def progress(number):
            seen.append(number)
            if len(seen) == 1:  # longer than the lease between two batches
                clock.at += services.LEASE + timedelta(minutes=1)
            elif len(seen) == 2:  # mid-way: the first run is alive and holds the lease
                second.append(rapi.post_json("/api/v1/retention/runs",
                                             {"as_of": AS_OF, "dry_run": False}, "records",
                                             status="*"))  # fmt: skip
                expiry.append(destroyer.transaction(
                    lambda s: s.get(RetentionLease, 1).expires_at))  # fmt: skip

        result = destroyer.run(date.fromisoformat(AS_OF), False, "cli", progress=progress)
    assert len(seen) >= 3 and second and expiry
    assert_error(second[0], 409, "conflict")
    assert expiry[0] > clock.at  # renewed after the clock moved on, so it still runs
    assert {d["complaint_no"] for d in doomed} <= set(result.destroyed)


def test_a_destroyed_dossiers_stored_texts_go_with_it(rapi):
    """Extracted text is derived content (DESIGN.md): its sealed rows are erased with the
    dossier, not only left unreadable by the erased data keys."""
    from archive_app.records.models import DocumentText

    dossier = file_due(rapi, "internal")
    ids = [document["id"] for document in dossier["documents"]]

    def stored():
        with open_app(TESTING_INI) as env:
            request = env["request"]
            with request.tm:
                return request.dbsession.scalars(select(DocumentText.document_id).where(
                    DocumentText.document_id.in_(ids))).all()  # fmt: skip

    assert stored(), "filing stores each document's text once"
    assert dossier["complaint_no"] in run(rapi, "records")["destroyed"]
    assert stored() == []
