"""Word and Excel, new and old: DOCX by its XML parts (the body, headers, footers, footnotes,
endnotes and comments: python-docx reads the body only), XLSX by openpyxl, every sheet; old
binary `.doc` by antiword (Debian), `.xls` by xlrd."""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

MAX_CELLS = 50_000
# Read at most this much of one XML part (the filing already refused zip bombs, media.py).
MAX_PART_BYTES = 64 * 1024 * 1024
# The parts of a Word document that hold text people wrote, in reading order.
DOCX_PARTS = re.compile(r"word/(document|header\d*|footer\d*|footnotes|endnotes|comments)\.xml")
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
ANTIWORD_SECONDS = 60


def _docx_part_order(name: str) -> tuple[int, str]:
    order = ("word/document", "word/header", "word/footer", "word/footnotes", "word/endnotes",
             "word/comments")  # fmt: skip
    return next((i for i, prefix in enumerate(order) if name.startswith(prefix)), 9), name


def _paragraphs(handle):
    """Each paragraph's text (`w:t` runs, tabs and breaks) of one WordprocessingML part."""
    from lxml import etree

    for _event, paragraph in etree.iterparse(handle, tag=f"{W}p", resolve_entities=False,
                                             no_network=True, huge_tree=False):  # fmt: skip
        pieces = []
        for node in paragraph.iter(f"{W}t", f"{W}tab", f"{W}br", f"{W}cr"):
            pieces.append(node.text or "" if node.tag == f"{W}t" else
                          "\t" if node.tag == f"{W}tab" else "\n")  # fmt: skip
        yield "".join(pieces)
        paragraph.clear()


def read_docx(path: Path, max_chars: int):
    parts, total = [], 0
    with zipfile.ZipFile(path) as archive:
        names = sorted((n for n in archive.namelist() if DOCX_PARTS.fullmatch(n)),
                       key=_docx_part_order)  # fmt: skip
        for name in names:
            if archive.getinfo(name).file_size > MAX_PART_BYTES:
                return "\n".join(parts), False
            with archive.open(name) as handle:
                for text in _paragraphs(handle):
                    parts.append(text)
                    total += len(text) + 1
                    if total > max_chars:
                        return "\n".join(parts), False
    return "\n".join(parts), True


def read_xlsx(path: Path, max_chars: int):
    import openpyxl

    with open(path, "rb") as handle:  # a file object: openpyxl judges file names by extension
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        try:
            rows = (
                row for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)
            )
            return cells_text(rows, [sheet.title for sheet in workbook.worksheets])
        finally:
            workbook.close()


def read_xls(path: Path, max_chars: int):
    import xlrd

    book = xlrd.open_workbook(str(path), on_demand=True, formatting_info=False)
    try:

        def rows():
            for index in range(book.nsheets):
                sheet = book.sheet_by_index(index)
                for number in range(sheet.nrows):
                    yield sheet.row_values(number)
                book.unload_sheet(index)

        return cells_text(rows(), book.sheet_names())
    finally:
        book.release_resources()


def cells_text(rows, sheet_names: list[str]):
    """Every sheet's name and non-empty cells, in order, up to MAX_CELLS cells."""
    parts, cells = list(sheet_names), 0
    for row in rows:
        for value in row:
            cells += 1
            if cells > MAX_CELLS:
                return " ".join(parts), False
            if value is not None and value != "":
                parts.append(str(value))
    return " ".join(parts), True


def read_doc(path: Path, max_chars: int):
    """antiword: Word 97-2003 text as UTF-8 (its Chinese is right where catdoc's is not)."""
    done = subprocess.run(
        ["antiword", "-m", "UTF-8.txt", "-w", "0", str(path)],
        capture_output=True, timeout=ANTIWORD_SECONDS, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if done.returncode != 0:
        raise ValueError("antiword could not read the document")  # its message may quote it
    return done.stdout.decode("utf-8", "replace"), True
