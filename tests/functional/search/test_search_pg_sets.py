"""The PostgreSQL backend's document sets (`pg_sets.py`, `pg_set_query.py`): the answer read
from the sets is the SQL statement's answer, row for row, on random queries and clearances;
the sets always equal what the rows hold; destruction leaves a dossier's number in no set."""

from __future__ import annotations

import random
import time
from datetime import date, timedelta
from urllib.parse import quote

import pytest
from pyroaring import BitMap
from sqlalchemy import create_engine, text

from archive_app.db import Database
from archive_app.demo.corpus import PROBLEMS, PRODUCTS
from archive_app.interfaces import IDatabase, ISearchService
from archive_app.search import pg_set_query, pg_sets
from archive_app.search.engine import SearchQuery
from archive_app.search.pg_backend import PostgresSearch
from archive_app.search.pg_rows import metadata

SCHEMA = "search_sets_equality"
LEVELS = ("internal", "confidential", "restricted")
WORDS = ["溶出", "破损", "胶囊", "退货", "皮疹", "漏封", "受潮", "颗粒", "缓释"]


def entries(count: int, rng: random.Random):
    kinds = list(PROBLEMS)
    for number in range(count):
        name = rng.choice(PRODUCTS)[0]
        kind = rng.choice(kinds)
        received = date(2020, 1, 1) + timedelta(days=rng.randrange(900))
        yield {
            "id": f"{number:032x}", "complaint_no": f"TS-I-{received:%y}-{number:05d}",
            "batch_no": [f"B{number % 7}"], "title": rng.choice([name, ""]) + PROBLEMS[kind][0],
            "product": [name], "product_name": [name] + ([rng.choice(PRODUCTS)[0]]
                                                        if rng.random() < 0.2 else []),
            "manufacturer": rng.choice(["华康制药", "北方药业"]),
            "summary": rng.choice([PROBLEMS[kind][1], " ".join(rng.sample(WORDS, 2))]),
            "text": " ".join(rng.sample(WORDS, 3)),
            "complaint_class": rng.choice(["I", "II", "III"]), "complaint_type": kind,
            "outcome": rng.choice(["justified", "unjustified"]),
            "confidentiality": rng.choice(LEVELS),
            "state": rng.choice(["archived", "archived", "held", "destroying"]),
            "year": received.year, "received_on": received, "closed_on": received,
        }  # fmt: skip


def random_query(rng: random.Random) -> SearchQuery:
    name = rng.choice(PRODUCTS)[0]
    q = rng.choice([rng.choice(WORDS), name[:4], f'"{name}"', f"{rng.choice(WORDS)} {name[:2]}",
                    "", "无此词语", f'"{rng.choice(WORDS)}"'])  # fmt: skip
    fields = {"q": q, "page": rng.choice([1, 1, 2, 6]), "per_page": rng.choice([5, 20]),
              "sort": rng.choice(["relevance", "relevance", "received_on"]),
              "document_text": rng.random() < 0.7,
              "include_destroyed": rng.random() < 0.2}  # fmt: skip
    if rng.random() < 0.3:
        fields["product"] = rng.choice(PRODUCTS)[0][:2]
    if rng.random() < 0.3:
        fields["complaint_class"] = rng.choice(["I", "II", "III"])
    if rng.random() < 0.2:
        fields["complaint_type"] = rng.choice(list(PROBLEMS))
    if rng.random() < 0.4:
        start = date(2020, 1, 1) + timedelta(days=rng.randrange(800))
        fields["received_from"] = start.replace(day=1) if rng.random() < 0.5 else start
        fields["received_to"] = start + timedelta(days=rng.randrange(20, 400))
    return SearchQuery(**fields)


@pytest.fixture
def own_tables(search_app, postgres_only):
    """The search tables in a schema of their own (rebuilt here without the suite's rows)."""
    url = search_app.registry.getUtility(IDatabase).engine.url
    engine = create_engine(url, connect_args={"options": f"-csearch_path={SCHEMA}"})
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        connection.execute(text("CREATE SEQUENCE search_rows_seq"))
        metadata.create_all(connection)
    index = PostgresSearch(Database(engine))
    yield index
    index.database.dispose()
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {SCHEMA} CASCADE"))
    engine.dispose()


def answered(index: PostgresSearch, query: SearchQuery, levels) -> tuple:
    result = index.search(query, levels)
    return result.total, result.facets, [(hit["id"], hit["score"]) for hit in result.hits]


@pytest.mark.parametrize("longest", [pg_sets.MAX_SEQUENCE_BYTES, 40])
def test_the_sets_answer_as_the_sql_statement_does(own_tables, monkeypatch, longest):
    # 40 bytes: most summaries too long for a sequence set (phrases checked on their vectors)
    monkeypatch.setattr(pg_sets, "MAX_SEQUENCE_BYTES", longest)
    rng = random.Random(16)
    assert own_tables.rebuild(entries(400, rng), batch_size=64) == 400
    used = []
    answer = pg_set_query.answer
    monkeypatch.setattr(pg_set_query, "answer", lambda *a: used.append(1) or answer(*a))
    totals = set()
    for _ in range(150):
        query = random_query(rng)
        levels = tuple(rng.sample(LEVELS, rng.randrange(1, 4)))
        from_sets = answered(own_tables, query, levels)
        with monkeypatch.context() as patch:
            patch.setattr(pg_set_query, "covered", lambda query: False)
            from_sql = answered(own_tables, query, levels)
        assert from_sets == from_sql, (query, levels)
        totals.add(from_sets[0])
    assert len(used) == 150 and len(totals) > 20  # the sets answered, and not all alike


def test_two_clearances_see_different_totals_facets_and_orders(own_tables):
    own_tables.rebuild(entries(300, random.Random(3)))
    query = SearchQuery(q="溶出")
    low, high = answered(own_tables, query, LEVELS[:1]), answered(own_tables, query, LEVELS)
    assert low[0] < high[0]
    assert sum(low[1]["complaint_class"].values()) == low[0]
    assert low[1]["complaint_class"] != high[1]["complaint_class"]
    assert [hit for hit, _ in low[2]] != [hit for hit, _ in high[2]]


def stored_sets(session) -> dict:
    found: dict = {}
    for kind, value, members in session.execute(
        text("SELECT kind, value, members FROM search_sets WHERE kind <> 'ready'")
    ):
        found.setdefault((kind, value), BitMap()).update(BitMap.deserialize(members))
    return found


def sets_of_the_rows(session) -> dict:
    ids = list(session.scalars(text("SELECT dossier_id FROM search_rows")))
    members = pg_sets.by_key(pg_sets.stored_keys(session, ids))
    return {key: BitMap(numbers) for key, numbers in members.items()}


def test_the_sets_equal_the_rows_after_a_rebuild_and_its_chunks(own_tables):
    own_tables.rebuild(entries(200, random.Random(5)))
    with own_tables.database.read() as session:
        assert stored_sets(session) == sets_of_the_rows(session)


def test_filing_and_destruction_keep_the_sets_equal_to_the_rows(api, search_app, postgres_only):
    from test_search_postgres import file

    index = search_app.registry.getUtility(ISearchService)
    dossier = file(api, title="集合检索标题未申", text_words="集合正文独有词酉戌", year=2015,
                   batch="PGSETS01", expiry="2015-06")  # fmt: skip
    ends = time.monotonic() + 10
    while dossier["id"] not in index.ids():
        assert time.monotonic() < ends, "the filing was never indexed"
        time.sleep(0.05)
    database = search_app.registry.getUtility(IDatabase)
    with database.read() as session:
        seq = session.scalar(text("SELECT seq FROM search_rows WHERE dossier_id = :id"),
                             {"id": dossier["id"]})  # fmt: skip
        assert stored_sets(session) == sets_of_the_rows(session)
        assert ("T", "酉戌") in stored_sets(session)
    assert api.get("/api/v1/search?q=" + quote("酉戌"), "archivist").json["total"] == 1
    run = api.post_json("/api/v1/retention/runs", {"as_of": "2021-01-01", "dry_run": False},
                        "records", status=201).json  # fmt: skip
    assert dossier["complaint_no"] in run["destroyed"]
    with database.read() as session:
        sets = stored_sets(session)
        assert not [key for key, members in sets.items() if seq in members]
        assert ("T", "酉戌") not in sets and ("A", "未申") not in sets  # its terms alone
        assert sets == sets_of_the_rows(session)
    assert api.get("/api/v1/search?q=" + quote("酉戌"), "archivist").json["total"] == 0


def test_rows_indexed_before_the_sets_are_reported_until_a_reindex_writes_them(own_tables):
    assert own_tables.upgrade() is None  # no rows: nothing to build
    own_tables.rebuild(entries(20, random.Random(8)))
    assert own_tables.upgrade() is None  # the rebuild wrote the sets and their marker
    with own_tables.database.write() as session, session.begin():
        session.execute(text("DELETE FROM search_sets"))  # as migration 0018 leaves older rows
    assert "archive reindex" in own_tables.upgrade()
    own_tables.rebuild(entries(20, random.Random(8)))
    assert own_tables.upgrade() is None
