"""OCR of scans and photos (#14 item 1): images and PDF pages without text are left
`ocr_pending` by the filing's indexing, read by the OCR queue (testing.ini: no thread of its
own, the tests drain it), stored sealed, and their dossier found by what they say."""

from __future__ import annotations

import os
import threading
import time
from types import SimpleNamespace
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


# The form's box ends 570 px down its A4 page (scans.scanned_page), 640 with its skew: the
# blank rest of the page only costs Tesseract time (a quarter of each read) and reads nothing.
FORM_HEIGHT = 640


def form(batch_no: str, product: str = "阿莫西林胶囊", rotate: int = 0, **kw):
    """A scanned registration form cut to its box, then turned by `rotate` degrees as
    scans.scanned_page turns a page fed sideways."""
    page = scans.scanned_page(scans.registration_form_lines(batch_no, product), **kw)
    page = page.crop((0, 0, page.width, FORM_HEIGHT))
    return page.rotate(rotate, expand=True) if rotate else page


@pytest.fixture(scope="module")
def read_form(search_backend, wsgi_app, tokens):
    """One scanned form filed, then read by the queue's drain: what the API, the search and
    the dossier page said just after the filing and after OCR. The tests of those (and the
    reindex's) share its one OCR; none of them changes the dossier."""
    import webtest
    from conftest import Api

    if search_backend != "whoosh":  # module fixtures run before whoosh_backend_only skips
        pytest.skip("data fixed per session, over the backends' shared database: on Whoosh")
    api = Api(webtest.TestApp(wsgi_app, extra_environ={"REMOTE_ADDR": "192.0.2.10"}), tokens)
    scan = ("attachment", "登记表扫描.jpg", scans.jpeg(form("OC2301007", "蒲地蓝消炎片")))
    answer = file_with(api, scan)

    def seen():
        return SimpleNamespace(
            states=states(api, answer["id"]),
            by_batch=found(api, "OC2301007"),
            by_product=found(api, "蒲地蓝消炎片"),
            page=api.get(f"/dossiers/{answer['id']}", "archivist").text,  # Chinese by default
        )

    filed = seen()
    read = ocr_queue(wsgi_app).drain()
    return SimpleNamespace(id=answer["id"], filed=filed, read=read, after=seen())


def test_a_scanned_form_is_pending_after_filing_then_found_by_its_chinese_and_batch_number(
    read_form,
):
    # The filing answered before OCR ran: the scan is pending, its words not found yet.
    assert read_form.filed.states["登记表扫描.jpg"] == ("ocr_pending", None)
    assert read_form.filed.states["投诉客户信息登记表.pdf"] == ("extracted", None)
    assert read_form.filed.by_batch == set()
    assert read_form.read >= 1
    assert read_form.after.states["登记表扫描.jpg"] == ("ocr_done", None)
    assert read_form.after.by_batch == {read_form.id}
    assert read_form.after.by_product >= {read_form.id}


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
    monkeypatch.setattr(queue, "seconds", 0.25)
    monkeypatch.setattr(sandbox, "OCR_GRACE_SECONDS", 0.25)
    monkeypatch.setenv("ARCHIVE_FAULT", "ocr_hang")
    queue.drain()
    state, reason = states(api, answer["id"])["挂起.jpg"]
    assert (state, reason) == ("failed", "timed out after 0.5 s")


def test_a_reindex_uses_the_stored_ocr_text_and_never_reads_a_scan_again(
    api, wsgi_app, monkeypatch, read_form
):
    queue = ocr_queue(wsgi_app)
    assert found(api, "OC2301007") == {read_form.id}  # read once, by the drain

    def never(*args, **kwargs):
        raise AssertionError("OCR ran again")

    for sandbox in queue.sandboxes:
        monkeypatch.setattr(sandbox, "ocr", never)
    wsgi_app.registry.getUtility(IIndexer).rebuild()
    assert found(api, "OC2301007") == {read_form.id}
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

    # Two scans are enough: each takes the next free worker, so the second takes the
    # sandbox the first did not, whichever finishes first.
    answers = [
        file_with(api, ("attachment", f"双{n}.jpg", scans.jpeg(form(f"TW230100{n}"))))
        for n in range(2)
    ]
    indexer = wsgi_app.registry.getUtility(IIndexer)
    pair = OcrQueue(indexer, [ExtractionSandbox(), ExtractionSandbox()], indexer.clock,
                    background=False)  # fmt: skip
    try:
        assert pair.drain() >= 2
        assert all(sandbox.child_pid() for sandbox in pair.sandboxes)  # both worked
    finally:
        pair.close()
    for n, answer in enumerate(answers):
        assert found(api, f"TW230100{n}") == {answer["id"]}


def test_the_dossier_page_shows_each_documents_text_state(read_form):
    page = read_form.filed.page
    assert 'data-state="ocr_pending">待文字识别<' in page
    assert 'data-state="extracted">已提取文本<' in page
    page = read_form.after.page
    assert 'data-state="ocr_done">已文字识别<' in page
    assert "ocr_done<" not in page  # the code itself never shown


def test_with_the_background_thread_a_filing_answers_while_a_scan_is_being_read(
    api, wsgi_app, monkeypatch
):
    from archive_app.search import sandbox
    from archive_app.search.ocr_queue import OcrQueue
    from archive_app.search.sandbox import FAULT_VARIABLE, ExtractionSandbox

    ocr_queue(wsgi_app).drain()  # nothing another test left pending: the first scan read is ours
    indexer = wsgi_app.registry.getUtility(IIndexer)
    limit = 3.0  # the first scan holds the one worker this long, then the grace: 3.5 s
    monkeypatch.setattr(sandbox, "OCR_GRACE_SECONDS", 0.5)
    monkeypatch.delenv(FAULT_VARIABLE, raising=False)  # and restored after the test
    worker = ExtractionSandbox()
    reading, read = threading.Event(), threading.Event()  # the first scan's OCR
    ocr = worker.ocr

    def the_first_hangs(*args):
        """The first scan's OCR hangs (ocr_hang) until it is killed; the next are read."""
        if reading.is_set():
            return ocr(*args)
        os.environ[FAULT_VARIABLE] = "ocr_hang"  # read by the sandbox in this thread
        reading.set()
        try:
            return ocr(*args)
        finally:
            del os.environ[FAULT_VARIABLE]
            read.set()

    worker.ocr = the_first_hangs
    background = OcrQueue(indexer, [worker], indexer.clock, seconds=limit, delay=0.0)
    monkeypatch.setattr(indexer, "ocr_requested", background.request)
    background.start()
    try:
        first = file_with(api, ("attachment", "后台一.jpg", scans.jpeg(form("BG2301001"))))
        assert reading.wait(60)  # the background thread is reading the first scan
        started = time.monotonic()
        second = file_with(api, ("attachment", "后台二.jpg", scans.jpeg(form("BG2301002"))))
        assert time.monotonic() - started < limit  # not behind the first scan's OCR
        assert not read.is_set()  # answered while the first scan held the only worker
        assert states(api, second["id"])["后台二.jpg"] == ("ocr_pending", None)
        assert background.flush(timeout=120)
    finally:
        background.close()
    assert states(api, first["id"])["后台一.jpg"] == ("failed", "timed out after 3.5 s")
    # The worker's next child read the scan that waited behind the killed one.
    assert states(api, second["id"])["后台二.jpg"] == ("ocr_done", None)
    assert found(api, "BG2301002") == {second["id"]}


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
