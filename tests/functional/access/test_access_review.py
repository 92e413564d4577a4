"""The privacy officer's review: the log page, and anomaly rules on crafted activity."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from factories import complete_files, metadata, metadata_part
from support import PASSWORD, TESTING_INI

from archive_app.access.anomalies import AnomalyRules, find_anomalies
from archive_app.access.models import AccessLogEntry
from archive_app.bootstrap import open_app
from archive_app.records.clearance import DossierClearance

ZONE = ZoneInfo("Asia/Shanghai")
# A Wednesday, 10:00 in Shanghai: inside working hours.
NOON = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)


class Rollback(Exception):
    pass


def signed_in(app, username):
    form = app.get("/login").forms[0]
    form["username"], form["password"] = username, PASSWORD
    form.submit(status=303)


def test_log_page_for_privacy_officers_only(app, api, users):
    dossier = api.post("/api/v1/dossiers", "archivist", params=[metadata_part(metadata())],
                       upload_files=complete_files(), status=201).json  # fmt: skip
    signed_in(app, "privacy")
    page = app.get(f"/access-log?dossier_id={dossier['id']}")
    assert dossier["complaint_no"] in page.text and "archivist" in page.text
    assert "chain ok" in page.text
    app.get("/access-log?from=not-a-date", status=422)
    app.get("/logout").forms[0].submit(status=303)  # signing out is a POST
    signed_in(app, "auditor")
    app.get("/access-log", status=403)


def flags_for(rows, now=NOON + timedelta(hours=1), **rules):
    """Anomalies over crafted entries, inserted in a transaction that is rolled back."""
    with open_app(TESTING_INI) as env:
        request = env["request"]
        found = []
        with suppress(Rollback), request.tm:
            session = request.dbsession
            base = 10_000_000
            for offset, (at, user, action, outcome, dossier_id) in enumerate(rows):
                session.add(AccessLogEntry(
                    seq=base + offset, at=at, username=user, role="auditor", action=action,
                    outcome=outcome, dossier_id=dossier_id, mac="0" * 64))  # fmt: skip
            session.flush()
            found = find_anomalies(
                session, AnomalyRules(**rules), now, ZONE, DossierClearance().levels
            )
            raise Rollback
    return {(flag.rule, flag.user) for flag in found}


def test_normal_activity_stays_quiet():
    rows = [(NOON + timedelta(minutes=i), "auditor", "view", "ok", None) for i in range(5)]
    rows += [(NOON, "auditor", "download", "ok", None)]
    assert flags_for(rows) == set()


def test_bulk_downloads_denial_bursts_and_off_hours_are_flagged():
    rows = [(NOON + timedelta(seconds=i), "mallory", "download", "ok", None) for i in range(6)]
    rows += [(NOON + timedelta(seconds=i), "eve", "view", "denied", None) for i in range(4)]
    night = datetime(2026, 11, 18, 16, 30, tzinfo=UTC)  # 00:30 in Shanghai
    rows += [(night, "owl", "view", "ok", None)]
    flags = flags_for(rows, now=night + timedelta(hours=1), downloads_per_hour=5,
                      denials_per_hour=3)  # fmt: skip
    assert flags == {("bulk_downloads", "mallory"), ("denial_burst", "eve"), ("off_hours", "owl")}


def test_many_restricted_dossiers_in_a_day_are_flagged(api):
    restricted = [
        api.post("/api/v1/dossiers", "archivist",
                 params=[metadata_part(metadata(confidentiality="restricted"))],
                 upload_files=complete_files(), status=201).json["id"]
        for _ in range(3)
    ]  # fmt: skip
    rows = [(NOON + timedelta(minutes=i), "snoop", "view", "ok", dossier_id)
            for i, dossier_id in enumerate(restricted)]  # fmt: skip
    assert ("restricted_views", "snoop") in flags_for(rows, restricted_views_per_day=2)
    assert flags_for(rows, restricted_views_per_day=3) == set()
