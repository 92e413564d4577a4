"""Holds, due lists, runs and certificates through the API (contract §4 and §6)."""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from factories import complaint_no, complete_files, file_dossier, metadata
from support import assert_error, bytes_on_disk

AS_OF = "2021-01-01"  # later than every dossier filed here, earlier than the other tests'


def old_dossier(api, **overrides):
    """A dossier closed in 2019 whose product expired 2019-06: destroy after 2020-06-30."""
    meta = metadata(
        complaint_no=complaint_no("I", 2019), received_on="2019-03-01", closed_on="2019-04-01",
        products=[{"name": "复方甘草片", "batch_no": "FG190101", "expiry": "2019-06"}], **overrides,
    )  # fmt: skip
    return file_dossier(api, meta).json


def run(api, as_of=AS_OF, dry_run=False, status=201):
    return api.post_json("/api/v1/retention/runs", {"as_of": as_of, "dry_run": dry_run},
                         "records", status=status)  # fmt: skip


def test_only_records_managers_run_retention(api):
    for user in ("archivist", "auditor", "privacy", "admin"):
        api.get(f"/api/v1/retention/due?as_of={AS_OF}", user, status=403)
        api.post_json("/api/v1/retention/runs", {"dry_run": True}, user, status=403)


def test_due_only_after_the_destroy_after_day(api):
    dossier = old_dossier(api)
    assert dossier["destroy_after"] == "2020-06-30"
    on_the_day = api.get("/api/v1/retention/due?as_of=2020-06-30", "records").json["results"]
    assert dossier["id"] not in {row["id"] for row in on_the_day}
    next_day = api.get("/api/v1/retention/due?as_of=2020-07-01", "records").json["results"]
    row = next(row for row in next_day if row["id"] == dossier["id"])
    assert row == {"id": dossier["id"], "complaint_no": dossier["complaint_no"],
                   "destroy_after": "2020-06-30", "held": False}  # fmt: skip
    assert_error(api.get("/api/v1/retention/due?as_of=tomorrow", "records", status=422),
                 422, "invalid", "as_of")  # fmt: skip


def test_dry_run_destroys_nothing_and_future_only_with_dry_run(api):
    dossier = old_dossier(api)
    result = run(api, dry_run=True).json
    assert dossier["complaint_no"] in result["destroyed"] and result["certificate_id"] is None
    assert api.get(f"/api/v1/dossiers/{dossier['id']}", "auditor").json["state"] == "archived"
    assert run(api, as_of="2999-01-01", dry_run=True).json["dry_run"] is True
    assert_error(run(api, as_of="2999-01-01", status=422), 422, "invalid", "as_of")


def test_a_hold_always_wins_until_released(api):
    dossier = old_dossier(api)
    hold = api.post_json(f"/api/v1/dossiers/{dossier['id']}/holds", {"reason": "诉讼保全"},
                         "records", status=201).json  # fmt: skip
    assert set(hold) == {"id", "reason", "placed_by", "placed_at"}
    assert api.get(f"/api/v1/dossiers/{dossier['id']}", "auditor").json["state"] == "held"
    first = run(api).json
    assert dossier["complaint_no"] in first["skipped_held"]
    assert dossier["complaint_no"] not in first["destroyed"]
    api.app.delete_json(
        f"/api/v1/dossiers/{dossier['id']}/holds/{hold['id']}",
        {},
        headers=api.headers("records"),
        status=422,
    )  # a reason is required
    release = f"/api/v1/dossiers/{dossier['id']}/holds/{hold['id']}"
    api.app.delete_json(release, {"reason": "诉讼结束"}, headers=api.headers("records"))
    second = run(api).json
    assert dossier["complaint_no"] in second["destroyed"]


def test_destruction_leaves_a_tombstone_and_a_verifiable_certificate(api, storage):
    meta = metadata(
        complaint_no=complaint_no("I", 2019), received_on="2019-03-01", closed_on="2019-04-01",
        customer={"name": "独孤求败", "phone": "13700001234"},
        title="唯一标题标记甲乙丙丁", summary="独一无二的摘要标记戊己庚辛",
        products=[{"name": "残留药ZQXPRODUCT", "batch_no": "ZQXBATCH77", "expiry": "2019-06"}],
    )  # fmt: skip
    note = ("attachment", "note.txt", "客户来电记录 ZQXDOCTEXT7731 溶出度不合格".encode())
    dossier = file_dossier(api, meta, [*complete_files(), note]).json
    api.post_json(f"/api/v1/dossiers/{dossier['id']}/corrections",
                  {"reason": "更正 ZQXCORRECTION", "closed_on": "2019-04-02"}, "records",
                  status=201)  # fmt: skip
    hits = api.get("/api/v1/search?q=ZQXDOCTEXT7731", "auditor").json["results"]
    assert [hit["id"] for hit in hits] == [dossier["id"]]  # indexed, so the scan means something
    result = run(api).json
    assert dossier["complaint_no"] in result["destroyed"] and result["certificate_id"]

    gone = api.get(f"/api/v1/dossiers/{dossier['id']}", "auditor", status=410).json
    assert gone["error"] == "destroyed"
    tombstone = gone["tombstone"]
    assert tombstone["complaint_no"] == dossier["complaint_no"]
    assert tombstone["documents"] == [{"sha256": d["sha256"], "size": d["size"]}
                                      for d in dossier["documents"]]  # fmt: skip
    document = dossier["documents"][0]["id"]
    api.get(f"/api/v1/dossiers/{dossier['id']}/documents/{document}", "auditor", status=410)

    certificate = api.get(f"/api/v1/retention/certificates/{result['certificate_id']}",
                          "auditor").json  # fmt: skip
    numbers = {record["complaint_no"] for record in certificate["records"]}
    assert dossier["complaint_no"] in numbers
    # Verified with the contract's rules alone.
    unsigned = {k: v for k, v in certificate.items() if k != "signature"}
    canonical = json.dumps(unsigned, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False).encode()  # fmt: skip
    Ed25519PublicKey.from_public_bytes(base64.b64decode(certificate["public_key"])).verify(
        base64.b64decode(certificate["signature"]), canonical)  # fmt: skip
    pdf = api.get(f"/api/v1/retention/certificates/{result['certificate_id']}.pdf", "records")
    assert pdf.body.startswith(b"%PDF")
    api.get(f"/api/v1/retention/certificates/{result['certificate_id']}", "archivist",
            status=403)  # fmt: skip

    # No residue anywhere under storage/: database (and WAL), blobs, index, temporary files.
    markers = ["独孤求败", "唯一标题标记甲乙丙丁", "独一无二的摘要标记戊己庚辛", "13700001234",
               "zqxdoctext7731", "ZQXDOCTEXT7731", "zqxproduct", "ZQXPRODUCT", "ZQXCORRECTION",
               "客户来电记录", "ZQXBATCH77", "zqxbatch77"]  # fmt: skip
    for path in (p for p in storage.rglob("*") if p.is_file()):
        data = bytes_on_disk(path)
        for marker in markers:
            assert marker.encode() not in data, (marker, path)


def test_certificates_are_chained(api):
    old_dossier(api)
    first = run(api).json["certificate_id"]
    old_dossier(api)
    second = run(api).json["certificate_id"]
    a = api.get(f"/api/v1/retention/certificates/{first}", "records").json
    b = api.get(f"/api/v1/retention/certificates/{second}", "records").json
    canonical = json.dumps(a, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert b["previous_certificate_sha256"] == hashlib.sha256(canonical).hexdigest()


def test_holds_on_unknown_or_destroyed_dossiers(api):
    api.post_json(f"/api/v1/dossiers/{'0' * 32}/holds", {"reason": "x"}, "records", status=404)
    dossier = old_dossier(api)
    run(api)
    api.post_json(f"/api/v1/dossiers/{dossier['id']}/holds", {"reason": "x"}, "records",
                  status=410)  # fmt: skip


def test_one_run_at_a_time(api):
    import socket
    from datetime import UTC, datetime, timedelta

    from support import TESTING_INI

    from archive_app.bootstrap import open_app
    from archive_app.retention.models import RetentionLease

    with open_app(TESTING_INI) as env:
        request = env["request"]
        with request.tm:
            lease = request.dbsession.get(RetentionLease, 1) or RetentionLease(id=1)
            # pid 1 is alive: the lease belongs to a running process until it expires.
            lease.holder = f"{socket.gethostname()}:1:other-run"
            lease.expires_at = datetime.now(UTC) + timedelta(minutes=5)
            request.dbsession.add(lease)
        try:
            busy = run(api, status=409)
            assert_error(busy, 409, "conflict")
        finally:
            with request.tm:
                request.dbsession.get(RetentionLease, 1).holder = None
    run(api, status=201)
