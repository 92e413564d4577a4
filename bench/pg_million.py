"""PostgreSQL search at a million dossiers, at the service (issue #16).

    nice -n 5 .venv/bin/python bench/pg_million.py [--dossiers 1000000] [--queries 20]
        [--postgres-url URL] [--reuse]

Without `--reuse`: drops and creates the database `--postgres-url` names, makes the
archive's schema (`archive init`'s migrations) and writes `--dossiers` of `bench/search.py`'s
seeded synthetic entries into `search_rows` with `PostgresSearch.rebuild` (one transaction,
batches of 2,000 rows): the build rate (wall and this process's CPU) and the table's size on
disk (`pg_total_relation_size`: heap, TOAST, indexes), and the document sets' (`search_sets`,
written by the same rebuild). With `--reuse`: the rows already
there (a previous run's), no build.

Then `bench/search.py`'s seven query classes, `--queries` each, at the service
(`PostgresSearch.search`, clearance internal and confidential: two thirds of the rows
readable, the 2 s time limit of `archive.search.query_timeout`'s default): p50 and p95 in
wall ms, the CPU of this process and of the database's server backends (per query: what
the load of a shared machine does not change much), the load average before and after
each class, and how many queries hit the time limit (counted at the time they stopped).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import search as bench  # noqa: E402  (bench/search.py: the entries and the query classes)
from sqlalchemy import text  # noqa: E402

URL = "postgresql+psycopg://postgres@127.0.0.1:5432/archive_bench_pg_million"


def server_cpu_seconds(index) -> float:
    """User + system CPU so far of this database's server processes (its backends, from
    `pg_stat_activity`; read in /proc): the server's share of a class's queries, without
    other databases' sessions on a shared server. The searches run no parallel workers (the
    statement's materialised CTE keeps them serial), so the backends are the whole of it."""
    with index.database.engine.connect() as connection:
        pids = connection.scalars(text("SELECT pid FROM pg_stat_activity "
                                       "WHERE datname = current_database()")).all()  # fmt: skip
    ticks, total = os.sysconf("SC_CLK_TCK"), 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile, or a server on another machine
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def sets_size_mb(index) -> float:
    """`search_sets` on disk (heap, TOAST, primary key): the document sets (pg_sets.py)."""
    with index.database.engine.connect() as connection:
        return connection.scalar(text("SELECT pg_total_relation_size('search_sets')")) / 2**20


def load() -> str:
    return "/".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=20, help="per query class")
    parser.add_argument("--postgres-url", default=URL)
    parser.add_argument("--reuse", action="store_true",
                        help="query the rows already in the database: no build")  # fmt: skip
    args = parser.parse_args()
    if args.reuse:
        from sqlalchemy import create_engine

        from archive_app.db import Database
        from archive_app.search.pg_backend import PostgresSearch

        index = PostgresSearch(Database(create_engine(args.postgres_url)))
        print(f"rows already there: {index.doc_count()}")
    else:
        index = bench.postgres_service(args.postgres_url)
        print(f"build load {load()}")
        started, cpu = time.perf_counter(), time.process_time()
        index.rebuild(bench.entries(args.dossiers), batch_size=2000)
        wall = time.perf_counter() - started
        print(f"rebuild of {args.dossiers}: {wall:.0f} s ({args.dossiers / wall:.0f}/s), "
              f"CPU of this process {time.process_time() - cpu:.0f} s, load {load()}")  # fmt: skip
    print(f"search table on disk: {bench.table_size_mb(args.postgres_url):.0f} MB, "
          f"document sets {sets_size_mb(index):.0f} MB")  # fmt: skip
    rng = bench.random.Random(3)  # the batches of bench/search.py's service benchmark
    batches = [f"{p[3]}2305{rng.randrange(1, 40):03d}" for p in rng.choices(bench.PRODUCTS, k=200)]
    suites = bench.query_suites(batches, 2021, args.queries)
    for name, pairs in suites.items():
        before, cpu, server = load(), time.process_time(), server_cpu_seconds(index)
        p50, p95, stopped = bench.timed(index, [query for query, _ in pairs])
        print(f"{name}: p50 {p50:.0f} ms, p95 {p95:.0f} ms, stopped at the time limit "
              f"{stopped}/{len(pairs)}; CPU per query: this process "
              f"{(time.process_time() - cpu) * 1000 / len(pairs):.0f} ms, server "
              f"{(server_cpu_seconds(index) - server) * 1000 / len(pairs):.0f} ms; "
              f"load {before} -> {load()}")  # fmt: skip
    index.database.dispose()


if __name__ == "__main__":
    main()
