"""Text of scans and photos by OCR: Tesseract (Debian's `tesseract-ocr`, languages
`chi_sim+eng`) on images (JPEG, PNG, every page of a TIFF) and on the PDF pages that have no
text layer, drawn by PDFium at 300 dpi as thumbnails.py draws a preview.

Runs in the sandbox child (sandbox.py, task "ocr"): Tesseract is its subprocess, so it
inherits the child's memory limit, and each call is bounded by what is left of the
document's own time limit. Orientation: Tesseract's OSD (`--psm 0`) says how far a page is
turned (a page fed sideways, a photo upside down); a page too sparse for OSD is read as it is.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .pdf import pages_without_text

LANGUAGES = "chi_sim+eng"
PDF_DPI = 300
# A photo larger than this on its longer side is reduced first: Tesseract reads text of a
# few tens of pixels best, and a 48-megapixel photo would only cost time and memory.
MAX_SIDE = 4000
MAX_SOURCE_PIXELS = 80_000_000  # as thumbnails.py: a decompression bomb is refused
IMAGE_TYPES = ("image/jpeg", "image/png", "image/tiff")
OCR_TYPES = (*IMAGE_TYPES, "application/pdf")
# Tesseract's own threads: one per page read, so that N workers use N cores and no more.
_ENVIRONMENT = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OMP_THREAD_LIMIT": "1"}
# Chinese read by Tesseract may come out with a space between characters: gone, so that a
# word search finds "阿莫西林" and not only "阿 莫 西 林".
_CJK = "\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_CJK_GAP = re.compile(f"(?<=[{_CJK}]) +(?=[{_CJK}])")


@dataclass(frozen=True)
class OcrResult:
    text: str
    pages: int  # pages read
    reason: str | None = None  # why it stopped short (a limit) or failed


class OcrTimeout(Exception):
    pass


def ocr_document(path: Path, media_type: str, max_pages: int, seconds: float) -> OcrResult:
    """The OCR text of the file's scanned pages (every page of an image, the pages of a
    PDF without text), at most `max_pages` of them and within `seconds`."""
    deadline = time.monotonic() + seconds
    texts: list[str] = []
    pages = (
        _pdf_pages(path, max_pages)
        if media_type == "application/pdf"
        else _image_pages(path, max_pages)
    )
    reason = None
    try:
        for page in pages:
            texts.append(read_page(page, deadline))
    except OcrTimeout:
        reason = f"OCR stopped at its time limit ({seconds:g} s) after {len(texts)} pages"
    if reason is None and getattr(pages, "truncated", False):
        reason = f"OCR stopped at its page limit ({max_pages} pages)"
    return OcrResult("\n".join(text for text in texts if text), len(texts), reason)


class _Pages:
    """Page images one at a time (a 20-page TIFF is never held whole), and whether there
    were more than the page limit."""

    def __init__(self, generate):
        self.truncated = False
        self._generate = generate

    def __iter__(self):
        return self._generate(self)


def _image_pages(path: Path, max_pages: int) -> _Pages:
    from PIL import Image, ImageSequence

    Image.MAX_IMAGE_PIXELS = MAX_SOURCE_PIXELS

    def generate(state):
        with Image.open(path) as image:
            for number, frame in enumerate(ImageSequence.Iterator(image)):
                if number >= max_pages:
                    state.truncated = True
                    return
                yield frame.copy()

    return _Pages(generate)


def _pdf_pages(path: Path, max_pages: int) -> _Pages:
    import pypdfium2

    def generate(state):
        empty = pages_without_text(path)
        if len(empty) > max_pages:
            state.truncated, empty = True, empty[:max_pages]
        document = pypdfium2.PdfDocument(str(path))
        try:
            for number in empty:
                page = document[number]
                try:
                    yield page.render(scale=PDF_DPI / 72, grayscale=True).to_pil()
                finally:
                    page.close()
        finally:
            document.close()

    return _Pages(generate)


def read_page(image, deadline: float) -> str:
    """One page's text, turned upright first if OSD finds it turned."""
    image = _prepared(image)
    data = _png(image)
    turned = _orientation(data, deadline)
    if turned:
        # Tesseract says how far to turn it clockwise; Pillow turns anticlockwise.
        data = _png(image.rotate(-turned, expand=True))
    text = _tesseract(data, ["-l", LANGUAGES, "--psm", "3"], deadline)
    return _CJK_GAP.sub("", text).strip()


def _prepared(image):
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    return image


def _png(image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)  # piped to Tesseract: speed over size
    return out.getvalue()


_ROTATE = re.compile(r"^Rotate:\s*(\d+)", re.MULTILINE)
_CONFIDENCE = re.compile(r"^Orientation confidence:\s*([\d.]+)", re.MULTILINE)
# Below this, OSD is guessing (a sparse page, a photo): the page is read as it is.
MIN_OSD_CONFIDENCE = 1.0


def _orientation(data: bytes, deadline: float) -> int:
    """Degrees (0, 90, 180, 270) to turn the page clockwise, by OSD; 0 when OSD cannot tell."""
    try:
        report = _tesseract(data, ["--psm", "0"], deadline)
    except subprocess.CalledProcessError:  # "Too few characters": nothing to orient by
        return 0
    turn, confidence = _ROTATE.search(report), _CONFIDENCE.search(report)
    if turn is None or confidence is None or float(confidence.group(1)) < MIN_OSD_CONFIDENCE:
        return 0
    return int(turn.group(1)) % 360


def _tesseract(data: bytes, options: list[str], deadline: float) -> str:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise OcrTimeout()
    try:
        done = subprocess.run(
            ["tesseract", "stdin", "stdout", *options], input=data, capture_output=True,
            timeout=remaining, env=_ENVIRONMENT, check=True,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise OcrTimeout() from None
    return done.stdout.decode("utf-8", "replace")
