"""Search benchmark: index build rate, query latency at the service and over HTTP, `archive
import` and `archive reindex` time and peak memory, filing-to-searchable latency.

    nice -n 10 .venv/bin/python bench/search.py [--dossiers 20000] [--archive 5000]

`--dossiers N` builds N synthetic, realistic Chinese dossier entries (about 3 KB of text each,
recurring products and batches) straight into a throw-away index with `SearchIndex.rebuild`,
then times term, phrase, batch, product and date-range + facet queries (p50/p95 over 200
each) with the caller's clearance trimming on, as the API runs them (0 skips this part).

`--archive N` runs the real thing in a throw-away storage folder:
N demo-corpus dossiers (about 7 documents each) through `archive import` with the background
indexer on, `archive reindex`, a waitress server, the same queries over HTTP and at the
service on that index, and the time from a filing's 201 to its first search hit.

`--backend postgres` runs `--archive`/`--loaded` on PostgreSQL with
`archive.search.backend = postgres` (a fresh database named by `--postgres-url`, dropped and
created again): the same queries, the search table's size on disk, and the time of a purge's
rewrite of the table (`VACUUM FULL`, during which searches wait); with `--dossiers N` the same
synthetic entries go into `PostgresSearch.rebuild` (the schema made by `archive init`'s
migrations) and the same service-level queries run on it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive_app.demo.corpus import PROBLEMS, PRODUCTS  # noqa: E402
from archive_app.search.engine import QueryTimedOut, SearchIndex, SearchQuery  # noqa: E402

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/archive_bench_search"

FILLER = (
    "经调查，该批次产品在运输过程中受潮，导致胶囊壳软化，溶出度检验结果低于标准要求。"
    "质量部已对同批号库存进行抽检，并与生产企业联系，要求其提供出厂检验报告和留样复检结果。"
    "客户要求退货并赔偿损失，经协商同意退货处理，并在后续配送中加强包装防护措施。"
)
LEVELS = ("internal", "confidential", "restricted")


def entries(count: int, seed: int = 7):
    rng = random.Random(seed)
    types = list(PROBLEMS)
    for number in range(count):
        name, spec, maker, prefix = PRODUCTS[number % len(PRODUCTS)]
        received = date(2019, 1, 1) + timedelta(days=rng.randrange(2500))
        batch = f"{prefix}{received:%y%m}{rng.randrange(1, 40):03d}"
        kind = types[number % len(types)]
        yield {
            "id": f"{number:032x}", "complaint_no": f"TS-I-{received:%y}-{number:05d}",
            "batch_no": [batch], "title": name + PROBLEMS[kind][0], "product": [name],
            "product_name": [name], "manufacturer": maker,
            "summary": PROBLEMS[kind][1], "text": FILLER * 8 + f" 批号{batch}",
            "complaint_class": ["I", "II", "III"][number % 3], "complaint_type": kind,
            "outcome": "justified", "confidentiality": LEVELS[number % 3], "state": "archived",
            "year": received.year, "received_on": received, "closed_on": received,
        }  # fmt: skip


def timed(index, queries, levels=LEVELS[:2]):
    """p50 and p95 in ms, and how many queries hit the time limit (counted at the limit)."""
    timings, stopped = [], 0
    for query in queries:
        started = time.perf_counter()
        try:
            index.search(query, levels)
        except QueryTimedOut:
            stopped += 1  # the API answers these 422 query_too_costly
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95)], stopped


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dossiers", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=200, help="per kind of query")
    parser.add_argument("--archive", type=int, default=0,
                        help="also benchmark a real archive of this many dossiers")  # fmt: skip
    parser.add_argument(
        "--loaded",
        type=int,
        default=0,
        help="also an archive of this many dossiers loaded straight into the "
        "database: reindex, then queries at the service and over HTTP",
    )
    parser.add_argument("--backend", choices=("whoosh", "postgres"), default="whoosh",
                        help="the search backend of --archive and --loaded")  # fmt: skip
    parser.add_argument("--postgres-url", default=POSTGRES_URL,
                        help="a database to drop and create for --backend postgres")  # fmt: skip
    args = parser.parse_args()
    postgres = args.postgres_url if args.backend == "postgres" else None
    if args.dossiers:
        service_benchmark(args.dossiers, args.queries, postgres)
    if args.archive:
        archive_benchmark(args.archive, postgres=postgres)
    if args.loaded:
        archive_benchmark(args.loaded, loaded=True, postgres=postgres)


def service_benchmark(dossiers: int, count: int = 200, postgres: str | None = None) -> None:
    index = postgres_service(postgres) if postgres else None
    if index is None:
        index = SearchIndex(Path(tempfile.mkdtemp(prefix="bench-search-")))
    started = time.perf_counter()
    index.rebuild(entries(dossiers), batch_size=2000)
    elapsed = time.perf_counter() - started
    print(f"rebuild of {dossiers} dossiers: {elapsed:.1f} s "
          f"({dossiers / elapsed:.0f} dossiers/s)")  # fmt: skip
    rng = random.Random(3)
    batches = [f"{p[3]}2305{rng.randrange(1, 40):03d}" for p in rng.choices(PRODUCTS, k=200)]
    suites = {name: [query for query, _ in pairs]
              for name, pairs in query_suites(batches, 2021, count).items()}  # fmt: skip
    for name, queries in suites.items():
        p50, p95, stopped = timed(index, queries)
        print(f"{name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, stopped at the time limit {stopped}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (RSS): {peak:.0f} MB")
    if postgres:
        print(f"search table on disk: {table_size_mb(postgres):.0f} MB")
        started = time.perf_counter()
        index.vacuum()
        print(f"purge's rewrite (VACUUM FULL): {time.perf_counter() - started:.1f} s")
        index.database.dispose()
    else:
        shutil.rmtree(index.root, ignore_errors=True)


def postgres_service(url: str):
    """A fresh database with the archive's schema (`archive init`'s migrations, over a
    throw-away storage folder) and the PostgreSQL search service on it."""
    from sqlalchemy import create_engine

    from archive_app.bootstrap import initialise_storage
    from archive_app.db import Database
    from archive_app.search.pg_backend import PostgresSearch

    fresh_database(url)
    os.environ["ARCHIVE_STORAGE_DIR"] = tempfile.mkdtemp(prefix="bench-search-pg-")
    os.environ["ARCHIVE_SQLALCHEMY_URL"] = url
    initialise_storage(str(ROOT / "testing.ini"))
    return PostgresSearch(Database(create_engine(url)))


def table_size_mb(url: str) -> float:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        size = connection.scalar(text("SELECT pg_total_relation_size('search_rows')"))
    engine.dispose()
    return size / 2**20


# -- a real archive: import, reindex, HTTP --------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
ARCHIVE = str(Path(sys.executable).with_name("archive"))
PSERVE = str(Path(sys.executable).with_name("pserve"))
PASSWORD = "bench-password-123"


def archive_benchmark(count: int, loaded: bool = False, postgres: str | None = None) -> None:
    storage = Path(tempfile.mkdtemp(prefix="bench-archive-"))
    try:
        archive = Archive(storage, postgres)
        if loaded:
            archive.run_loaded(count)
        else:
            archive.run(count)
    finally:
        shutil.rmtree(storage, ignore_errors=True)


class Archive:
    """A throw-away archive driven the way operators and clients drive it."""

    def __init__(self, storage: Path, postgres: str | None = None):
        """`postgres`: the URL of a database for a PostgreSQL archive whose search is in
        PostgreSQL too (dropped and created again), else SQLite and Whoosh."""
        self.storage, self.postgres = storage, postgres
        self.port = free_port()
        self.config = storage / "bench.ini"
        # testing.ini, with the background indexer on as in production, and its own port.
        text = (ROOT / "testing.ini").read_text()
        text = text.replace("archive.search.index_in_background = false",
                            "archive.search.index_in_background = true")  # fmt: skip
        text = text.replace("listen = 127.0.0.1:6543", f"listen = 127.0.0.1:{self.port}")
        self.config.write_text(text)
        self.env = dict(os.environ, ARCHIVE_STORAGE_DIR=str(storage),
                        ARCHIVE_SQLALCHEMY_URL=f"sqlite:///{storage}/archive.sqlite")  # fmt: skip
        self.env.pop("ARCHIVE_FAULT", None)
        if postgres:
            fresh_database(postgres)
            self.env |= {"ARCHIVE_SQLALCHEMY_URL": postgres, "ARCHIVE_SEARCH_BACKEND": "postgres"}
        print(f"backend: {'postgres' if postgres else 'whoosh'}")

    def command(self, *args, stdin: str | None = None) -> tuple[float, float, str]:
        """Run `archive ARGS`: (seconds, peak RSS in MB of it and its children, stdout)."""
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            started = time.perf_counter()
            process = subprocess.Popen([ARCHIVE, "-c", str(self.config), *args], env=self.env,
                                       stdin=subprocess.PIPE, stdout=out, stderr=err,
                                       text=True)  # fmt: skip
            if stdin is not None:
                process.stdin.write(stdin)
            process.stdin.close()
            sampler = TreeMemory(process.pid)
            # wait4: this child's own rusage (ru_maxrss is the larger of it and the children
            # it waited for, such as its extraction child), not the sum over every command.
            _pid, status, usage = os.wait4(process.pid, 0)
            self.tree_peak_mb = sampler.stop()
            process.returncode = os.waitstatus_to_exitcode(status)
            elapsed = time.perf_counter() - started
            out.seek(0)
            err.seek(0)
            if process.returncode != 0:
                raise RuntimeError(f"archive {args[0]} exited {process.returncode}: {err.read()}")
            return elapsed, usage.ru_maxrss / 1024, out.read()

    def run(self, count: int) -> None:
        from archive_app.demo.corpus import build_demo_dossiers, write_demo_archive

        self.command("init")
        folders = self.storage / "import"
        started = time.perf_counter()
        write_demo_archive(folders, count=count)
        print(f"archive of {count} demo dossiers, folders written in "
              f"{time.perf_counter() - started:.0f} s")  # fmt: skip
        seconds, peak, _ = self.command("import", str(folders))
        shutil.rmtree(folders)
        print(f"archive import: {seconds:.0f} s ({count / seconds:.1f} dossiers/s), "
              f"peak RSS {peak:.0f} MB")  # fmt: skip
        dossiers = build_demo_dossiers(count)
        batches = [product["batch_no"] for d in dossiers for product in d["products"]]
        self.reindex_and_query(count, batches, 2023)

    def run_loaded(self, count: int) -> None:
        """N dossiers written straight to the database with one 3 KB text document each
        (the retention benchmark's set-up: an import of 100,000 would take hours)."""
        sys.path.insert(0, str(ROOT / "bench"))
        from retention import load

        os.environ.update({key: self.env[key] for key in
                           ("ARCHIVE_STORAGE_DIR", "ARCHIVE_SQLALCHEMY_URL",
                            "ARCHIVE_SEARCH_BACKEND") if key in self.env})  # fmt: skip
        started = time.perf_counter()
        load(count, due=0, vary=varied, build_index=False)
        print(f"set-up of {count} dossiers: {time.perf_counter() - started:.0f} s")
        rng = random.Random(9)
        batches = [loaded_batch(rng.randrange(count)) for _ in range(200)]
        self.reindex_and_query(count, batches, 2025)

    def reindex_and_query(self, count: int, batches: list[str], year: int) -> None:
        seconds, peak, out = self.command("reindex")
        print(f"archive reindex: {seconds:.1f} s ({count / seconds:.1f} dossiers/s), "
              f"peak RSS {peak:.0f} MB, of its processes together {self.tree_peak_mb:.0f} MB "
              f"({out.strip()})")  # fmt: skip
        tokens = {role: self.token(role) for role in ("auditor", "archivist")}
        with self.server():
            http = Http(self.port, tokens["auditor"])
            index = self.search_service()
            for name, queries in query_suites(batches, year).items():
                first = timed(index, [queries[0][0]], LEVELS)[0]
                at_service = timed(index, [query for query, _ in queries], LEVELS)
                over_http = http.timed([params for _, params in queries])
                print(f"{name}: service first {first:.1f} ms, p50 {at_service[0]:.1f} ms, "
                      f"p95 {at_service[1]:.1f} ms; HTTP p50 {over_http[0]:.1f} ms, "
                      f"p95 {over_http[1]:.1f} ms")  # fmt: skip
            print(f"HTTP answers other than 200: {http.refused or 'none'}")
            print(f"index size on disk: {self.index_size_mb():.0f} MB")
            latencies = filing_to_searchable(Http(self.port, tokens["archivist"]))
            print(
                f"filing (201) to first search hit, {len(latencies)} filings: "
                f"median {statistics.median(latencies):.2f} s, max {max(latencies):.2f} s"
            )

        if self.postgres:
            started = time.perf_counter()
            index.vacuum()  # what a retention run's purge does after deleting the rows
            print(f"purge's rewrite of the search table (VACUUM FULL, searches wait): "
                  f"{time.perf_counter() - started:.1f} s")  # fmt: skip

    def search_service(self):
        """The search service of the benchmark's process, on the archive's index."""
        if not self.postgres:
            return SearchIndex(self.storage / "index")
        from sqlalchemy import create_engine

        from archive_app.db import Database
        from archive_app.search.pg_backend import PostgresSearch

        return PostgresSearch(Database(create_engine(self.postgres)))

    def index_size_mb(self) -> float:
        if not self.postgres:
            files = (self.storage / "index").rglob("*")
            return sum(path.stat().st_size for path in files if path.is_file()) / 2**20
        return table_size_mb(self.postgres)

    def token(self, role: str) -> str:
        name = f"bench_{role}"
        self.command("user", "add", name, "--role", role, "--clearance", "restricted",
                     "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
        return self.command("token", name, "--password-stdin", stdin=PASSWORD + "\n")[2].strip()

    @contextmanager
    def server(self):
        server = subprocess.Popen([PSERVE, str(self.config)], env=self.env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                        break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("the server did not start") from None
                    time.sleep(0.2)
            yield server
        finally:
            server.terminate()
            server.wait(30)


def fresh_database(url: str) -> None:
    """Drop and create the database `url` names (from the server's `postgres` database)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    engine = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    engine.dispose()


def loaded_batch(number: int) -> str:
    return f"{PRODUCTS[number % len(PRODUCTS)][3]}{number:07d}"  # as bench/retention.py


def varied(number: int) -> tuple[dict, str]:
    """A loaded dossier's title, summary, class, type and level, and its document's text,
    as varied as the synthetic entries above."""
    kind = list(PROBLEMS)[number % len(PROBLEMS)]
    overrides = {
        "title": PRODUCTS[number % len(PRODUCTS)][0] + PROBLEMS[kind][0],
        "summary": PROBLEMS[kind][1], "complaint_type": kind,
        "complaint_class": ["I", "II", "III"][number % 3],
        "confidentiality": LEVELS[number % 3],
    }  # fmt: skip
    return overrides, FILLER * 8 + f" 批号{loaded_batch(number)}"


def query_suites(batches: list[str], year: int, count: int = 200) -> dict[str, list]:
    """Suites of (SearchQuery, HTTP query string): words, phrases and products of the demo
    corpus, the given batch numbers, a one-year window."""
    rng = random.Random(5)
    names = [p[0] for p in PRODUCTS]

    def both(**fields):
        params = {key: str(value) for key, value in fields.items()}
        return SearchQuery(**fields), urlencode(params)

    window = {"received_from": date(year, 1, 1), "received_to": date(year, 12, 31)}
    return {
        "term (two characters)": [both(q=rng.choice(["溶出", "破损", "胶囊", "退货"]))
                                  for _ in range(count)],
        "word (4-6 characters)": [both(q=rng.choice(names)[:4]) for _ in range(count)],
        "quoted phrase": [both(q='"' + rng.choice(names) + '"') for _ in range(count)],
        "batch (exact)": [both(batch_no=rng.choice(batches)) for _ in range(count)],
        "product": [both(product=rng.choice(names)[:2]) for _ in range(count)],
        "word + year window + facets": [both(q="溶出", **window) for _ in range(count)],
        "sorted by date": [both(q="胶囊", sort="received_on") for _ in range(count)],
    }  # fmt: skip


class Http:
    """One keep-alive connection to the server, with a bearer token."""

    def __init__(self, port: int, token: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}"}
        self.refused: dict[int, int] = {}

    def request(self, method: str, path: str, body=None, headers=None):
        self.connection.request(method, path, body=body, headers=self.headers | (headers or {}))
        response = self.connection.getresponse()
        data = response.read()
        if response.status not in (200, 201):
            self.refused[response.status] = self.refused.get(response.status, 0) + 1
        return response.status, json.loads(data) if data else None

    def timed(self, query_strings: list[str]) -> tuple[float, float]:
        timings = []
        for query_string in query_strings:
            started = time.perf_counter()
            self.request("GET", f"/api/v1/search?{query_string}")
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        return statistics.median(timings), timings[int(len(timings) * 0.95)]


def filing_to_searchable(client: Http, filings: int = 10) -> list[float]:
    """File dossiers over HTTP one by one; seconds from each 201 to its first search hit."""
    from archive_app.demo.corpus import _files_for, build_demo_dossiers

    latencies = []
    for number, dossier in enumerate(build_demo_dossiers(filings, seed=99)):
        marker = f"基准标记{number:03d}甲乙"
        # Numbers beyond the archive's own (same class and year, as validation wants).
        complaint_no = dossier["complaint_no"].rsplit("-", 1)[0] + f"-99{number:03d}"
        dossier = dossier | {"title": dossier["title"] + marker, "complaint_no": complaint_no}
        metadata = {key: value for key, value in dossier.items() if value is not None}
        body, content_type = multipart(metadata, _files_for(dossier, number))
        status, answer = client.request("POST", "/api/v1/dossiers", body,
                                   {"Content-Type": content_type})  # fmt: skip
        if status != 201:
            raise RuntimeError(f"filing answered {status}: {answer}")
        filed = time.perf_counter()
        while client.request("GET", f"/api/v1/search?{urlencode({'q': marker})}")[1]["total"] < 1:
            if time.perf_counter() - filed > 30:
                raise RuntimeError("a filing was not searchable within 30 s")
            time.sleep(0.02)
        latencies.append(time.perf_counter() - filed)
    return latencies


def multipart(metadata: dict, files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body as a browser sends it (file names in UTF-8)."""
    boundary = uuid.uuid4().hex
    fields = [("metadata", None, json.dumps(metadata, ensure_ascii=False).encode())]
    parts = []
    for name, filename, content in fields + files:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n"
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class TreeMemory:
    """The peak of the summed resident memory of a process and its descendants (writer and
    extraction children), sampled from /proc five times a second."""

    def __init__(self, pid: int):
        self.pid, self.peak_kb, self.running = pid, 0, True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def stop(self) -> float:
        self.running = False
        self.thread.join()
        return self.peak_kb / 1024

    def _sample(self) -> None:
        while self.running:
            self.peak_kb = max(self.peak_kb, sum(map(rss_kb, descendants(self.pid))))
            time.sleep(0.2)


def descendants(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                pending += [int(child) for child in children.read_text().split()]
            except OSError:
                pass
    return found


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    main()
