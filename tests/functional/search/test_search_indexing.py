"""Indexing after filing: through the durable queue (a failed update converges; the
background thread batches), and a document whose extraction hangs does not hold filing up."""

from __future__ import annotations

import threading
from urllib.parse import quote

import pytest
from factories import complaint_no, complete_files, file_dossier, metadata
from sqlalchemy import delete, select
from support import ManualMonotonicClock

from archive_app.demo.documents import make_pdf
from archive_app.interfaces import IClock, IDatabase, IIndexer, ISearchService
from archive_app.records.derived import DocumentText
from archive_app.records.models import Document
from archive_app.search.engine import IndexBusy, SearchIndex
from archive_app.search.indexing import Indexer
from archive_app.search.models import QueuedDossier
from archive_app.search.sandbox import ExtractionSandbox


def file_with_report(api, title: str, report_text: str) -> dict:
    meta = metadata(complaint_no=complaint_no("I", 2023), title=title)
    files = [item for item in complete_files() if item[0] != "investigation_report"]
    files.append(("investigation_report", "report.pdf", make_pdf("调查报告", [report_text])))
    return file_dossier(api, meta, files).json


def found(api, words: str) -> set[str]:
    body = api.get(f"/api/v1/search?q={quote(words)}", "archivist").json
    return {result["id"] for result in body["results"]}


def test_a_hanging_extraction_is_killed_and_the_dossier_indexed_without_text(
    api, search_app, monkeypatch
):
    extractor = search_app.registry.getUtility(IIndexer).extractor
    limit = extractor.timeout
    monkeypatch.setattr(extractor, "timeout", 0.5)
    monkeypatch.setenv("ARCHIVE_FAULT", "extract_hang")
    dossier = file_with_report(api, "挂起提取标题甲", "挂起提取正文乙")
    monkeypatch.delenv("ARCHIVE_FAULT")
    # The usual limit again: a fresh child starts (imports its readers) in more than 0.5 s
    # on a loaded machine, and that start is not what this test times.
    monkeypatch.setattr(extractor, "timeout", limit)
    assert found(api, "挂起提取标题甲") == {dossier["id"]}  # filed and indexed
    assert found(api, "挂起提取正文乙") == set()  # without the text it could not read
    other = file_with_report(api, "正常提取标题丙", "正常提取正文丁")
    assert found(api, "正常提取正文丁") == {other["id"]}  # the next child reads again


def queued(search_app) -> set[str]:
    with search_app.registry.getUtility(IDatabase).read() as session:
        return set(session.scalars(select(QueuedDossier.dossier_id)))


def test_a_failed_index_update_leaves_the_dossier_queued_until_the_next_drain(
    api, search_app, monkeypatch
):
    index = search_app.registry.getUtility(ISearchService)

    def busy(documents, removed=()):
        raise IndexBusy("the search index writer stayed locked")

    monkeypatch.setattr(index, "upsert", busy)
    dossier = file_with_report(api, "队列收敛标题戊", "队列收敛正文己")  # filed all the same
    assert dossier["id"] in queued(search_app)
    assert found(api, "队列收敛标题戊") == set()
    monkeypatch.undo()
    assert search_app.registry.getUtility(IIndexer).flush()
    assert found(api, "队列收敛标题戊") == {dossier["id"]}
    assert dossier["id"] not in queued(search_app)


@pytest.fixture
def batch_clock():
    return ManualMonotonicClock()


@pytest.fixture
def background_indexer(search_app, tmp_path, batch_clock, whoosh_only):
    """An indexer over the test database with the batching thread on (testing.ini has it
    off), writing an index of its own, its delays on the test's clock. The thread is the
    backends' common caller: tested once, on Whoosh."""
    registry, app_indexer = search_app.registry, search_app.registry.getUtility(IIndexer)
    database = registry.getUtility(IDatabase)
    index = SearchIndex(tmp_path / "index")
    index.create_empty()
    indexer = Indexer(
        index, database.read, database.write,
        app_indexer.records_for_session, tmp_path / "spool", ExtractionSandbox(),
        registry.getUtility(IClock), batch_delay=1.0, batch_clock=batch_clock,
    )  # fmt: skip
    indexer.start()
    yield indexer
    indexer.close()


def indexer_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "archive-indexer"]


def test_the_background_thread_indexes_filings_in_one_commit_after_its_delay(
    api, search_app, background_indexer, batch_clock, monkeypatch
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
    write = search_app.registry.getUtility(IDatabase).write
    committed = batch_clock.monotonic()
    for dossier_id in dossiers[:3]:  # three filing transactions in quick succession
        with write() as session, session.begin():
            background_indexer.queue(session, dossier_id)
    batch_clock.until_waiting(committed + 1.0)  # the first commit began the batch delay
    batch_clock.advance(0.5)
    assert not index.ids() & set(dossiers)  # not before the delay is over
    batch_clock.advance(0.5)
    # The run is over (index written, then the queue rows forgotten in the thread's next
    # transaction) when the thread waits for the next request again.
    batch_clock.until_waiting(committed + 1.0 + 60)
    assert index.ids() >= set(dossiers[:3])
    assert not queued(search_app) & set(dossiers)
    assert [ids for ids in commits if set(ids) & set(dossiers)] == [sorted(dossiers[:3])]

    with write() as session, session.begin():  # flush: at once, without the batching delay
        background_indexer.queue(session, dossiers[3])
    assert background_indexer.flush(timeout=5)  # on the test's clock: no time passes
    assert dossiers[3] in index.ids()
    assert len(indexer_threads()) == 1
    background_indexer.close()
    assert indexer_threads() == []


def test_a_drain_stores_the_texts_of_its_whole_batch_in_one_transaction(
    api, search_app, monkeypatch
):
    """One write transaction for the texts extracted for a batch of dossiers, not one a
    dossier: each waits for the write lock, which an import's batch holds up to 2 s."""
    dossiers = [file_with_report(api, f"文本批次标题{n}", f"文本批次正文{n}")["id"]
                for n in "甲乙丙"]  # fmt: skip
    indexer = search_app.registry.getUtility(IIndexer)
    database = search_app.registry.getUtility(IDatabase)
    with database.write() as session, session.begin():  # extracted again by the next drain
        session.execute(delete(DocumentText).where(DocumentText.document_id.in_(
            select(Document.id).where(Document.dossier_id.in_(dossiers)))))  # fmt: skip
    opened = []
    sessions = indexer.write_sessions

    def counted():
        opened.append(1)
        return sessions()

    monkeypatch.setattr(indexer, "write_sessions", counted)
    assert indexer.apply(dossiers) == set(dossiers)
    assert len(opened) == 1
    with database.read() as session:
        stored = session.scalars(select(Document.dossier_id).join(
            DocumentText, DocumentText.document_id == Document.id)).all()  # fmt: skip
    assert set(stored) >= set(dossiers) and len(stored) > len(dossiers)  # every document's
    assert found(api, "文本批次正文乙") == {dossiers[1]}
