"""Reports benchmark: the 台账 ledger's workbook over N dossiers.

    nice .venv/bin/python bench/reports.py [--dossiers 100000]

Set-up (not measured): a fresh SQLite archive with N dossiers inserted in bulk through the
models' tables (no HTTP, no documents: the ledger reads none), each with its four customer
fields encrypted as filing seals them (retention-bucket field key, HMAC look-up columns),
one or two product lines, three levels of confidentiality and a spread of dates.

Measured: `archive report ledger --xlsx FILE` as a person or cron starts it, in a child
process: wall time and the child's peak memory (RSS, ru_maxrss); the workbook's size and rows.

Parts are functions (`build_archive`, `bench_ledger`) that `main` calls in turn, so that other
reports (the yearly review) add theirs over the same archive.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
INI = str(ROOT / "testing.ini")
BATCH = 5000
ARCHIVE = str(Path(sys.executable).with_name("archive"))


def build_archive(count: int, seed: int = 13) -> None:
    """N dossiers in the archive named by ARCHIVE_STORAGE_DIR / ARCHIVE_SQLALCHEMY_URL."""
    from sqlalchemy import insert

    from archive_app.bootstrap import initialise_storage, open_app
    from archive_app.demo.corpus import PRODUCTS
    from archive_app.interfaces import IBucketKeys, IFieldCipher, IKeyring
    from archive_app.records.models import Dossier, ProductLine
    from archive_app.vault.buckets import Sealer, bucket_for

    initialise_storage(INI)
    rng = random.Random(seed)
    types = ["intrinsic_quality", "adverse_reaction", "outer_packaging", "inner_packaging",
             "service", "packaging_design", "other"]  # fmt: skip
    levels = ["internal"] * 6 + ["confidential"] * 3 + ["restricted"]
    with open_app(INI) as env:
        registry, request = env["registry"], env["request"]
        sealer = Sealer(registry.getUtility(IKeyring), registry.getUtility(IBucketKeys))
        lookups = registry.getUtility(IFieldCipher)
        now = datetime.now(UTC)
        ciphers = {}  # one field cipher per retention bucket, as filing would derive it
        for start in range(0, count, BATCH):
            dossiers, lines = [], []
            for number in range(start, min(start + BATCH, count)):
                received = date(2019, 1, 1) + timedelta(days=rng.randrange(7 * 365))
                closed = received + timedelta(days=rng.randrange(10, 90))
                destroy_after = closed.replace(year=closed.year + 5, day=min(closed.day, 28))
                bucket = bucket_for(destroy_after, held=False)
                if bucket not in ciphers:
                    ciphers[bucket] = sealer.field_cipher(bucket, new=True)
                fields = ciphers[bucket]
                customer = {
                    "name": f"客户{number}",
                    "organization": f"第{number % 900}大药房",
                    "phone": f"138{number:08d}",
                    "address": f"上海市浦东新区{number}号",
                }
                dossier_id = uuid.uuid4().hex
                complaint_class = ("I", "II", "III")[number % 3]
                dossiers.append({
                    "id": dossier_id,
                    "complaint_no": f"TS-{complaint_class}-{received:%y}-{number:06d}",
                    "complaint_class": complaint_class,
                    "complaint_type": types[number % len(types)],
                    "title": f"{PRODUCTS[number % len(PRODUCTS)][0]}投诉 {number}",
                    "received_on": received, "closed_on": closed, "channel": "phone",
                    "department": "质量部", "outcome": ("justified", "unjustified")[number % 2],
                    "measures": ["return"] if number % 2 == 0 else [],
                    "capa_ref": f"CAPA-{received:%Y}-{number:06d}" if number % 2 == 0 else None,
                    "confidentiality": levels[number % len(levels)],
                    "summary": "客户反映胶囊软化，经调查属实。",
                    **{f"customer_{name}_enc": fields.encrypt(value, context=f"customer.{name}")
                       for name, value in customer.items()},
                    **{f"customer_{name}_hmac": lookups.lookup_hash(customer[name])
                       for name in ("name", "organization", "phone")},
                    "key_bucket": bucket, "state": "archived", "destroy_after": destroy_after,
                    "retention_rule": "closed-plus-default", "retention_rule_version": 1,
                    "retention_derivation": f"closed {closed} + 5 years = {destroy_after}",
                    "filed_by": "bench", "filed_at": now,
                })  # fmt: skip
                for position in range(1 + (number % 4 == 0)):
                    name, spec, maker, prefix = PRODUCTS[(number + position) % len(PRODUCTS)]
                    lines.append({"dossier_id": dossier_id, "position": position, "name": name,
                                  "specification": spec, "manufacturer": maker,
                                  "batch_no": f"{prefix}{number:07d}", "expiry": None})  # fmt: skip
            with request.tm:
                request.dbsession.execute(insert(Dossier), dossiers)
                request.dbsession.execute(insert(ProductLine), lines)
            print(f"\rinserted {min(start + BATCH, count)}/{count}", end="", flush=True)
        print()


def bench_ledger(folder: Path) -> dict:
    """`archive report ledger --xlsx` over the whole archive, in a child process."""
    target = folder / "ledger.xlsx"
    started = time.perf_counter()
    run = subprocess.run([ARCHIVE, "-c", INI, "report", "ledger", "--xlsx", str(target)],
                         capture_output=True, text=True)  # fmt: skip
    elapsed = time.perf_counter() - started
    if run.returncode != 0:
        sys.exit(f"the ledger failed: {run.stderr[-2000:]}")
    return {"seconds": elapsed, "peak_rss_mb": peak_child_rss_mb(), "line": run.stdout.strip(),
            "size_mb": target.stat().st_size / 2**20}  # fmt: skip


def peak_child_rss_mb() -> float:
    """The largest peak RSS of the children waited for so far (Linux: ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=100_000)
    args = parser.parse_args()
    storage = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    os.environ["ARCHIVE_STORAGE_DIR"] = str(storage)
    os.environ["ARCHIVE_SQLALCHEMY_URL"] = f"sqlite:///{storage}/archive.sqlite"
    started = time.perf_counter()
    build_archive(args.dossiers)
    print(f"set-up: {time.perf_counter() - started:.0f} s in {storage}")
    ledger = bench_ledger(storage)
    print(f"ledger workbook: {ledger['line']}; {ledger['seconds']:.1f} s, peak RSS "
          f"{ledger['peak_rss_mb']:.0f} MB, {ledger['size_mb']:.1f} MB on disk")  # fmt: skip


if __name__ == "__main__":
    main()
