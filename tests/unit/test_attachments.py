"""A file the archive makes for its reader (`archive_app/attachments.py`): an attachment under
the archive's name, built whole or streamed, kept from caches where it says so."""

from __future__ import annotations

from archive_app.attachments import attachment

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_a_whole_body_is_an_attachment_with_its_length():
    response = attachment("review-2024Q1-7.pdf", "application/pdf", body=b"%PDF-1.7")
    assert response.headers["Content-Disposition"] == 'attachment; filename="review-2024Q1-7.pdf"'
    assert response.content_type == "application/pdf" and response.charset is None
    assert response.content_length == 8 and response.body == b"%PDF-1.7"
    assert "Cache-Control" not in response.headers


def test_a_stream_is_sent_as_it_comes_and_kept_from_caches_on_request():
    def rows():
        yield b"seq,at\n"
        yield b"1,2026-12-01\n"

    response = attachment("access-log.csv", "text/csv", app_iter=rows(), charset="utf-8",
                          no_store=True)  # fmt: skip
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content_length is None  # not the empty body's 0: the stream is whole
    assert b"".join(response.app_iter) == b"seq,at\n1,2026-12-01\n"
    assert response.headers["Cache-Control"] == "no-store"


def test_a_workbook_has_no_charset():
    response = attachment("search.xlsx", XLSX, body=b"PK\x03\x04")
    assert response.headers["Content-Type"] == XLSX
