"""Real document bytes for the demo archive and the tests: PDF, DOCX, XLSX, JPEG, PNG, EML."""

from __future__ import annotations

import hashlib
import io
import random
import re
import zipfile
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

import docx
import openpyxl
from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from ..fonts import pdf_cjk_font

FIXED_TIME = datetime(2024, 1, 1)


def make_pdf(title: str, paragraphs: list[str]) -> bytes:

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    font = pdf_cjk_font()
    width, height = A4
    page.setTitle(title)
    page.setFont(font, 16)
    page.drawString(56, height - 72, title)
    page.setFont(font, 11)
    y = height - 110
    for paragraph in paragraphs:
        for start in range(0, len(paragraph), 40):
            if y < 60:
                page.showPage()
                page.setFont(font, 11)
                y = height - 72
            page.drawString(56, y, paragraph[start : start + 40])
            y -= 18
        y -= 6
    page.save()
    return buffer.getvalue()


def _deterministic_zip(data: bytes) -> bytes:
    """The same OOXML package with fixed member times and a fixed modified date, so that
    generating a document twice gives the same bytes (and the same SHA-256)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2024-01-01T00:00:00Z", content
                )
            target.writestr(
                zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6]),
                content,
                zipfile.ZIP_DEFLATED,
            )
    return buffer.getvalue()


def make_docx(title: str, paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:

    document = docx.Document()
    document.core_properties.created = FIXED_TIME
    document.core_properties.modified = FIXED_TIME
    document.add_heading(title, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=max(len(row) for row in table))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = str(value)
    buffer = io.BytesIO()
    document.save(buffer)
    return _deterministic_zip(buffer.getvalue())


def make_xlsx(sheet_title: str, rows: list[list]) -> bytes:

    workbook = openpyxl.Workbook()
    workbook.properties.created = FIXED_TIME
    workbook.properties.modified = FIXED_TIME
    sheet = workbook.active
    sheet.title = sheet_title[:31]
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _deterministic_zip(buffer.getvalue())


def _picture(label: str, size: tuple[int, int], seed: int):

    rng = random.Random(seed)
    image = Image.new("RGB", size, (rng.randint(180, 240), rng.randint(180, 240), 220))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randint(0, size[0]), rng.randint(0, size[1])
        colour = tuple(rng.randint(40, 200) for _ in range(3))
        draw.rectangle([x, y, x + rng.randint(20, 160), y + rng.randint(20, 120)], fill=colour)
    draw.text((20, 20), label.encode("ascii", "replace").decode(), fill=(0, 0, 0))
    return image


def make_jpeg(label: str, size: tuple[int, int] = (640, 480), seed: int = 0) -> bytes:
    buffer = io.BytesIO()
    _picture(label, size, seed).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def make_png(label: str, size: tuple[int, int] = (480, 360), seed: int = 0) -> bytes:
    buffer = io.BytesIO()
    _picture(label, size, seed).save(buffer, format="PNG")
    return buffer.getvalue()


def make_eml(subject: str, sender: str, recipient: str, body: str, date: datetime) -> bytes:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = format_datetime(date)
    message["Message-ID"] = (
        f"<{hashlib.sha256((subject + sender).encode()).hexdigest()[:16]}@demo.invalid>"
    )
    message.set_content(body, charset="utf-8")
    return bytes(message)


def make_text(text: str) -> bytes:
    return text.encode("utf-8")
