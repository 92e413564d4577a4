"""Access-log benchmark: logging overhead per request, review queries and verification at scale.

    .venv/bin/python bench/access_log.py [--entries 1000000]

Builds a throw-away SQLite archive in a temporary folder, appends entries through the real
service (one transaction each, as a request does), bulk-loads a chained log of N entries, then
times the privacy officer's review queries and a full chain verification. Prints figures.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--appends", type=int, default=2000)
    args = parser.parse_args()

    storage = Path(tempfile.mkdtemp(prefix="bench-access-log-"))
    os.environ["ARCHIVE_STORAGE_DIR"] = str(storage)
    os.environ["ARCHIVE_SQLALCHEMY_URL"] = f"sqlite:///{storage}/archive.sqlite"
    from sqlalchemy import insert

    from archive_app.access.accesslog import Event, chain_mac
    from archive_app.access.models import AccessLogEntry, AccessLogHead
    from archive_app.access.review import LogFilter, count_entries, page_of_entries
    from archive_app.bootstrap import initialise_storage, open_app
    from archive_app.interfaces import IAccessLog

    ini = str(ROOT / "testing.ini")
    initialise_storage(ini)
    with open_app(ini) as env:
        request = env["request"]
        access_log = request.find_service(IAccessLog)

        # 1. Overhead of one logged read: an entry in a transaction of its own.
        timings = []
        for index in range(args.appends):
            event = Event(action="view", username=f"user{index % 20}", role="auditor",
                          dossier_id=f"{index % 500:032x}", ip="10.0.0.1",
                          detail="web view")  # fmt: skip
            started = time.perf_counter()
            access_log.append_now(event)
            timings.append((time.perf_counter() - started) * 1000)
        median, p95 = statistics.median(timings), percentile(timings, 0.95)
        print(f"append (own transaction, SQLite FULL sync): median {median:.2f} ms,"
              f" p95 {p95:.2f} ms over {args.appends}")  # fmt: skip

        # 2. Bulk-load a chained log of N entries (continuing the real chain).
        started = time.perf_counter()
        with request.tm:
            session = request.dbsession
            head = session.get(AccessLogHead, 1)
            seq, mac = head.seq, head.mac
            rng = random.Random(7)
            base = datetime(2026, 1, 1, tzinfo=UTC)
            batch = []
            actions = ("view", "download", "search", "file", "login")
            for _ in range(args.entries):
                seq += 1
                entry = {
                    "seq": seq, "at": base + timedelta(seconds=seq * 20),
                    "username": f"user{rng.randrange(200)}", "role": "auditor",
                    "action": rng.choice(actions),
                    "outcome": "ok" if rng.random() > 0.02 else "denied",
                    "dossier_id": f"{rng.randrange(100_000):032x}", "complaint_no": None,
                    "document_id": None, "ip": "10.0.0.2", "user_agent": "bench", "detail": None,
                }  # fmt: skip
                mac = chain_mac(access_log.key, mac, entry)
                batch.append(entry | {"mac": mac})
                if len(batch) == 20_000:
                    session.execute(insert(AccessLogEntry), batch)
                    batch = []
            if batch:
                session.execute(insert(AccessLogEntry), batch)
            head.seq, head.mac = seq, mac
        print(f"bulk load of {args.entries} chained entries: {time.perf_counter() - started:.1f} s")

        # 3. Review queries a privacy officer runs, p50/p95 over 200 random ones.
        zone = env["registry"]["archive.clock"].zone
        kinds = {
            "by user": lambda r: {"user": f"user{r.randrange(200)}"},
            "by dossier": lambda r: {"dossier_id": f"{r.randrange(100_000):032x}"},
            "by user + week": lambda r: {"user": f"user{r.randrange(200)}",
                                         "from": "2026-03-01", "to": "2026-03-07"},
            "denied in a month": lambda r: {"outcome": "denied", "from": "2026-04-01",
                                            "to": "2026-04-30"},
            "everything, page 1": lambda r: {},
        }  # fmt: skip
        rng = random.Random(11)
        for name, make in kinds.items():
            timings = []
            for _ in range(200):
                chosen = LogFilter.from_params(make(rng), zone)
                started = time.perf_counter()
                with request.tm:
                    count_entries(request.dbsession, chosen)
                    page_of_entries(request.dbsession, chosen, 1)
                timings.append((time.perf_counter() - started) * 1000)
            print(f"review query {name}: p50 {statistics.median(timings):.1f} ms,"
                  f" p95 {percentile(timings, 0.95):.1f} ms")  # fmt: skip

        # 4. Full verification of the chain.
        started = time.perf_counter()
        with request.tm:
            report = access_log.verify(request.dbsession)
        elapsed = time.perf_counter() - started
        print(f"verify {report.entries} entries: {elapsed:.1f} s, ok={report.ok}")


if __name__ == "__main__":
    main()
