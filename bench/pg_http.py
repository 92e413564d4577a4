"""PostgreSQL search over HTTP at N dossiers (issue #16): each query class at the service and
through the real app's `GET /api/v1/search`, side by side on the same rows.

    nice -n 5 .venv/bin/python bench/pg_http.py [--dossiers 1000000] [--queries 20]
        [--postgres-url URL] [--reuse]

Without `--reuse`: drops and creates the database `--postgres-url` names, makes the archive's
schema (`archive init`'s migrations), writes `--dossiers` of `bench/search.py`'s seeded
synthetic entries into the search table with `PostgresSearch.rebuild` (as
`bench/pg_million.py` builds them), then the same entries' dossier rows (`dossiers` and
`product_lines`, the ORM's tables) by COPY: over HTTP a hit is a dossier summary read from
those rows, so they must hold the N dossiers too. Filing them would take days; a summary
reads no blob, so none is written. With `--reuse`: the rows a previous run left there.

Then `pserve` of the real app on that database (an ini written into a temporary storage
folder: `archive.search.backend = postgres`, the background indexer on as in production), a
reader of clearance confidential (internal and confidential readable: two thirds of the
rows, as pg_million's service runs) signed in by bearer token, and `bench/search.py`'s seven
query classes, `--queries` each, warm (one query of each class first, not counted): each
query at the service (`PostgresSearch.search`) and over HTTP, in turns, with the totals
compared. Printed per class: p50 and p95 of both, the HTTP overhead (p95 minus p95, and the
median of the per-query differences), CPU per query of this process, of the app's process
and of the database's backends, queries stopped at the time limit, the load average.

`--backend whoosh` serves the same entries from a Whoosh index built into the temporary
storage folder (two writers, as `archive reindex`), over the same dossier rows, reader and
queries: the two backends side by side over HTTP.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pg_million  # noqa: E402  (its build's helpers: read only, another engineer's)
import search as bench  # noqa: E402  (the entries, the query classes, the HTTP client)
from sqlalchemy import create_engine, text  # noqa: E402

from archive_app.search.engine import QueryTimedOut  # noqa: E402

URL = "postgresql+psycopg://postgres@127.0.0.1:5432/archive_bench_pghttp"
READER_CLEARANCE = "confidential"  # reads internal and confidential: bench.LEVELS[:2]
READER_ROLE = "auditor"  # a reader whose `q` matches document text, as the service's queries
SPECIFICATIONS = {name: spec for name, spec, _maker, _prefix in bench.PRODUCTS}


# -- the dossiers' rows ----------------------------------------------------------------------


def dossier_rows(entries: Iterable[dict], filed_at: datetime) -> Iterator[tuple[dict, list]]:
    """Each search entry's dossier row and product lines (column name: value), with the
    same id, complaint number, class, type, title, level, state, dates and products, and a
    retention date as filing would set it for a dossier without product expiry."""
    from archive_app.retention.rules import compute_destroy_after

    for entry in entries:
        decision = compute_destroy_after([], entry["closed_on"])
        dossier = {
            "id": entry["id"], "complaint_no": entry["complaint_no"],
            "complaint_class": entry["complaint_class"],
            "complaint_type": entry["complaint_type"], "title": entry["title"],
            "received_on": entry["received_on"], "closed_on": entry["closed_on"],
            "channel": "phone", "department": "质量部", "outcome": entry["outcome"],
            "measures": "[]", "confidentiality": entry["confidentiality"],
            "summary": entry["summary"], "state": entry["state"],
            "destroy_after": decision.destroy_after, "retention_rule": decision.rule.name,
            "retention_rule_version": decision.rule.version,
            "retention_derivation": decision.derivation, "filed_by": "bench",
            "filed_at": filed_at,
        }  # fmt: skip
        products = [
            {"dossier_id": entry["id"], "position": position, "name": name,
             "specification": SPECIFICATIONS.get(name), "batch_no": batch,
             "manufacturer": entry["manufacturer"], "role": "complained"}
            for position, (name, batch) in enumerate(
                zip(entry["product_name"], entry["batch_no"], strict=True))
        ]  # fmt: skip
        yield dossier, products


def load_dossiers(url: str, count: int) -> int:
    """COPY the dossier rows and product lines of `bench.entries(count)` into the ORM's
    tables, in one transaction, then ANALYZE them (the summaries' look-up by id plans on fresh
    statistics). Two COPYs cannot run at once on one connection, and the product lines need
    their dossiers first: the seeded entries are made twice, the same both times."""
    from archive_app.records.models import Dossier, ProductLine

    filed_at = datetime.now(UTC)
    engine = create_engine(url)
    raw = engine.raw_connection()
    try:
        connection = raw.driver_connection  # psycopg's own: its COPY
        with connection.cursor() as cursor:
            rows = dossier_rows(bench.entries(count), filed_at)
            copy_rows(cursor, Dossier.__table__, (dossier for dossier, _ in rows))
            rows = dossier_rows(bench.entries(count), filed_at)
            copy_rows(cursor, ProductLine.__table__, (line for _, lines in rows for line in lines))
            cursor.execute("ANALYZE dossiers")
            cursor.execute("ANALYZE product_lines")
        connection.commit()
    finally:
        raw.close()
        engine.dispose()
    return count


def copy_rows(cursor, table, rows: Iterator[dict]) -> None:
    """Rows {column: value} into `table` (a SQLAlchemy `Table`) by one `COPY ... FROM STDIN`;
    the columns are the first row's, checked against the table's (a column the schema
    renamed or dropped fails here, instead of a value silently left out)."""
    first = next(rows, None)
    if first is None:
        return
    unknown = set(first) - set(table.c.keys())
    if unknown:
        raise ValueError(f"{table.name} has no column {', '.join(sorted(unknown))}")
    columns = list(first)
    names = ", ".join(f'"{name}"' for name in columns)
    with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        copy.write_row([first[name] for name in columns])
        for row in rows:
            copy.write_row([row[name] for name in columns])


def build(url: str, count: int):
    """A fresh database with the search rows of `count` entries (`PostgresSearch.rebuild`,
    as pg_million builds them) and their dossier rows: the search service on it."""
    index = bench.postgres_service(url)
    print(f"build load {pg_million.load()}")
    started, cpu = time.perf_counter(), time.process_time()
    index.rebuild(bench.entries(count), batch_size=2000)
    wall = time.perf_counter() - started
    print(f"search rows of {count}: {wall:.0f} s ({count / wall:.0f}/s), CPU of this process "
          f"{time.process_time() - cpu:.0f} s, load {pg_million.load()}")  # fmt: skip
    started, cpu = time.perf_counter(), time.process_time()
    load_dossiers(url, count)
    wall = time.perf_counter() - started
    print(f"dossier rows of {count} (COPY): {wall:.0f} s ({count / wall:.0f}/s), CPU of this "
          f"process {time.process_time() - cpu:.0f} s, load {pg_million.load()}")  # fmt: skip
    return index


def existing(url: str):
    """The search service on the rows a previous run built, checked to be one dossier row
    per search row."""
    from archive_app.db import Database
    from archive_app.search.pg_backend import PostgresSearch

    index = PostgresSearch(Database(create_engine(url)))
    with index.database.engine.connect() as connection:
        dossiers = connection.scalar(text("SELECT count(*) FROM dossiers"))
    if dossiers != index.doc_count():
        raise SystemExit(f"{index.doc_count()} search rows but {dossiers} dossiers: build again")
    print(f"rows already there: {dossiers}")
    return index


def sizes_mb(url: str) -> dict[str, float]:
    """On disk (`pg_total_relation_size`: heap, TOAST, indexes), and the whole database."""
    engine = create_engine(url)
    with engine.connect() as connection:
        found = {table: connection.scalar(text(f"SELECT pg_total_relation_size('{table}')"))
                 for table in ("search_rows", "dossiers", "product_lines")}  # fmt: skip
        found["database"] = connection.scalar(text("SELECT pg_database_size(current_database())"))
    engine.dispose()
    return {name: size / 2**20 for name, size in found.items()}


# -- the app over HTTP -----------------------------------------------------------------------


def served_ini(url: str, storage: Path, port: int, backend: str = "postgres") -> str:
    """testing.ini on this database and storage folder, its own port, the search backend
    (PostgreSQL's, or Whoosh's folder under the storage folder), and the background indexer
    on as in production."""
    ini = (bench.ROOT / "testing.ini").read_text()
    changes = {
        "sqlalchemy.url = sqlite:///%(here)s/storage/archive.sqlite": f"sqlalchemy.url = {url}",
        "archive.storage_dir = %(here)s/storage": f"archive.storage_dir = {storage}",
        "archive.search.index_in_background = false": "archive.search.index_in_background = true",
        "listen = 127.0.0.1:6543": f"listen = 127.0.0.1:{port}",
        "archive.search.query_timeout = 2": "archive.search.query_timeout = 2\n"
        f"archive.search.backend = {backend}",
    }
    for old, new in changes.items():
        if ini.count(old) != 1:
            raise RuntimeError(f"testing.ini changed: no single line {old!r} to replace")
        ini = ini.replace(old, new)
    return ini


class Served(bench.Archive):
    """The real app on an existing database: `bench/search.py`'s commands and `pserve`,
    with an ini of its own in a temporary storage folder (no database dropped here)."""

    def __init__(self, storage: Path, url: str, backend: str = "postgres"):
        self.storage, self.postgres, self.port = storage, url, bench.free_port()
        self.config = storage / "bench.ini"
        self.config.write_text(served_ini(url, storage, self.port, backend))
        # The ini says where everything is: no ARCHIVE_* variable of this shell overrides it.
        self.env = {key: value for key, value in os.environ.items()
                    if not key.startswith("ARCHIVE_")}  # fmt: skip
        self.command("init")  # the keyring and folders; the schema is there already

    def reader_token(self) -> str:
        """A bearer token of a new auditor of clearance confidential (a name of its own: a
        database built once is served many times)."""
        name = f"bench_reader_{os.urandom(4).hex()}"
        self.command("user", "add", name, "--role", READER_ROLE, "--clearance",
                     READER_CLEARANCE, "--password-stdin", stdin=bench.PASSWORD + "\n")  # fmt: skip
        token = self.command("token", name, "--password-stdin", stdin=bench.PASSWORD + "\n")
        return token[2].strip()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU so far of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the measurement -------------------------------------------------------------------------


@dataclass
class Side:
    """One way of asking (the service, or HTTP): per query its wall ms and its total (None:
    stopped at the time limit), and the CPU seconds it cost."""

    ms: list[float] = field(default_factory=list)
    totals: list[int | None] = field(default_factory=list)
    cpu: float = 0.0  # of this process (service) or of the app's (HTTP)
    database_cpu: float = 0.0  # of the database's backends

    def percentiles(self) -> tuple[float, float]:
        ordered = sorted(self.ms)
        return statistics.median(ordered), ordered[int(len(ordered) * 0.95)]

    def stopped(self) -> int:
        return sum(total is None for total in self.totals)


def at_service(index, query) -> tuple[int | None, float]:
    """(total or None if stopped at the time limit, this process's CPU seconds)."""
    cpu = time.process_time()
    try:
        total = index.search(query, bench.LEVELS[:2]).total
    except QueryTimedOut:
        total = None
    return total, time.process_time() - cpu


def over_http(client: bench.Http, params: str, app_pid: int) -> tuple[int | None, float]:
    """(total or None if answered 422 query_too_costly, the app process's CPU seconds)."""
    cpu = process_cpu_seconds(app_pid)
    status, answer = client.request("GET", f"/api/v1/search?{params}")
    spent = process_cpu_seconds(app_pid) - cpu
    if status == 200:
        return answer["total"], spent
    if status == 422 and answer.get("error") == "query_too_costly":
        return None, spent
    raise RuntimeError(f"the search {params} answered {status}: {json.dumps(answer)[:300]}")


def measure(index, client: bench.Http, app_pid: int, pairs: list,
            database=None) -> tuple[Side, Side]:  # fmt: skip
    """Each query at the service and over HTTP in turns (which goes first alternates, so
    neither always finds the pages the other just read), after one query of each unmeasured.
    `database`: the `PostgresSearch` whose database's backends are counted (the index's own
    when it is one)."""
    database = database or index
    asks = {
        "service": lambda query, params: at_service(index, query),
        "http": lambda query, params: over_http(client, params, app_pid),
    }
    for ask in asks.values():
        ask(*pairs[0])  # warm
    sides = {name: Side() for name in asks}
    for number, (query, params) in enumerate(pairs):
        for name in sorted(asks, reverse=number % 2 == 1):
            side, before = sides[name], pg_million.server_cpu_seconds(database)
            started = time.perf_counter()
            total, cpu = asks[name](query, params)
            side.ms.append((time.perf_counter() - started) * 1000)
            side.database_cpu += pg_million.server_cpu_seconds(database) - before
            side.totals.append(total)
            side.cpu += cpu
    return sides["service"], sides["http"]


def report(name: str, service: Side, http: Side, load_before: str) -> None:
    count = len(service.ms)
    (s50, s95), (h50, h95) = service.percentiles(), http.percentiles()
    differences = [h - s for s, h in zip(service.ms, http.ms, strict=True)]
    compared = [(s, h) for s, h in zip(service.totals, http.totals, strict=True)
                if s is not None and h is not None]  # fmt: skip
    equal = sum(s == h for s, h in compared)
    print(f"{name}: service p50 {s50:.1f}, p95 {s95:.1f} ms; HTTP p50 {h50:.1f}, p95 {h95:.1f} ms; "
          f"HTTP overhead p95 {h95 - s95:+.1f} ms, per query median "
          f"{statistics.median(differences):+.1f} ms; stopped at the time limit: service "
          f"{service.stopped()}/{count}, HTTP {http.stopped()}/{count}; totals equal "
          f"{equal}/{len(compared)} compared; CPU per query: this process "
          f"{service.cpu * 1000 / count:.0f} ms, app {http.cpu * 1000 / count:.0f} ms, "
          f"database {service.database_cpu * 1000 / count:.0f} ms (service) / "
          f"{http.database_cpu * 1000 / count:.0f} ms (HTTP); "
          f"load {load_before} -> {pg_million.load()}")  # fmt: skip
    if equal != len(compared):
        raise SystemExit(f"{name}: totals differ between the service and HTTP: {compared}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dossiers", type=int, default=1_000_000,
                        help="built: search rows and dossier rows")  # fmt: skip
    parser.add_argument("--queries", type=int, default=20,
                        help="per query class, each at the service and over HTTP")  # fmt: skip
    parser.add_argument("--postgres-url", default=URL,
                        help="its own database: dropped and built, unless --reuse")  # fmt: skip
    parser.add_argument("--reuse", action="store_true",
                        help="serve the rows a previous run built: no build")  # fmt: skip
    parser.add_argument("--backend", choices=("postgres", "whoosh"), default="postgres",
                        help="the served search: whoosh builds the same entries into a Whoosh "
                        "index in the storage folder, over the same dossier rows")  # fmt: skip
    args = parser.parse_args()
    rows = existing(args.postgres_url) if args.reuse else build(args.postgres_url, args.dossiers)
    sizes = sizes_mb(args.postgres_url)
    print("on disk: " + ", ".join(f"{name} {size:.0f} MB" for name, size in sizes.items()))
    rng = random.Random(3)  # pg_million's batches, its queries
    batches = [f"{p[3]}2305{rng.randrange(1, 40):03d}" for p in rng.choices(bench.PRODUCTS, k=200)]
    storage = Path(tempfile.mkdtemp(prefix="bench-pg-http-"))
    try:
        served = Served(storage, args.postgres_url, args.backend)
        index = rows if args.backend == "postgres" else whoosh_index(storage, rows.doc_count())
        client_token = served.reader_token()
        print(f"backend {args.backend}, served at load {pg_million.load()}")
        with served.server() as process:
            client = bench.Http(served.port, client_token)
            for name, pairs in bench.query_suites(batches, 2021, args.queries).items():
                before = pg_million.load()
                report(name, *measure(index, client, process.pid, pairs, rows), before)
    finally:
        shutil.rmtree(storage, ignore_errors=True)
        rows.database.dispose()


def whoosh_index(storage: Path, count: int):
    """The same entries as the search rows, in the Whoosh index the served app reads
    (storage/index), built as `archive reindex` builds it (two writer processes)."""
    from archive_app.search.engine import SearchIndex

    index = SearchIndex(storage / "index")
    started, cpu = time.perf_counter(), sum(os.times()[:4])  # with the writers it waited for
    index.rebuild(bench.entries(count), batch_size=2000, processes=2)
    wall, cpu = time.perf_counter() - started, sum(os.times()[:4]) - cpu
    size = sum(path.stat().st_size for path in index.root.rglob("*") if path.is_file()) / 2**20
    print(f"Whoosh index of {count}: {wall:.0f} s ({count / wall:.0f}/s), CPU with its writers "
          f"{cpu:.0f} s, {size:.0f} MB, load {pg_million.load()}")  # fmt: skip
    return index


if __name__ == "__main__":
    main()
