"""Review benchmark: a yearly review over 100,000 dossiers (issue #13: at most 30 s).

    .venv/bin/python bench/review_bench.py [--dossiers 100000] [--year 2025]

Builds a throw-away SQLite archive in a temporary folder, bulk-inserts N dossiers received in
the year and N/4 in each of the four years before (one or two product lines each, through the
models' tables, not the HTTP API), then times what `POST /api/v1/reports/reviews` does for the
year (the readable rows, the figures, the working-day on-time share, signing, storing) and
the review's PDF and workbook. Prints seconds and the process's peak memory (RSS).

`main()` is the entry point; `bench/reports.py` (the ledger's) may call `run_review_bench`.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TYPES = ["adverse_reaction", "intrinsic_quality", "inner_packaging", "outer_packaging",
         "packaging_design", "service", "other"]  # fmt: skip
CHANNELS = ["phone", "letter", "fax", "email", "wechat", "sms", "visit", "other"]
PRODUCTS = [f"产品{index:03d}" for index in range(300)]
BATCH = 5_000  # rows per INSERT


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def dossier_rows(rng: random.Random, year: int, count: int, start: int):
    """(dossier row, its product lines) for `count` dossiers received in `year`."""
    first = date(year, 1, 1)
    filed_at = datetime(year + 1, 1, 15, tzinfo=UTC)
    for index in range(start, start + count):
        received = first + timedelta(days=rng.randrange(365))
        closed = received + timedelta(days=rng.randrange(1, 60))
        complaint_class = rng.choice(["I", "II", "III"])
        dossier_id = uuid.uuid4().hex
        outcome = rng.choice(["justified", "unjustified"])
        row = {
            "id": dossier_id, "complaint_no": f"TS-{complaint_class}-{year % 100:02d}-{index:06d}",
            "complaint_class": complaint_class, "complaint_type": rng.choice(TYPES),
            "title": "基准投诉", "received_on": received, "closed_on": closed,
            "channel": rng.choice(CHANNELS), "department": "质量部", "outcome": outcome,
            "measures": rng.sample(["compensation", "return", "recall"], rng.randrange(3)),
            "capa_ref": f"CAPA-{index}" if outcome == "justified" and rng.random() < 0.7 else None,
            "confidentiality": rng.choice(["internal", "confidential", "restricted"]),
            "summary": None, "state": "archived", "destroy_after": date(2099, 12, 31),
            "retention_rule": "expiry-plus-1y", "retention_rule_version": 1,
            "retention_derivation": "bench", "filed_by": "bench", "filed_at": filed_at,
        }  # fmt: skip
        lines = [{"dossier_id": dossier_id, "position": position, "name": rng.choice(PRODUCTS),
                  "batch_no": f"B{rng.randrange(20000):05d}", "expiry": "2099-12"}
                 for position in range(rng.choice([1, 1, 1, 2]))]  # fmt: skip
        yield row, lines


def load(session, year: int, dossiers: int, seed: int = 7) -> None:
    from sqlalchemy import insert

    from archive_app.records.models import Dossier, ProductLine

    rng, counter = random.Random(seed), 0
    plan = [(year, dossiers)] + [(year - back, dossiers // 4) for back in range(1, 5)]
    for each_year, count in plan:
        rows, lines = [], []
        for row, its_lines in dossier_rows(rng, each_year, count, counter):
            rows.append(row)
            lines += its_lines
            if len(rows) >= BATCH:
                session.execute(insert(Dossier), rows)
                session.execute(insert(ProductLine), lines)
                rows, lines = [], []
        if rows:
            session.execute(insert(Dossier), rows)
            session.execute(insert(ProductLine), lines)
        counter += count


def run_review_bench(dossiers: int = 100_000, year: int = 2025) -> dict:
    storage = Path(tempfile.mkdtemp(prefix="bench-review-"))
    os.environ["ARCHIVE_STORAGE_DIR"] = str(storage)
    os.environ["ARCHIVE_SQLALCHEMY_URL"] = f"sqlite:///{storage}/archive.sqlite"
    from archive_app.access.identities import Identity
    from archive_app.bootstrap import initialise_storage, open_app
    from archive_app.interfaces import IClock, IKeyring
    from archive_app.reports.review_pdf import render_review_pdf
    from archive_app.reports.review_periods import Period
    from archive_app.reports.review_service import issue_review
    from archive_app.reports.review_timeliness import reply_judge
    from archive_app.reports.review_workbook import review_workbook
    from archive_app.reports.reviews import review_settings

    ini = str(ROOT / "testing.ini")
    initialise_storage(ini)
    figures = {}
    with open_app(ini) as env:
        request, registry = env["request"], env["registry"]
        started = time.perf_counter()
        with request.tm:
            load(request.dbsession, year, dossiers)
        figures["load_s"] = time.perf_counter() - started
        clock = registry.getUtility(IClock)
        author = Identity(username="bench", role="archivist", clearance="restricted")
        started = time.perf_counter()
        with request.tm:
            review = issue_review(
                request.dbsession, author, Period(year), now=clock.now(), today=clock.today(),
                signing_key=registry.getUtility(IKeyring).signing_key(),
                settings=review_settings(registry.settings),
                met=reply_judge(registry, Period(year).start),
            )  # fmt: skip
        figures["review_s"] = time.perf_counter() - started
        figures["counted"] = review["total"]
        figures["recurrences"] = len(review["recurrences"])
        started = time.perf_counter()
        pdf = render_review_pdf(review, clock.zone)
        figures["pdf_s"], figures["pdf_kb"] = time.perf_counter() - started, len(pdf) / 1024
        started = time.perf_counter()
        book = review_workbook(review)
        figures["xlsx_s"], figures["xlsx_kb"] = time.perf_counter() - started, len(book) / 1024
    figures["peak_rss_mb"] = peak_rss_mb()
    return figures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dossiers", type=int, default=100_000)
    parser.add_argument("--year", type=int, default=2025)
    args = parser.parse_args()
    figures = run_review_bench(args.dossiers, args.year)
    print(f"loaded {args.dossiers} dossiers in {args.year} (+{args.dossiers // 4} in each of "
          f"the 4 years before) in {figures['load_s']:.1f} s")  # fmt: skip
    print(f"yearly review: {figures['review_s']:.1f} s for {figures['counted']} dossiers counted "
          f"(every level), {figures['recurrences']} recurrences (target <= 30 s)")  # fmt: skip
    print(f"its PDF: {figures['pdf_s']:.1f} s, {figures['pdf_kb']:.0f} KB; workbook: "
          f"{figures['xlsx_s']:.1f} s, {figures['xlsx_kb']:.0f} KB")  # fmt: skip
    print(f"peak RSS {figures['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
