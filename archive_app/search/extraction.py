"""Text of a document for the index: PDF, Word and Excel (new and old), e-mail and plain
text, bounded (the readers in `readers/`).

Bounded in size (pages, cells, parts, characters) so that a 10,000-page or malformed file is
filed with the text it has, marked incomplete, instead of stalling filing; `sandbox.py` runs
this in a child process bounded in time and memory too. Images and audio have no text layer
(scans get theirs by OCR).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .readers.mail import read_eml
from .readers.office import read_doc, read_docx, read_xls, read_xlsx
from .readers.pdf import read_pdf
from .readers.text import read_text

# Characters of a document's text indexed (`archive.search.max_text_mb` sets it for the
# server; this is the readers' own default).
MAX_CHARS = 2 * 1024 * 1024


@dataclass(frozen=True)
class Extraction:
    text: str
    complete: bool
    reason: str | None = None
    # Scans to read by OCR: an image, or a PDF with pages without a text layer (readers/ocr.py).
    needs_ocr: bool = False


def extract_text(path: Path, media_type: str, max_chars: int = MAX_CHARS, *,
                 readers: Mapping[str, Callable] | None = None) -> Extraction:  # fmt: skip
    """`readers` replaces the reader per media type (the sandbox's fault injection)."""
    reader = (READERS if readers is None else readers).get(media_type)
    if reader is None:
        return Extraction("", True)
    try:
        text, complete = reader(Path(path), max_chars)
    except MemoryError:  # under the sandbox's memory limit
        return Extraction("", False, "MemoryError: needs more memory than the limit")
    except Exception as error:  # a malformed file: filed all the same, text marked missing
        # The type alone: a parser's message may quote the document (a cell's value), and
        # the reason goes to the server log.
        return Extraction("", False, f"{type(error).__name__}: the file could not be read")
    if len(text) > max_chars:
        return Extraction(text[:max_chars], False, "text longer than the limit")
    return Extraction(
        text, complete, None if complete else "stopped at a limit (pages, cells, parts)"
    )


READERS = {
    "application/pdf": read_pdf,
    "application/msword": read_doc,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": read_docx,
    "application/vnd.ms-excel": read_xls,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": read_xlsx,
    "message/rfc822": read_eml,
    "text/plain": read_text,
}
