"""Retention benchmark: one scheduled run over N dossiers of which M are due.

    .venv/bin/python bench/retention.py [--dossiers 100000] [--due 10000]

Set-up (not measured): a fresh SQLite archive with N dossiers, each with encrypted personal
data, one product line and one encrypted document (a 2 KB blob under its retention-bucket
key), and their metadata entries in the search index. M of them expired in 2019 (due on
2021-01-01), the rest years later. File fsyncs are skipped during the set-up only.

Measured: `archive retention run --as-of 2021-01-01` as cron would start it, in a child
process: wall time and the child's peak memory (ru_maxrss), then the certificate export.
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
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
INI = str(ROOT / "testing.ini")  # bucket keys may go at once (no filing runs alongside)
AS_OF = "2021-01-01"


def load(count: int, due: int, seed: int = 11, *, vary=None, build_index: bool = True) -> None:
    """`vary(number)`: (dossier field overrides, its document's text) for other benchmarks."""
    from archive_app.bootstrap import initialise_storage, open_app
    from archive_app.demo.corpus import PRODUCTS
    from archive_app.interfaces import IBlobStore, IBucketKeys, IIndexer, IKeyring
    from archive_app.records.models import Document, Dossier, ProductLine
    from archive_app.retention.rules import add_years
    from archive_app.vault.buckets import Sealer, bucket_for
    from archive_app.vault.envelope import new_data_key, wrap_data_key

    initialise_storage(INI)
    rng = random.Random(seed)
    real_fsync, os.fsync = os.fsync, lambda fd: None  # set-up only: not what is measured
    try:
        with open_app(INI) as env:
            registry, request = env["registry"], env["request"]
            keyring, blobs = registry.getUtility(IKeyring), registry.getUtility(IBlobStore)
            sealer = Sealer(keyring, registry.getUtility(IBucketKeys))
            version = keyring.current_kek_version
            now = datetime.now(UTC)
            due_numbers = set(rng.sample(range(count), due))
            for start in range(0, count, 2000):
                with request.tm:
                    session = request.dbsession
                    for number in range(start, min(start + 2000, count)):
                        name, spec, maker, prefix = PRODUCTS[number % len(PRODUCTS)]
                        if number in due_numbers:
                            expiry = date(2019, 1, 1) + timedelta(days=rng.randrange(360))
                        else:
                            expiry = date(2024, 1, 1) + timedelta(days=rng.randrange(3000))
                        received = expiry - timedelta(days=400)
                        destroy_after = add_years(expiry, 1)
                        bucket = bucket_for(destroy_after, held=False)
                        dossier_id = uuid.uuid4().hex
                        fields = sealer.field_cipher(bucket, new=True)
                        dossier = Dossier(
                            id=dossier_id, complaint_no=f"TS-I-{received:%y}-{number:06d}",
                            complaint_class="I", complaint_type="intrinsic_quality",
                            title=f"{name}溶出度不合格", received_on=received,
                            closed_on=received + timedelta(days=30), channel="phone",
                            department="质量部", outcome="justified", measures=["return"],
                            confidentiality="internal", summary="客户反映胶囊软化，经调查属实。",
                            customer_name_enc=fields.encrypt(f"客户{number}",
                                                             context="customer.name"),
                            state="archived", destroy_after=destroy_after,
                            retention_rule="expiry-plus-1y", retention_rule_version=1,
                            retention_derivation=f"expiry {expiry} + 1 year = {destroy_after}",
                            filed_by="bench", filed_at=now, key_bucket=bucket,
                        )  # fmt: skip
                        body = (f"客户质量投诉处理单 {number} " * 60).encode()[:2048]
                        if vary is not None:
                            overrides, text = vary(number)
                            for name_, value in overrides.items():
                                setattr(dossier, name_, value)
                            body = text.encode()
                        dossier.products.append(ProductLine(
                            position=0, name=name, specification=spec, manufacturer=maker,
                            batch_no=f"{prefix}{number:07d}",
                            expiry=expiry.isoformat()))  # fmt: skip
                        document_id, data_key = uuid.uuid4().hex, new_data_key()
                        storage_name, digest = blobs.write(BytesIO(body), data_key, document_id)
                        session.add(dossier)
                        session.add(Document(
                            id=document_id, dossier_id=dossier_id, position=0,
                            kind="handling_sheet", filename="处理单.txt", media_type="text/plain",
                            size=digest.plain_size, sha256=digest.plain_sha256,
                            cipher_sha256=digest.cipher_sha256, cipher_size=digest.cipher_size,
                            storage_name=storage_name, kek_version=version, key_bucket=bucket,
                            wrapped_key=wrap_data_key(
                                sealer.wrapping_key(version, bucket, new=True), data_key,
                                kek_version=version, dossier_id=dossier_id,
                                document_id=document_id),
                            added_by="bench", added_at=now))  # fmt: skip
                print(f"\rloaded {min(start + 2000, count)}/{count}", end="", flush=True)
            print()
            if not build_index:
                return
            started = time.perf_counter()
            registry.getUtility(IIndexer).rebuild()
            print(f"index of {count} dossiers (metadata and document text): "
                  f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    finally:
        os.fsync = real_fsync


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dossiers", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000)
    args = parser.parse_args()
    storage = Path(tempfile.mkdtemp(prefix="bench-retention-"))
    os.environ["ARCHIVE_STORAGE_DIR"] = str(storage)
    os.environ["ARCHIVE_SQLALCHEMY_URL"] = f"sqlite:///{storage}/archive.sqlite"
    started = time.perf_counter()
    load(args.dossiers, args.due)
    print(f"set-up: {time.perf_counter() - started:.0f} s in {storage}")

    archive = str(Path(sys.executable).with_name("archive"))
    started = time.perf_counter()
    run = subprocess.run([archive, "-c", INI, "retention", "run", "--as-of", AS_OF],
                         capture_output=True, text=True)  # fmt: skip
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if run.returncode != 0:
        sys.exit(f"the run failed: {run.stderr[-2000:]}")
    destroyed = sum(1 for line in run.stdout.splitlines() if line.startswith("destroyed "))
    print(run.stderr.strip().splitlines()[-1])
    print(f"retention run over {args.dossiers} dossiers, {destroyed} destroyed: "
          f"{elapsed:.1f} s, peak memory {peak_mb:.0f} MB")  # fmt: skip
    rerun = subprocess.run([archive, "-c", INI, "retention", "run", "--as-of", AS_OF],
                           capture_output=True, text=True)  # fmt: skip
    print(f"rerun (nothing due): {rerun.stderr.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main()
