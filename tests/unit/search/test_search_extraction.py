"""Text extraction for the index, from real documents; malformed ones marked incomplete."""

from __future__ import annotations

from datetime import datetime

import pytest

from archive_app.demo import documents
from archive_app.records.media import DOCX, XLSX
from archive_app.search.extraction import extract_text


@pytest.mark.parametrize(
    ("content", "media_type", "expected"),
    [
        (documents.make_pdf("调查报告", ["溶出度不合格 TS-I-23-001"]), "application/pdf", "溶出度"),
        (documents.make_docx("处理单", ["退货处理"], [["批号", "20230512"]]), DOCX, "20230512"),
        (documents.make_xlsx("检验数据", [["项目", "结果"], ["溶出度", "62%"]]), XLSX, "62%"),
        (documents.make_eml("关于投诉", "a@example.com", "b@example.com", "胶囊破损",
                            datetime(2023, 1, 1)), "message/rfc822", "胶囊破损"),
        ("客户来电：胶囊破损".encode("gb18030"), "text/plain", "胶囊破损"),
        ("客户来电：胶囊破损".encode(), "text/plain", "胶囊破损"),
    ],
)  # fmt: skip
def test_text_of_real_documents(tmp_path, content, media_type, expected):
    path = tmp_path / "document"
    path.write_bytes(content)
    extraction = extract_text(path, media_type)
    assert extraction.complete and expected in extraction.text


def test_malformed_pdf_is_incomplete_not_an_error(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 100)
    extraction = extract_text(path, "application/pdf")
    assert extraction.complete is False and extraction.reason


def test_images_have_no_text(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(documents.make_jpeg("x"))
    assert extract_text(path, "image/jpeg").text == ""


def test_text_is_capped(tmp_path):
    path = tmp_path / "long.txt"
    path.write_bytes(("字" * 1000).encode())
    extraction = extract_text(path, "text/plain", max_chars=100)
    assert len(extraction.text) == 100 and extraction.complete is False
