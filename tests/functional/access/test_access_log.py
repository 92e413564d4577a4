"""The access log: review API, CSV export, and every tamper variant detected."""

from __future__ import annotations

import csv
import io
import os

import pytest
from factories import file_dossier
from sqlalchemy import delete, select, update
from support import bytes_on_disk

from archive_app.access.models import AccessLogEntry, AccessLogHead
from archive_app.interfaces import IAccessLog


@pytest.fixture
def filed(api):
    return file_dossier(api).json


def test_only_privacy_officers_read_the_log(api):
    for user in ("archivist", "auditor", "records", "admin"):
        api.get("/api/v1/access-log", user, status=403)
        api.get("/api/v1/access-log/verify", user, status=403)
        api.get("/api/v1/access-log/export.csv", user, status=403)
    api.get("/api/v1/access-log", None, status=401)


def test_who_saw_this_dossier(api, filed):
    api.get(f"/api/v1/dossiers/{filed['id']}", "auditor")
    body = api.get(f"/api/v1/access-log?dossier_id={filed['id']}", "privacy").json
    actions = {(entry["user"], entry["action"], entry["outcome"]) for entry in body["entries"]}
    assert ("archivist", "file", "ok") in actions and ("auditor", "view", "ok") in actions
    assert body["total"] == len(body["entries"])
    entry = body["entries"][0]
    assert set(entry) == {"seq", "at", "user", "role", "action", "dossier_id", "complaint_no",
                          "document_id", "outcome", "ip", "detail"}  # fmt: skip
    assert entry["complaint_no"] == filed["complaint_no"] and entry["ip"] == "192.0.2.10"


def test_filters_and_bad_filters(api, filed):
    views = api.get("/api/v1/access-log?action=view&user=nobody", "privacy").json
    assert views == {"total": 0, "page": 1, "entries": []}
    api.get("/api/v1/access-log?from=yesterday", "privacy", status=422)
    api.get("/api/v1/access-log?page=0", "privacy", status=422)
    today = api.get("/api/v1/access-log?from=2000-01-01&to=2999-12-31", "privacy").json
    assert today["total"] > 0


def test_csv_export_has_the_contract_header_and_is_logged(api, filed):
    response = api.get("/api/v1/access-log/export.csv", "privacy")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["seq", "at", "user", "role", "action", "outcome", "dossier_id",
                       "complaint_no", "document_id", "ip", "detail"]  # fmt: skip
    assert len(rows) > 2
    assert response.headers["Content-Disposition"].startswith("attachment")
    exports = api.get("/api/v1/access-log?action=export", "privacy").json
    assert exports["total"] >= 1


def test_details_are_not_in_the_database_file_in_clear(api, storage, filed):
    marker = "TS-I-23-777777"
    api.get(f"/api/v1/dossiers?complaint_no={marker}", "auditor")
    api.get(f"/api/v1/dossiers/{'a' * 32}", "privacy", status=403)  # a denial with a detail
    body = api.get("/api/v1/access-log?action=search&user=auditor", "privacy").json
    assert body["entries"][0]["detail"].startswith("complaint_no lookup")
    if os.environ.get("ARCHIVE_TEST_DATABASE") != "postgres":
        raw = b"".join(bytes_on_disk(p) for p in storage.glob("archive.sqlite*"))
        assert b"complaint_no lookup" not in raw and b"missing permission" not in raw


def test_the_chain_verifies(api, filed):
    assert api.get("/api/v1/access-log/verify", "privacy").json["ok"] is True


TAMPERS = {
    "edited": lambda s, seq: s.execute(
        update(AccessLogEntry).where(AccessLogEntry.seq == seq).values(action="viewed")),
    "deleted": lambda s, seq: s.execute(delete(AccessLogEntry).where(AccessLogEntry.seq == seq)),
    "inserted": lambda s, seq: _insert_copy(s, seq),
    "reordered": lambda s, seq: _swap(s, seq, seq + 1),
}  # fmt: skip


def _insert_copy(session, seq):
    session.execute(update(AccessLogEntry).where(AccessLogEntry.seq >= seq)
                    .values(seq=AccessLogEntry.seq + 100000))  # fmt: skip
    session.flush()
    original = session.get(AccessLogEntry, seq + 100000)
    values = {column.key: getattr(original, column.key) for column in AccessLogEntry.__table__.c}
    session.add(AccessLogEntry(**values | {"seq": seq, "username": "intruder"}))
    session.flush()
    session.execute(update(AccessLogEntry).where(AccessLogEntry.seq >= seq + 100000)
                    .values(seq=AccessLogEntry.seq - 100000 + 1))  # fmt: skip


def _swap(session, first, second):
    session.execute(update(AccessLogEntry).where(AccessLogEntry.seq == first).values(seq=-1))
    session.execute(update(AccessLogEntry).where(AccessLogEntry.seq == second)
                    .values(seq=first))  # fmt: skip
    session.execute(update(AccessLogEntry).where(AccessLogEntry.seq == -1).values(seq=second))


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_every_tamper_is_detected_and_named(filed, dbsession, script_request, tamper):
    access_log = script_request.find_service(IAccessLog)
    target = dbsession.scalar(select(AccessLogHead.seq)) // 2
    TAMPERS[tamper](dbsession, target)  # undone after the test (the dbsession fixture)
    dbsession.flush()
    report = access_log.verify(dbsession)
    assert report.ok is False
    assert report.first_bad_seq == target


def test_a_cut_tail_is_detected_against_the_last_checkpoint(filed, dbsession, script_request):
    access_log = script_request.find_service(IAccessLog)
    checkpoint = access_log.write_checkpoint()  # committed, on the log's own connection
    keep = checkpoint.seq - 3
    kept = dbsession.get(AccessLogEntry, keep)
    dbsession.execute(delete(AccessLogEntry).where(AccessLogEntry.seq > keep))
    dbsession.execute(update(AccessLogHead).values(seq=keep, mac=kept.mac))
    dbsession.flush()
    report = access_log.verify(dbsession)
    assert report.ok is False and report.first_bad_seq == keep + 1
