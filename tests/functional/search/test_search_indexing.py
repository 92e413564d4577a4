"""Indexing after filing: through the durable queue (a failed update converges; the
background thread batches), and a document whose extraction hangs does not hold filing up."""

from __future__ import annotations

import threading
import time
from urllib.parse import quote

import pytest
from factories import complaint_no, complete_files, metadata, metadata_part
from sqlalchemy import select

from archive_app.demo.documents import make_pdf
from archive_app.interfaces import IClock, IDatabase, IIndexer, ISearchService
from archive_app.search.engine import IndexBusy, SearchIndex
from archive_app.search.indexing import Indexer
from archive_app.search.models import QueuedDossier
from archive_app.search.sandbox import ExtractionSandbox


def file_with_report(api, title: str, report_text: str) -> dict:
    meta = metadata(complaint_no=complaint_no("I", 2023), title=title)
    files = [item for item in complete_files() if item[0] != "investigation_report"]
    files.append(("investigation_report", "report.pdf", make_pdf("调查报告", [report_text])))
    return api.post("/api/v1/dossiers", "archivist", params=[metadata_part(meta)],
                    upload_files=files, status=201).json  # fmt: skip


def found(api, words: str) -> set[str]:
    body = api.get(f"/api/v1/search?q={quote(words)}", "archivist").json
    return {result["id"] for result in body["results"]}


def test_a_hanging_extraction_is_killed_and_the_dossier_indexed_without_text(
    api, wsgi_app, monkeypatch
):
    extractor = wsgi_app.registry.getUtility(IIndexer).extractor
    monkeypatch.setattr(extractor, "timeout", 0.5)
    monkeypatch.setenv("ARCHIVE_FAULT", "extract_hang")
    dossier = file_with_report(api, "挂起提取标题甲", "挂起提取正文乙")
    monkeypatch.delenv("ARCHIVE_FAULT")
    assert found(api, "挂起提取标题甲") == {dossier["id"]}  # filed and indexed
    assert found(api, "挂起提取正文乙") == set()  # without the text it could not read
    other = file_with_report(api, "正常提取标题丙", "正常提取正文丁")
    assert found(api, "正常提取正文丁") == {other["id"]}  # the next child reads again


def queued(wsgi_app) -> set[str]:
    with wsgi_app.registry.getUtility(IDatabase).read() as session:
        return set(session.scalars(select(QueuedDossier.dossier_id)))


def test_a_failed_index_update_leaves_the_dossier_queued_until_the_next_drain(
    api, wsgi_app, monkeypatch
):
    index = wsgi_app.registry.getUtility(ISearchService)

    def busy(documents, removed=()):
        raise IndexBusy("the search index writer stayed locked")

    monkeypatch.setattr(index, "upsert", busy)
    dossier = file_with_report(api, "队列收敛标题戊", "队列收敛正文己")  # filed all the same
    assert dossier["id"] in queued(wsgi_app)
    assert found(api, "队列收敛标题戊") == set()
    monkeypatch.undo()
    assert wsgi_app.registry.getUtility(IIndexer).flush()
    assert found(api, "队列收敛标题戊") == {dossier["id"]}
    assert dossier["id"] not in queued(wsgi_app)


@pytest.fixture
def background_indexer(wsgi_app, tmp_path):
    """An indexer over the test database with the batching thread on (testing.ini has it
    off), writing an index of its own."""
    registry, app_indexer = wsgi_app.registry, wsgi_app.registry.getUtility(IIndexer)
    database = registry.getUtility(IDatabase)
    index = SearchIndex(tmp_path / "index")
    index.create_empty()
    indexer = Indexer(
        index, database.read, database.write,
        app_indexer.records_for_session, tmp_path / "spool", ExtractionSandbox(),
        registry.getUtility(IClock), batch_delay=1.0,
    )  # fmt: skip
    indexer.start()
    yield indexer
    indexer.close()


def indexer_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "archive-indexer"]


def test_the_background_thread_indexes_filings_in_one_commit_within_seconds(
    api, wsgi_app, background_indexer, monkeypatch
):
    dossiers = [file_with_report(api, f"批量索引标题{n}", "批量索引正文")["id"] for n in "甲乙丙丁"]
    assert background_indexer.flush(timeout=5)  # its start-up drain, out of the count below
    index = background_indexer.index
    commits = []
    upsert = index.upsert

    def counted(documents, removed=()):
        commits.append(sorted(document["id"] for document in documents))
        upsert(documents, removed)

    monkeypatch.setattr(index, "upsert", counted)
    write = wsgi_app.registry.getUtility(IDatabase).write
    for dossier_id in dossiers[:3]:  # three filing transactions in quick succession
        with write() as session, session.begin():
            background_indexer.queue(session, dossier_id)
    committed = time.monotonic()
    while not index.ids() >= set(dossiers[:3]) and time.monotonic() - committed < 5:
        time.sleep(0.05)
    searchable_after = time.monotonic() - committed
    assert index.ids() >= set(dossiers[:3]) and searchable_after < 5, searchable_after
    # the queue rows go in the thread's next transaction, just after the index commit
    while queued(wsgi_app) & set(dossiers) and time.monotonic() - committed < 5:
        time.sleep(0.05)
    assert not queued(wsgi_app) & set(dossiers)
    assert [ids for ids in commits if set(ids) & set(dossiers)] == [sorted(dossiers[:3])]

    with write() as session, session.begin():  # flush: at once, without the batching delay
        background_indexer.queue(session, dossiers[3])
    started = time.monotonic()
    assert background_indexer.flush(timeout=5)
    assert time.monotonic() - started < 1.0 and dossiers[3] in index.ids()
    assert len(indexer_threads()) == 1
    background_indexer.close()
    assert indexer_threads() == []
