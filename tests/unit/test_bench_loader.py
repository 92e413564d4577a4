"""`bench/pg_http.py`, issue #16's HTTP benchmark, kept from rotting: its bulk loader writes
the dossier rows of exactly the dossiers its search rows hold, with the entries' fields, and
the real app it serves finds a loaded dossier over HTTP with that dossier's summary, the
totals the service gives, and nothing above the reader's clearance.

On PostgreSQL only (`make test`'s second pass): the benchmark is of the PostgreSQL backend.
It builds 50 dossiers in a database of its own beside the test database, dropped after.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, selectinload

from archive_app.records.models import Dossier
from archive_app.records.serializers import summary
from archive_app.retention.rules import compute_destroy_after

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import pg_http  # noqa: E402
import search as bench  # noqa: E402

pytestmark = pytest.mark.skipif(
    os.environ.get("ARCHIVE_TEST_DATABASE") != "postgres",
    reason="bench/pg_http.py measures the PostgreSQL search backend: the PostgreSQL pass",
)
COUNT = 50
ENTRIES = list(bench.entries(COUNT))
READABLE = ("internal", "confidential")  # the benchmark reader's clearance: confidential


@pytest.fixture(scope="module")
def bench_url() -> str:
    test_url = make_url(os.environ["ARCHIVE_TEST_POSTGRES_URL"])
    url = test_url.set(database=f"{test_url.database}_bench_loader")
    yield url.render_as_string(hide_password=False)
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    server.dispose()


@pytest.fixture(scope="module")
def index(bench_url):
    # The build points this process's archive variables at its own storage and database
    # (as the benchmark runs): the test session's own are put back after.
    with pytest.MonkeyPatch.context() as patch:
        for name in ("ARCHIVE_STORAGE_DIR", "ARCHIVE_SQLALCHEMY_URL"):
            patch.setenv(name, os.environ.get(name, ""))
        built = pg_http.build(bench_url, COUNT)
    yield built
    built.database.dispose()


@pytest.fixture(scope="module")
def served(index, bench_url, tmp_path_factory):
    served = pg_http.Served(tmp_path_factory.mktemp("bench-pg-http"), bench_url)
    token = served.reader_token()
    with served.server() as process:
        client = bench.Http(served.port, token)
        yield client, process.pid
        client.connection.close()


def loaded(bench_url) -> tuple[dict[str, Dossier], dict[str, dict]]:
    """The loaded dossiers by id, and their summaries as search results show them."""
    engine = create_engine(bench_url)
    with Session(engine) as session:
        rows = session.scalars(select(Dossier).options(selectinload(Dossier.products))).all()
        found = {dossier.id: dossier for dossier in rows}
        summaries = {dossier.id: summary(dossier) for dossier in rows}
    engine.dispose()
    return found, summaries


def expected_summary(entry: dict) -> dict:
    return {
        "id": entry["id"], "complaint_no": entry["complaint_no"],
        "complaint_class": entry["complaint_class"], "complaint_type": entry["complaint_type"],
        "title": entry["title"], "received_on": entry["received_on"].isoformat(),
        "closed_on": entry["closed_on"].isoformat(), "state": entry["state"],
        "confidentiality": entry["confidentiality"],
        "products": [{"name": name, "batch_no": batch} for name, batch
                     in zip(entry["product_name"], entry["batch_no"], strict=True)],
    }  # fmt: skip


def test_the_dossier_rows_are_the_search_rows_dossiers_with_the_entries_fields(index, bench_url):
    dossiers, summaries = loaded(bench_url)
    assert set(dossiers) == index.ids() == {entry["id"] for entry in ENTRIES}
    for entry in ENTRIES:
        assert summaries[entry["id"]] == expected_summary(entry)
        dossier = dossiers[entry["id"]]
        assert (dossier.outcome, dossier.summary) == (entry["outcome"], entry["summary"])
        assert dossier.products[0].manufacturer == entry["manufacturer"]
        assert dossier.destroy_after == compute_destroy_after([], entry["closed_on"]).destroy_after


def test_a_search_over_http_finds_a_loaded_dossier_with_its_summary(served):
    client, _pid = served
    entry = next(entry for entry in ENTRIES if entry["confidentiality"] == "confidential")
    batch = entry["batch_no"][0]
    status, answer = client.request("GET", f"/api/v1/search?{urlencode({'batch_no': batch})}")
    assert status == 200
    sharing = [e for e in ENTRIES if batch in e["batch_no"] and e["confidentiality"] in READABLE]
    assert answer["total"] == len(sharing) >= 1
    found = {hit["id"]: {k: v for k, v in hit.items() if k != "highlights"}
             for hit in answer["results"]}  # fmt: skip
    assert found[entry["id"]] == expected_summary(entry)


def test_a_restricted_dossier_is_not_found_by_the_benchmark_reader(served):
    client, _pid = served
    entry = next(entry for entry in ENTRIES if entry["confidentiality"] == "restricted")
    status, answer = client.request(
        "GET", f"/api/v1/search?{urlencode({'complaint_no': entry['complaint_no']})}"
    )
    assert (status, answer["total"], answer["results"]) == (200, 0, [])


def test_the_measurement_compares_the_same_totals_at_the_service_and_over_http(index, served):
    client, pid = served
    pairs = bench.query_suites([ENTRIES[0]["batch_no"][0]], 2021, count=3)["term (two characters)"]
    at_service, over_http = pg_http.measure(index, client, pid, pairs)
    assert at_service.totals == over_http.totals == [matching(query.q) for query, _ in pairs]
    assert len(at_service.ms) == len(over_http.ms) == 3


def matching(word: str) -> int:
    """Readable entries with the two-character word in a field (a CJK bigram is a term)."""
    fields = ("title", "summary", "text", "manufacturer")
    return sum(entry["confidentiality"] in READABLE
               and any(word in entry[name] for name in fields) for entry in ENTRIES)  # fmt: skip
