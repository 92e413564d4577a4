"""OCR of scans and photos (#14 item 1): images and PDF pages without text are left
`ocr_pending` by the filing's indexing, read by the OCR queue (testing.ini: no thread of its
own, the tests drain it), stored sealed, and their dossier found by what they say."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest
from factories import complaint_no, complete_files, file_dossier, metadata

from archive_app.demo import scans
from archive_app.interfaces import IIndexer, IOcrQueue

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.usefixtures("whoosh_backend_only"),
]


def ocr_queue(wsgi_app):
    return wsgi_app.registry.getUtility(IOcrQueue)


def file_with(api, *scanned: tuple[str, str, bytes], title: str = "扫描件测试") -> dict:
    meta = metadata(complaint_no=complaint_no("I", 2023), title=title)
    return file_dossier(api, meta, [*complete_files(), *scanned]).json


def found(api, words: str) -> set[str]:
    body = api.get(f"/api/v1/search?q={quote(words)}", "archivist").json
    return {result["id"] for result in body["results"]}


def states(api, dossier_id: str) -> dict[str, tuple[str | None, str | None]]:
    """filename -> (text_state, text_reason) as the API gives them."""
    body = api.get(f"/api/v1/dossiers/{dossier_id}", "archivist").json
    return {d["filename"]: (d["text_state"], d.get("text_reason")) for d in body["documents"]}


def form(batch_no: str, product: str = "阿莫西林胶囊", **kw):
    return scans.scanned_page(scans.registration_form_lines(batch_no, product), **kw)


def test_a_scanned_form_is_pending_after_filing_then_found_by_its_chinese_and_batch_number(
    api, wsgi_app
):
    scan = ("attachment", "登记表扫描.jpg", scans.jpeg(form("OC2301007", "蒲地蓝消炎片")))
    answer = file_with(api, scan)
    # The filing answered before OCR ran: the scan is pending, its words not found yet.
    assert states(api, answer["id"])["登记表扫描.jpg"] == ("ocr_pending", None)
    assert states(api, answer["id"])["投诉客户信息登记表.pdf"] == ("extracted", None)
    assert found(api, "OC2301007") == set()
    assert ocr_queue(wsgi_app).drain() >= 1
    assert states(api, answer["id"])["登记表扫描.jpg"] == ("ocr_done", None)
    assert found(api, "OC2301007") == {answer["id"]}
    assert found(api, "蒲地蓝消炎片") >= {answer["id"]}


@pytest.mark.parametrize("turn", [90, 180])
def test_a_scan_fed_sideways_or_upside_down_is_turned_upright_and_read(api, wsgi_app, turn):
    batch = f"RT{turn:03d}2305"
    scan = ("attachment", f"turned-{turn}.png", scans.png(form(batch, rotate=turn)))
    answer = file_with(api, scan)
    ocr_queue(wsgi_app).drain()
    assert states(api, answer["id"])[f"turned-{turn}.png"] == ("ocr_done", None)
    assert found(api, batch) == {answer["id"]}


def test_every_page_of_a_multi_page_tiff_is_read(api, wsgi_app):
    pages = [form("TF2301001", seed=1), form("TF2301002", seed=2)]
    answer = file_with(api, ("attachment", "传真.tif", scans.tiff(pages)))
    ocr_queue(wsgi_app).drain()
    assert found(api, "TF2301001") == {answer["id"]}
    assert found(api, "TF2301002") == {answer["id"]}


def test_a_pdf_with_an_image_only_page_keeps_its_text_and_gains_the_scans(api, wsgi_app):
    from pypdf import PdfReader, PdfWriter

    from archive_app.demo.documents import make_pdf

    # A text page (its text layer read at filing) then a scanned page (OCR).
    writer = PdfWriter()
    for part in (make_pdf("调查报告", ["文字层内容PD甲乙"]), scans.image_pdf([form("PD2302009")])):
        for page in PdfReader(_io(part)).pages:
            writer.add_page(page)
    out = _io(b"")
    writer.write(out)
    answer = file_with(api, ("attachment", "混合.pdf", out.getvalue()))
    assert states(api, answer["id"])["混合.pdf"] == ("ocr_pending", None)
    assert found(api, "文字层内容PD甲乙") == {answer["id"]}  # searchable before OCR
    ocr_queue(wsgi_app).drain()
    assert states(api, answer["id"])["混合.pdf"] == ("ocr_done", None)
    assert found(api, "PD2302009") == {answer["id"]}
    assert found(api, "文字层内容PD甲乙") == {answer["id"]}  # and after


def _io(data: bytes):
    import io

    return io.BytesIO(data)


def test_a_failing_ocr_leaves_the_document_failed_with_its_reason_and_the_filing_whole(
    api, wsgi_app, monkeypatch
):
    answer = file_with(api, ("attachment", "坏扫描.jpg", scans.jpeg(form("FL2301003"))))
    monkeypatch.setenv("ARCHIVE_FAULT", "ocr_fail")
    ocr_queue(wsgi_app).drain()
    monkeypatch.delenv("ARCHIVE_FAULT")
    state, reason = states(api, answer["id"])["坏扫描.jpg"]
    assert state == "failed"
    assert reason == "tesseract failed (exit code 1)"
    # The dossier is whole: downloadable, found by its other documents, not read again.
    body = api.get(f"/api/v1/dossiers/{answer['id']}", "archivist").json
    scan = next(d for d in body["documents"] if d["filename"] == "坏扫描.jpg")
    download = api.get(f"/api/v1/dossiers/{answer['id']}/documents/{scan['id']}", "archivist")
    assert download.body == scans.jpeg(form("FL2301003"))
    assert found(api, "扫描件测试") >= {answer["id"]}
    assert ocr_queue(wsgi_app).drain() == 0


def test_a_hanging_ocr_is_killed_at_its_time_limit(api, wsgi_app, monkeypatch):
    from archive_app.search import sandbox

    answer = file_with(api, ("attachment", "挂起.jpg", scans.jpeg(form("HG2301004"))))
    queue = ocr_queue(wsgi_app)
    monkeypatch.setattr(queue, "seconds", 0.5)
    monkeypatch.setattr(sandbox, "OCR_GRACE_SECONDS", 0.5)
    monkeypatch.setenv("ARCHIVE_FAULT", "ocr_hang")
    queue.drain()
    state, reason = states(api, answer["id"])["挂起.jpg"]
    assert (state, reason) == ("failed", "timed out after 1 s")


def test_a_reindex_uses_the_stored_ocr_text_and_never_reads_a_scan_again(
    api, wsgi_app, monkeypatch
):
    answer = file_with(api, ("attachment", "重建.jpg", scans.jpeg(form("RI2301005"))))
    queue = ocr_queue(wsgi_app)
    queue.drain()
    assert found(api, "RI2301005") == {answer["id"]}

    def never(*args, **kwargs):
        raise AssertionError("OCR ran again")

    for sandbox in queue.sandboxes:
        monkeypatch.setattr(sandbox, "ocr", never)
    wsgi_app.registry.getUtility(IIndexer).rebuild()
    assert found(api, "RI2301005") == {answer["id"]}
    assert queue.drain() == 0


def test_a_pending_ocr_left_by_a_crash_is_read_by_the_next_start(api, wsgi_app):
    """The queue is the pending rows: a new process's queue (its start) reads them."""
    from archive_app.search.ocr_queue import OcrQueue
    from archive_app.search.sandbox import ExtractionSandbox

    answer = file_with(api, ("attachment", "崩溃.jpg", scans.jpeg(form("CR2301006"))))
    indexer = wsgi_app.registry.getUtility(IIndexer)
    after_crash = OcrQueue(indexer, [ExtractionSandbox()], indexer.clock, delay=0.0)
    try:
        after_crash.start()
        assert after_crash.flush(timeout=120)
    finally:
        after_crash.close()
    assert states(api, answer["id"])["崩溃.jpg"] == ("ocr_done", None)
    assert found(api, "CR2301006") == {answer["id"]}


def test_two_workers_read_the_pending_scans_between_them(api, wsgi_app):
    from archive_app.search.ocr_queue import OcrQueue
    from archive_app.search.sandbox import ExtractionSandbox

    answers = [
        file_with(api, ("attachment", f"双{n}.jpg", scans.jpeg(form(f"TW230100{n}"))))
        for n in range(3)
    ]
    indexer = wsgi_app.registry.getUtility(IIndexer)
    pair = OcrQueue(indexer, [ExtractionSandbox(), ExtractionSandbox()], indexer.clock,
                    background=False)  # fmt: skip
    try:
        assert pair.drain() >= 3
        assert all(sandbox.child_pid() for sandbox in pair.sandboxes)  # both worked
    finally:
        pair.close()
    for n, answer in enumerate(answers):
        assert found(api, f"TW230100{n}") == {answer["id"]}


def test_the_dossier_page_shows_each_documents_text_state(api, wsgi_app):
    answer = file_with(api, ("attachment", "页面.jpg", scans.jpeg(form("PG2301008"))))
    page = api.get(f"/dossiers/{answer['id']}", "archivist").text  # Chinese by default
    assert 'data-state="ocr_pending">待文字识别<' in page
    assert 'data-state="extracted">已提取文本<' in page
    ocr_queue(wsgi_app).drain()
    page = api.get(f"/dossiers/{answer['id']}", "archivist").text
    assert 'data-state="ocr_done">已文字识别<' in page
    assert "ocr_done<" not in page  # the code itself never shown


def test_with_the_background_thread_a_filing_answers_while_a_scan_is_being_read(
    api, wsgi_app, monkeypatch
):
    from archive_app.search.ocr_queue import OcrQueue
    from archive_app.search.sandbox import ExtractionSandbox

    indexer = wsgi_app.registry.getUtility(IIndexer)
    background = OcrQueue(indexer, [ExtractionSandbox()], indexer.clock, seconds=8.0,
                          delay=0.0)  # fmt: skip
    monkeypatch.setattr(indexer, "ocr_requested", background.request)
    monkeypatch.setenv("ARCHIVE_FAULT", "ocr_hang")  # every scan takes its whole time limit
    background.start()
    try:
        first = file_with(api, ("attachment", "后台一.jpg", scans.jpeg(form("BG2301001"))))
        started = time.monotonic()
        second = file_with(api, ("attachment", "后台二.jpg", scans.jpeg(form("BG2301002"))))
        assert time.monotonic() - started < 8.0  # not behind the first scan's OCR
        assert states(api, second["id"])["后台二.jpg"] == ("ocr_pending", None)
        assert background.flush(timeout=120)
    finally:
        background.close()
    assert states(api, first["id"])["后台一.jpg"][0] == "failed"


def test_ocr_finishing_after_the_document_is_destroyed_stores_nothing(api, wsgi_app):
    from sqlalchemy import select

    from archive_app.interfaces import IDatabase
    from archive_app.records import derived
    from archive_app.records.models import DocumentText

    answer = file_with(api, ("attachment", "已销毁.jpg", scans.jpeg(form("DS2301001"))))
    body = api.get(f"/api/v1/dossiers/{answer['id']}", "archivist").json
    scan = next(d["id"] for d in body["documents"] if d["filename"] == "已销毁.jpg")
    queue = ocr_queue(wsgi_app)
    database = wsgi_app.registry.getUtility(IDatabase)
    erase = queue.store  # the destruction (retention's erase) lands while OCR reads

    def destroyed_meanwhile(document_id, data_key, text):
        if document_id == scan:
            with database.write() as session, session.begin():
                derived.erase_derived_text(session, [scan])
        return erase(document_id, data_key, text)

    queue.store = destroyed_meanwhile
    try:
        queue.drain()
    finally:
        del queue.store
    with database.read() as session:
        assert session.scalars(select(DocumentText).where(DocumentText.document_id == scan)
                               ).first() is None  # fmt: skip
