"""PDF text by PDFium (pypdfium2): the engine of Chromium's viewer. Measured on the real
corpus against pypdf and poppler's pdftotext (bench/extraction.py): it keeps the spaces
between words that pypdf loses ("Additionalpin renames"), finds 99.5 % of pdftotext's words,
and reads the corpus 14 times faster than pypdf."""

from __future__ import annotations

from pathlib import Path

MAX_PAGES = 300


def read_pdf(path: Path, max_chars: int):
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))  # an owner password only: opened as viewers do
    try:
        parts, total = [], 0
        for number in range(len(document)):
            if number >= MAX_PAGES or total > max_chars:
                return "\n".join(parts), False
            page = document[number]
            textpage = page.get_textpage()
            try:
                text = textpage.get_text_bounded()
            finally:
                textpage.close()
                page.close()
            parts.append(text)
            total += len(text)
        return "\n".join(parts), True
    finally:
        document.close()


def pages_without_text(path: Path, max_pages: int = MAX_PAGES) -> list[int]:
    """The page numbers (from 0) with no text layer: scans, for OCR."""
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        empty = []
        for number in range(min(len(document), max_pages)):
            page = document[number]
            textpage = page.get_textpage()
            try:
                if not textpage.get_text_bounded().strip():
                    empty.append(number)
            finally:
                textpage.close()
                page.close()
        return empty
    finally:
        document.close()
