"""Text of a document for the index: PDF, DOCX, XLSX, e-mail and plain text, bounded.

Bounded in size (pages, cells, characters) so that a 10,000-page or malformed file is filed
with its text marked incomplete instead of stalling filing; `sandbox.py` runs this in a child
process bounded in time and memory too. Images and audio have no text.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

MAX_CHARS = 200_000
MAX_PAGES = 300
MAX_CELLS = 50_000


@dataclass(frozen=True)
class Extraction:
    text: str
    complete: bool
    reason: str | None = None


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
    return Extraction(text, complete, None if complete else "stopped at the page limit")


def _pdf(path: Path, max_chars: int):
    # Each reader imports its library with its first file (here and below): the sandbox child
    # starts quickly, and a process that never reads a PDF never loads pypdf.
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    parts, total = [], 0
    for number, page in enumerate(reader.pages):
        if number >= MAX_PAGES or total > max_chars:
            return "\n".join(parts), False
        text = page.extract_text() or ""
        parts.append(text)
        total += len(text)
    return "\n".join(parts), True


def _docx(path: Path, max_chars: int):
    import docx

    document = docx.Document(str(path))
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts), True


def _xlsx(path: Path, max_chars: int):
    import openpyxl

    with open(path, "rb") as handle:  # a file object: openpyxl judges file names by extension
        return _cells(openpyxl.load_workbook(handle, read_only=True, data_only=True))


def _cells(workbook):
    parts, cells = [], 0
    try:
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows(values_only=True):
                for value in row:
                    cells += 1
                    if cells > MAX_CELLS:
                        return " ".join(parts), False
                    if value is not None:
                        parts.append(str(value))
    finally:
        workbook.close()
    return " ".join(parts), True


def _eml(path: Path, max_chars: int):
    with open(path, "rb") as handle:
        message = email.message_from_binary_file(handle, policy=email.policy.default)
    parts = [str(message.get("subject", ""))]
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            parts.append(part.get_content())
    return "\n".join(parts), True


def _text(path: Path, max_chars: int):
    from charset_normalizer import from_bytes

    with open(path, "rb") as handle:
        data = handle.read(max_chars * 4)
    # A Chinese archive: UTF-8, then GB18030 (which covers GBK and GB2312), and only then a
    # guess (short texts fool detectors: GB18030 bytes read as Korean, for instance).
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), True
        except UnicodeDecodeError:
            continue
    best = from_bytes(data).best()
    return (str(best) if best is not None else data.decode("utf-8", "replace")), True


READERS = {
    "application/pdf": _pdf,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _docx,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _xlsx,
    "message/rfc822": _eml,
    "text/plain": _text,
}
