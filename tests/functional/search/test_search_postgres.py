"""The PostgreSQL search backend's own promises: chosen only on PostgreSQL, nothing under
storage/index/, clearance and ranking inside the SQL, a query's time limit, and destruction
that leaves none of a dossier's terms in the search table."""

from __future__ import annotations

import os
import time
from urllib.parse import quote

import pytest
from factories import complaint_no, complete_files, file_dossier, metadata
from sqlalchemy import create_engine, select, text
from support import run_cli

from archive_app.db import Database
from archive_app.demo.documents import make_pdf
from archive_app.interfaces import IDatabase, IIndexer, ISearchService
from archive_app.records.models import Dossier
from archive_app.records.vocabulary import DossierState
from archive_app.search import pg_backend, pg_query, pg_set_query, search_backend
from archive_app.search.engine import SearchQuery
from archive_app.search.pg_backend import PostgresSearch
from archive_app.settings import SettingsError


def search(api, query: str, user: str = "archivist", status: int = 200):
    return api.get(f"/api/v1/search?{quote(query, safe='=&')}", user, status=status)


def file(api, *, title: str, text_words: str = "", level: str = "internal", year: int = 2023,
         batch: str = "PGSEARCH01", expiry: str = "2030-06") -> dict:  # fmt: skip
    meta = metadata(
        complaint_no=complaint_no("I", year),
        title=title,
        confidentiality=level,
        received_on=f"{year}-05-12",
        closed_on=f"{year}-07-03",
        products=[{"name": "复方甘草片", "batch_no": batch, "expiry": expiry}],
    )
    files = [item for item in complete_files() if item[0] != "investigation_report"]
    files.append(("investigation_report", "report.pdf", make_pdf("调查报告", [text_words or "无"])))
    return file_dossier(api, meta, files).json


def indexed(search_app, dossier: dict) -> dict:
    """The dossier once the indexer has written its row: a test that marks it `destroying`
    itself (not through a retention run, which locks the dossier before deleting the row)
    would otherwise race the filing's own background drain writing the row just after."""
    index = search_app.registry.getUtility(ISearchService)
    ends = time.monotonic() + 10
    while dossier["id"] not in index.ids():
        assert time.monotonic() < ends, "the filing was never indexed"
        time.sleep(0.05)
    return dossier


def test_the_postgres_backend_refuses_to_start_on_sqlite(tmp_path):
    settings = {"archive.search.backend": "postgres", "archive.storage_dir": str(tmp_path)}
    database = Database(create_engine(f"sqlite:///{tmp_path}/archive.sqlite"))
    with pytest.raises(SettingsError, match="needs a PostgreSQL sqlalchemy.url"):
        search_backend(settings, database)
    with pytest.raises(SettingsError, match="must be one of whoosh, postgres"):
        search_backend(settings | {"archive.search.backend": "lucene"}, database)
    assert list(tmp_path.iterdir()) == []  # nothing written, no index folder made


def test_a_command_with_the_postgres_backend_on_sqlite_stops_with_one_line(tmp_path):
    env = dict(os.environ, ARCHIVE_STORAGE_DIR=str(tmp_path),
               ARCHIVE_SQLALCHEMY_URL=f"sqlite:///{tmp_path}/archive.sqlite",
               ARCHIVE_SEARCH_BACKEND="postgres")  # fmt: skip
    result = run_cli(env, "init")
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "archive.search.backend = postgres needs a PostgreSQL sqlalchemy.url" in result.stderr
    assert "Traceback" not in result.stderr
    assert list((tmp_path / "index").rglob("*")) == []  # no index written


def files_under(folder) -> dict:
    return {str(path): path.stat().st_mtime_ns for path in folder.rglob("*")}


def test_nothing_is_written_under_storage_index(api, search_app, storage, postgres_only):
    assert isinstance(search_app.registry.getUtility(ISearchService), PostgresSearch)
    before = files_under(storage / "index")
    dossier = file(api, title="数据库检索独有词子丑")
    assert [r["id"] for r in search(api, "q=独有词子丑").json["results"]] == [dossier["id"]]
    assert files_under(storage / "index") == before


def scores(index, words: str, levels) -> list[tuple[str, float]]:
    result = index.search(SearchQuery(q=words, per_page=100), levels)
    return [(hit["id"], hit["score"]) for hit in result.hits]


def test_restricted_dossiers_change_neither_order_nor_scores_of_an_internal_reader(
    api, search_app, postgres_only
):
    """ts_rank_cd reads the scored row's vector alone: no collection statistics to leak."""
    index = search_app.registry.getUtility(ISearchService)
    for title in ("排序统计词寅卯", "排序统计词寅卯 排序统计词寅卯 复核", "复核记录"):
        file(api, title=title, text_words="排序统计词寅卯")
    internal = ("internal",)
    before = scores(index, "排序统计词寅卯", internal)
    assert len(before) == 3 and before[0][1] > 0
    for _ in range(5):
        file(api, title="排序统计词寅卯 排序统计词寅卯 排序统计词寅卯", level="restricted")
    assert scores(index, "排序统计词寅卯", internal) == before
    everything = scores(index, "排序统计词寅卯", ("internal", "confidential", "restricted"))
    assert len(everything) == 8  # they are there, for a reader cleared for them


def test_a_query_past_the_time_limit_answers_query_too_costly(api, search_app, monkeypatch,
                                                              postgres_only):  # fmt: skip
    file(api, title="超时检索词辰巳")
    matches = pg_query.matches

    def slow(query, where):  # each matching row costs 50 ms inside PostgreSQL
        matches(query, where)
        where.add("length(CAST(pg_sleep(0.05) AS text)) >= 0")

    monkeypatch.setattr(pg_query, "matches", slow)
    monkeypatch.setattr(search_app.registry.getUtility(ISearchService), "query_timeout", 0.02)
    # A batch number: the SQL statement answers it (not the document sets).
    response = search(api, "q=超时检索词辰巳&batch_no=PGSEARCH01", status=422)
    assert response.json["error"] == "query_too_costly" and response.json["field"] == "q"
    assert "0.02 s" in response.json["detail"]


def test_a_query_of_the_sets_past_the_time_limit_answers_query_too_costly(
    api, search_app, monkeypatch, postgres_only
):
    file(api, title="超时集合词坎离")
    load = pg_set_query.load

    def slow(*args):  # reading the sets takes 50 ms
        time.sleep(0.05)
        return load(*args)

    monkeypatch.setattr(pg_set_query, "load", slow)
    monkeypatch.setattr(search_app.registry.getUtility(ISearchService), "query_timeout", 0.02)
    response = search(api, "q=超时集合词坎离", status=422)
    assert response.json["error"] == "query_too_costly" and response.json["field"] == "q"
    assert "0.02 s" in response.json["detail"]


def terms_in_table(session) -> set[str]:
    """Every lexeme of every vector of the search table (PostgreSQL's own reading of them)."""
    words = set()
    for column in ("meta_terms", "text_terms"):
        words |= set(session.scalars(text(f"SELECT word FROM ts_stat('SELECT {column} "
                                          "FROM search_rows')")))  # fmt: skip
    return words


def test_marking_a_dossier_destroying_deletes_its_row_in_that_transaction(
    api, search_app, postgres_only
):
    dossier = indexed(search_app, file(api, title="标记事务检索词午未"))
    database = search_app.registry.getUtility(IDatabase)
    count = text("SELECT count(*) FROM search_rows WHERE dossier_id = :id")
    with database.write() as session:
        session.begin()
        session.get(Dossier, dossier["id"]).state = DossierState.DESTROYING
        session.flush()
        assert session.scalar(count, {"id": dossier["id"]}) == 0  # gone with the marking
        session.rollback()  # the marking undone: the row is back with it
    with database.read() as session:
        assert session.scalar(count, {"id": dossier["id"]}) == 1


def test_destruction_leaves_none_of_the_dossier_s_terms_in_the_search_table(
    api, search_app, postgres_only
):
    title, words, batch = "销毁检索标题申酉", "销毁正文独有词戌亥", "PGPURGE01"
    dossier = file(api, title=title, text_words=words, year=2017, batch=batch,
                   expiry="2017-06")  # fmt: skip
    unique = {"申酉", "戌亥"}  # bigrams of this dossier alone
    database = search_app.registry.getUtility(IDatabase)
    batches = text("SELECT count(*) FROM search_rows WHERE batch_nos @> CAST(:b AS text[])")
    with database.read() as session:
        assert unique <= terms_in_table(session)
        assert session.scalar(batches, {"b": [batch.lower()]}) == 1
    assert search(api, f"q={words}").json["total"] == 1
    run = api.post_json("/api/v1/retention/runs", {"as_of": "2021-01-01", "dry_run": False},
                        "records", status=201).json  # fmt: skip
    assert dossier["complaint_no"] in run["destroyed"]
    assert search(api, f"q={words}").json["total"] == 0
    with database.read() as session:
        assert session.scalar(text("SELECT count(*) FROM search_rows WHERE dossier_id = :id"),
                              {"id": dossier["id"]}) == 0  # fmt: skip
        assert not unique & terms_in_table(session)
        assert session.scalar(batches, {"b": [batch.lower()]}) == 0
        assert session.scalar(select(Dossier.state).where(Dossier.id == dossier["id"])) == (
            DossierState.DESTROYED
        )
    index = search_app.registry.getUtility(ISearchService)
    assert index.wait_for_vacuum(timeout=60)  # once the run's request has committed
    assert index.last_vacuum == [
        "VACUUM (FULL, ANALYZE) search_rows",
        "VACUUM (FULL, ANALYZE) search_sets",
    ]


def relation_bytes(session, relation: str) -> bytes:
    """The relation's files as PostgreSQL keeps them on disk (after a checkpoint)."""
    path = session.scalar(text("SELECT pg_relation_filepath(CAST(:r AS regclass))"),
                          {"r": relation})  # fmt: skip
    return bytes(session.scalar(text("SELECT pg_read_binary_file(:p)"), {"p": path}))


def test_after_the_purge_no_file_of_the_table_or_its_indexes_holds_the_words(
    api, search_app, postgres_only
):
    database = search_app.registry.getUtility(IDatabase)
    with database.read() as session:
        if not session.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")):
            pytest.skip("reading the server's files and CHECKPOINT need a superuser")
    words = "磁盘残留独有词乾坤"
    dossier = file(api, title="磁盘残留标题", text_words=words, year=2016, batch="PGDISK01",
                   expiry="2016-06")  # fmt: skip
    relations = ["search_rows", *(i.name for i in pg_backend.search_rows.indexes),
                 "search_sets", "pk_search_sets"]  # fmt: skip
    with database.engine.connect() as connection:
        connection.execute(text("CHECKPOINT"))
    with database.read() as session:
        for table in ("search_rows", "search_sets"):
            relations.append(session.scalar(text(
                "SELECT reltoastrelid::regclass::text FROM pg_class WHERE relname = :t"),
                {"t": table}))  # fmt: skip
        assert any("乾坤".encode() in relation_bytes(session, r) for r in relations)
    run = api.post_json("/api/v1/retention/runs", {"as_of": "2021-01-01", "dry_run": False},
                        "records", status=201).json  # fmt: skip
    assert dossier["complaint_no"] in run["destroyed"]
    assert search_app.registry.getUtility(ISearchService).wait_for_vacuum(timeout=60)
    with database.engine.connect() as connection:
        connection.execute(text("CHECKPOINT"))
    with database.read() as session:
        for relation in relations:
            data = relation_bytes(session, relation)
            assert "乾坤".encode() not in data and b"pgdisk01" not in data, relation


def test_a_queued_update_never_writes_back_a_dossier_being_destroyed(
    api, search_app, postgres_only
):
    dossier = indexed(search_app, file(api, title="回写检验标题壬癸"))
    registry = search_app.registry
    index, indexer = registry.getUtility(ISearchService), registry.getUtility(IIndexer)
    database = registry.getUtility(IDatabase)
    with database.read() as session:  # the entry a drain read while the dossier was living
        entry = indexer.entry(indexer.records_for_session(session),
                              session.get(Dossier, dossier["id"]))  # fmt: skip
    with database.write() as session, session.begin():  # then a retention run marked it
        session.get(Dossier, dossier["id"]).state = DossierState.DESTROYING
    assert dossier["id"] not in index.ids()
    index.upsert([entry])  # the drain writes what it read: nothing, for a dying dossier
    assert dossier["id"] not in index.ids()
    with database.write() as session, session.begin():  # living again: written again
        session.get(Dossier, dossier["id"]).state = DossierState.ARCHIVED
    index.upsert([entry])
    assert dossier["id"] in index.ids()
