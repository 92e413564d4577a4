"""Content decides the media type; names that contradict content are refused; names cleaned."""

from __future__ import annotations

import io
import unicodedata
import wave
import zipfile
from pathlib import Path

import pytest
from factories import docx, eml, jpeg, pdf, png, xlsx
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from archive_app.records.media import (
    DOCX,
    XLSX,
    EmptyFile,
    MediaRejected,
    clean_filename,
    detect_media_type,
)  # fmt: skip


def write(tmp_path: Path, content: bytes, name: str = "file") -> Path:
    path = tmp_path / "upload.bin"
    path.write_bytes(content)
    return path


def tiff() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 10, 10)).save(buffer, format="TIFF")
    return buffer.getvalue()


def wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(b"\0\1" * 8000)
    return buffer.getvalue()


def reordered(package: bytes, content_types_last: bool = True, patch=None) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(package))
    names = source.namelist()
    if content_types_last:
        names = [n for n in names if n != "[Content_Types].xml"] + ["[Content_Types].xml"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for name in names:
            data = source.read(name)
            if patch and name == "[Content_Types].xml":
                data = patch(data)
            target.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("maker", "name", "expected"),
    [
        (pdf, "a.pdf", "application/pdf"),
        (docx, "a.docx", DOCX),
        (xlsx, "a.xlsx", XLSX),
        (jpeg, "a.jpg", "image/jpeg"),
        (png, "a.png", "image/png"),
        (tiff, "a.tiff", "image/tiff"),
        (wav, "call.wav", "audio/wav"),
        (eml, "mail.eml", "message/rfc822"),
        (lambda: "客户来电记录：胶囊破损。".encode(), "call.txt", "text/plain"),
        (lambda: "客户来电记录：胶囊破损。".encode("gb18030"), "call.txt", "text/plain"),
        (pdf, "no-extension", "application/pdf"),
    ],
)
def test_allowed_content(tmp_path, maker, name, expected):
    assert detect_media_type(write(tmp_path, maker()), name) == expected


def test_ooxml_with_members_in_an_unusual_order(tmp_path):
    assert detect_media_type(write(tmp_path, reordered(docx())), "a.docx") == DOCX
    assert detect_media_type(write(tmp_path, reordered(xlsx())), "a.xlsx") == XLSX


def test_macro_enabled_document_is_refused(tmp_path):
    def to_macro(data: bytes) -> bytes:
        return data.replace(b"document.main+xml", b"document.macroEnabled.main+xml")

    with pytest.raises(MediaRejected):
        detect_media_type(write(tmp_path, reordered(docx(), patch=to_macro)), "a.docx")


def test_plain_zip_is_refused(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(MediaRejected):
        detect_media_type(write(tmp_path, buffer.getvalue()), "a.docx")


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (Path("/bin/ls").read_bytes()[:65536], "report.pdf"),
        (b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", "report.pdf"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "x.svg"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "x.png"),
        (None, "photo.pdf"),
        (b"just some words", "report.html"),
    ],
)
def test_refused_content(tmp_path, content, name):
    with pytest.raises(MediaRejected) as refused:
        detect_media_type(write(tmp_path, content if content is not None else jpeg()), name)
    assert refused.value.detail


def test_empty_file(tmp_path):
    with pytest.raises(EmptyFile):
        detect_media_type(write(tmp_path, b""), "a.pdf")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\报告.pdf", "报告.pdf"),
        ("a\x00b\r\nc.pdf", "abc.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("cafe\u0301.pdf", "café.pdf"),
        ("..", "unnamed"),
        ("", "unnamed"),
        (None, "unnamed"),
        (".htaccess", "htaccess"),
    ],
)
def test_clean_filename(raw, expected):
    assert clean_filename(raw) == expected


def test_long_names_are_capped_keeping_the_extension():
    name = clean_filename("报" * 4096 + ".pdf")
    assert name.endswith(".pdf") and len(name.encode("utf-8")) <= 255


@given(st.text(max_size=600))
def test_clean_filename_properties(raw):
    name = clean_filename(raw)
    assert name and len(name.encode("utf-8")) <= 255
    assert "/" not in name and "\\" not in name
    assert all(unicodedata.category(ch) not in {"Cc", "Cf"} for ch in name)
    assert unicodedata.is_normalized("NFC", name)


def test_removing_an_invisible_character_still_gives_nfc():
    assert clean_filename("e\u200b\u0301.pdf") == "\u00e9.pdf"
