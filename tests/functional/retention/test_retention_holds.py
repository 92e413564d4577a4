"""Holds by query (a product or a batch, later filings included) and retention-bucket keys:
destruction reaches a copy of the database taken before it."""

from __future__ import annotations

import sqlite3
import uuid

from factories import complaint_no, complete_files, metadata, metadata_part
from sqlalchemy import select
from support import TESTING_INI, assert_error, clock_reading

from archive_app.bootstrap import open_app
from archive_app.interfaces import IBucketKeys, IDatabase, IKeyring
from archive_app.records.models import Document, Dossier
from archive_app.vault.buckets import Sealer
from archive_app.vault.envelope import unwrap_data_key
from archive_app.vault.keyring import KeyringError

AS_OF = "2021-01-01"


def file_old(api, batch_no: str, product: str = "复方甘草片", **overrides) -> dict:
    """Closed 2019-04-01, expired 2019-06: destroy after 2020-06-30, due on AS_OF."""
    meta = metadata(
        complaint_no=complaint_no("I", 2019), received_on="2019-03-01", closed_on="2019-04-01",
        products=[{"name": product, "batch_no": batch_no, "expiry": "2019-06"}], **overrides,
    )  # fmt: skip
    return api.post("/api/v1/dossiers", "archivist", params=[metadata_part(meta)],
                    upload_files=complete_files(), status=201).json  # fmt: skip


def state(api, dossier) -> str:
    return api.get(f"/api/v1/dossiers/{dossier['id']}", "auditor").json["state"]


def run(api, as_of=AS_OF):
    return api.post_json("/api/v1/retention/runs", {"as_of": as_of, "dry_run": False},
                         "records", status=201).json  # fmt: skip


def unique_batch() -> str:
    return "QH" + uuid.uuid4().hex[:8].upper()


def test_a_batch_hold_covers_dossiers_filed_before_and_after_it(api):
    batch = unique_batch()
    before = file_old(api, batch)
    bystander = file_old(api, batch[:-1])  # a partial batch number is another batch
    hold = api.post_json("/api/v1/holds", {"batch_no": batch, "reason": "药监局调查"},
                         "records", status=201).json  # fmt: skip
    assert hold["batch_no"] == batch and hold["dossier_id"] is None
    after = file_old(api, batch)
    assert state(api, before) == "held" and state(api, after) == "held"
    assert state(api, bystander) == "archived"

    due = {row["id"]: row["held"] for row in
           api.get(f"/api/v1/retention/due?as_of={AS_OF}", "records").json["results"]}  # fmt: skip
    assert due[before["id"]] and due[after["id"]] and not due[bystander["id"]]
    result = run(api)
    assert {before["complaint_no"], after["complaint_no"]} <= set(result["skipped_held"])
    assert bystander["complaint_no"] in result["destroyed"]

    listed = api.get("/api/v1/holds?active=true", "records").json["results"]
    assert hold["id"] in {row["id"] for row in listed}
    api.delete_json(f"/api/v1/holds/{hold['id']}", {"reason": "调查结束"}, "records")
    assert state(api, before) == "archived" and state(api, after) == "archived"
    history = {row["id"]: row for row in api.get("/api/v1/holds", "records").json["results"]}
    assert history[hold["id"]]["release_reason"] == "调查结束"
    assert hold["id"] not in {
        row["id"] for row in api.get("/api/v1/holds?active=true", "records").json["results"]
    }
    assert {before["complaint_no"], after["complaint_no"]} <= set(run(api)["destroyed"])


def test_a_product_hold_matches_the_exact_product_name(api):
    product = f"测试保全品{uuid.uuid4().hex[:6]}"
    held = file_old(api, unique_batch(), product=product)
    other = file_old(api, unique_batch(), product=product + "缓释片")
    hold = api.post_json("/api/v1/holds", {"product_name": product, "reason": "诉讼"},
                         "records", status=201).json  # fmt: skip
    assert state(api, held) == "held" and state(api, other) == "archived"
    # A hold on one dossier and one by query: releasing one leaves the other in force.
    own = api.post_json(f"/api/v1/dossiers/{held['id']}/holds", {"reason": "客户复议"},
                        "records", status=201).json  # fmt: skip
    api.delete_json(f"/api/v1/holds/{hold['id']}", {"reason": "结束"}, "records")
    assert state(api, held) == "held"
    api.delete_json(f"/api/v1/dossiers/{held['id']}/holds/{own['id']}", {"reason": "结束"},
                    "records")  # fmt: skip
    assert state(api, held) == "archived"


def test_bad_holds_by_query_are_refused(api):
    for body, field in (
        ({"reason": "x"}, "product_name"),
        ({"product_name": "甲", "batch_no": "B1", "reason": "x"}, "product_name"),
        ({"batch_no": "", "reason": "x"}, "batch_no"),
        ({"batch_no": 7, "reason": "x"}, "batch_no"),
        ({"batch_no": "B1"}, "reason"),
        ({"batch_no": "B1", "reason": "   "}, "reason"),
    ):
        assert_error(api.post_json("/api/v1/holds", body, "records", status=422),
                     422, "invalid", field)  # fmt: skip
    assert_error(api.app.post("/api/v1/holds", "not json", headers={
        **api.headers("records"), "Content-Type": "application/json"}, status=400), 400,
        "bad_request")  # fmt: skip
    for user in ("archivist", "auditor", "privacy", "admin"):
        api.post_json("/api/v1/holds", {"batch_no": "B1", "reason": "x"}, user, status=403)
        api.get("/api/v1/holds", user, status=403)
    api.get("/api/v1/holds?active=maybe", "records", status=422)
    # A hold on one dossier is released through that dossier, not here.
    dossier = file_old(api, unique_batch())
    own = api.post_json(f"/api/v1/dossiers/{dossier['id']}/holds", {"reason": "x"},
                        "records", status=201).json  # fmt: skip
    api.delete_json(f"/api/v1/holds/{own['id']}", {"reason": "x"}, "records", status=404)
    api.delete_json("/api/v1/holds/99999999", {"reason": "x"}, "records", status=404)
    api.delete_json("/api/v1/holds/abc", {"reason": "x"}, "records", status=404)
    api.delete_json(f"/api/v1/dossiers/{dossier['id']}/holds/{own['id']}", {"reason": "x"},
                    "records")  # fmt: skip


def database_copy(storage, tmp_path) -> dict:
    """What a backup taken now holds of each document's key and each dossier's personal
    data: a real copy of the SQLite file (rows copied out on PostgreSQL)."""
    with open_app(TESTING_INI) as env:
        engine = env["registry"].getUtility(IDatabase).engine
        if engine.dialect.name == "sqlite":
            copy = tmp_path / "backup.sqlite"
            source = sqlite3.connect(engine.url.database)
            target = sqlite3.connect(copy)
            source.backup(target)
            source.close()
            documents = target.execute("SELECT id, dossier_id, wrapped_key, kek_version, "
                                       "key_bucket FROM documents").fetchall()  # fmt: skip
            dossiers = target.execute(
                "SELECT id, key_bucket, customer_name_enc FROM dossiers"
            ).fetchall()
            target.close()
        else:
            request = env["request"]
            with request.tm:
                documents = request.dbsession.execute(select(
                    Document.id, Document.dossier_id, Document.wrapped_key, Document.kek_version,
                    Document.key_bucket)).all()  # fmt: skip
                dossiers = request.dbsession.execute(
                    select(Dossier.id, Dossier.key_bucket, Dossier.customer_name_enc)
                ).all()
    return {"documents": {row[0]: row for row in documents},
            "dossiers": {row[0]: row for row in dossiers}}  # fmt: skip


def open_from_copy(copy: dict, dossier_id: str) -> str:
    """Use the copy with the keyring as it is now: unwrap every key, read the name."""
    with open_app(TESTING_INI) as env:
        registry = env["registry"]
        sealer = Sealer(registry.getUtility(IKeyring), registry.getUtility(IBucketKeys))
        for document_id, owner, wrapped, version, bucket in copy["documents"].values():
            if owner == dossier_id:
                key = sealer.wrapping_key(version, bucket)
                unwrap_data_key(key, wrapped, kek_version=version, dossier_id=owner,
                                document_id=document_id)  # fmt: skip
        _id, bucket, name = copy["dossiers"][dossier_id]
        return sealer.field_cipher(bucket).decrypt(name, context="customer.name")


def test_a_backup_taken_before_destruction_cannot_open_the_destroyed_dossier(api, storage,
                                                                             tmp_path):  # fmt: skip
    doomed = file_old(api, unique_batch())
    kept = file_old(api, unique_batch())
    api.post_json(f"/api/v1/dossiers/{kept['id']}/holds", {"reason": "诉讼保全"}, "records",
                  status=201)  # fmt: skip
    copy = database_copy(storage, tmp_path)
    assert copy["dossiers"][doomed["id"]][1] == "2020-06"
    assert copy["dossiers"][kept["id"]][1] == "hold"
    # Before the run the copy opens (so the check below can fail).
    assert open_from_copy(copy, doomed["id"]) == metadata()["customer"]["name"]

    assert doomed["complaint_no"] in run(api)["destroyed"]

    try:
        open_from_copy(copy, doomed["id"])
    except KeyringError as error:
        assert "2020-06" in str(error)
    else:
        raise AssertionError("the copy still opens the destroyed dossier")
    # The held dossier moved to the hold key before its month's key went.
    assert open_from_copy(copy, kept["id"]) == metadata()["customer"]["name"]
    with open_app(TESTING_INI) as env:
        buckets = env["registry"].getUtility(IBucketKeys)
        assert "2020-06" in buckets.destroyed() and "2020-06" not in buckets.names()
    api.get(f"/api/v1/dossiers/{kept['id']}/documents/{kept['documents'][0]['id']}", "auditor")


def test_a_hold_placed_between_listing_and_destruction_wins(api):
    from archive_app.records.clearance import SYSTEM
    from archive_app.retention.runner import destroyer_for

    dossier = file_old(api, unique_batch())
    with open_app(TESTING_INI) as env:
        request = env["request"]
        destroyer = destroyer_for(request, SYSTEM, lambda ids: None)
        listed = destroyer.transaction
        calls = []

        def transaction(work):
            result = listed(work)
            if not calls:  # the due list has just been read: a hold arrives now
                calls.append(1)
                api.post_json(f"/api/v1/dossiers/{dossier['id']}/holds",
                              {"reason": "临时诉讼"}, "records", status=201)  # fmt: skip
            return result

        destroyer.transaction = transaction
        from datetime import date

        result = destroyer.run(date(2021, 1, 1), False, "records")
    assert dossier["complaint_no"] in result.skipped_held
    assert dossier["complaint_no"] not in result.destroyed
    assert state(api, dossier) == "held"


def test_today_is_the_day_in_the_archive_time_zone(api, wsgi_app):
    from datetime import UTC, datetime

    meta = metadata(
        complaint_no=complaint_no("I", 2025), received_on="2025-03-01", closed_on="2025-04-01",
        products=[{"name": "时区测试片", "batch_no": unique_batch(), "expiry": "2025-06"}],
    )  # fmt: skip
    dossier = api.post("/api/v1/dossiers", "archivist", params=[metadata_part(meta)],
                       upload_files=complete_files(), status=201).json  # fmt: skip
    assert dossier["destroy_after"] == "2026-06-30"

    def dry_run_at(utc: datetime, as_of=None, status=201):
        with clock_reading(wsgi_app.registry, lambda: utc):
            return api.post_json(
                "/api/v1/retention/runs",
                {"as_of": as_of, "dry_run": False} if as_of else {"dry_run": True},
                "records",
                status=status,
            )

    # 15:00 UTC on 30 June is 23:00 in Shanghai: still the destroy-after day, not due.
    evening = dry_run_at(datetime(2026, 6, 30, 15, 0, tzinfo=UTC)).json
    assert dossier["complaint_no"] not in evening["destroyed"]
    assert_error(
        dry_run_at(datetime(2026, 6, 30, 15, 0, tzinfo=UTC), as_of="2026-07-01", status=422),
        422,
        "invalid",
        "as_of",
    )  # tomorrow there
    # 17:00 UTC is 01:00 on 1 July in Shanghai: due, though UTC still says 30 June.
    night = dry_run_at(datetime(2026, 6, 30, 17, 0, tzinfo=UTC)).json
    assert dossier["complaint_no"] in night["destroyed"]
