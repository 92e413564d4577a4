"""The OCR reader's own bounds (readers/ocr.py): pages per document and time per document,
each said in the reason; a page turned upside down is read upright."""

from __future__ import annotations

from archive_app.demo import scans
from archive_app.search.readers.ocr import ocr_document


def page(batch_no: str, **kw):
    return scans.scanned_page(scans.registration_form_lines(batch_no, "板蓝根颗粒"), **kw)


def test_a_tiff_is_read_up_to_the_page_limit_and_says_so(tmp_path):
    path = tmp_path / "fax.tif"
    path.write_bytes(scans.tiff([page("LM0000001"), page("LM0000002"), page("LM0000003")]))
    result = ocr_document(path, "image/tiff", 2, 120)
    assert result.pages == 2
    assert "LM0000001" in result.text and "LM0000002" in result.text
    assert "LM0000003" not in result.text
    assert result.reason == "OCR stopped at its page limit (2 pages)"


def test_the_time_limit_stops_the_reading_and_says_so(tmp_path):
    path = tmp_path / "slow.png"
    path.write_bytes(scans.png(page("TL0000001")))
    result = ocr_document(path, "image/png", 20, 0.01)
    assert result.text == ""
    assert result.reason.startswith("OCR stopped at its time limit (0.01 s) after 0 pages")


def test_an_upside_down_photo_of_a_form_is_read(tmp_path):
    path = tmp_path / "upside-down.jpg"
    path.write_bytes(scans.jpeg(page("UD0000001", rotate=180)))
    assert "UD0000001" in ocr_document(path, "image/jpeg", 20, 120).text
