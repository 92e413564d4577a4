"""A first-page preview of a PDF, a thumbnail of an image: a small PNG, made in the sandbox
child (sandbox.py) like a document's text, bounded in time and memory there and in pixels here.

PDFs are drawn by PDFium (pypdfium2, the engine of Chromium's viewer), images by Pillow.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

# The preview's longer side in pixels: legible on the dossier page, a few tens of KB.
PREVIEW_SIZE = 480
# A scan of more than this many pixels is refused rather than decoded (a decompression bomb
# would fill the child's memory before its limit could be felt).
MAX_SOURCE_PIXELS = 80_000_000


@dataclass(frozen=True)
class Rendered:
    png: bytes | None
    reason: str | None = None


def _pdf(path: Path):
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        if len(document) == 0:
            return None
        page = document[0]
        width, height = page.get_size()  # in points
        scale = PREVIEW_SIZE / max(width, height, 1)
        return page.render(scale=scale).to_pil()
    finally:
        document.close()


def _image(path: Path):
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_SOURCE_PIXELS  # larger: Image.DecompressionBombError
    image = Image.open(path)
    image.draft("RGB", (PREVIEW_SIZE, PREVIEW_SIZE))  # JPEG: decode at a fraction of the size
    image.seek(0)  # a multi-page TIFF: its first page
    image.thumbnail((PREVIEW_SIZE, PREVIEW_SIZE))
    return image


RENDERERS: Mapping[str, Callable] = {
    "application/pdf": _pdf,
    "image/jpeg": _image,
    "image/png": _image,
    "image/tiff": _image,
}


def render_preview(path: Path, media_type: str, *,
                   renderers: Mapping[str, Callable] | None = None) -> Rendered:  # fmt: skip
    """The PNG preview of the file, or why there is none (`renderers`: fault injection)."""
    renderer = (RENDERERS if renderers is None else renderers).get(media_type)
    if renderer is None:
        return Rendered(None, "no preview for this kind of file")
    try:
        image = renderer(Path(path))
        if image is None:
            return Rendered(None, "the document has no page")
        if image.mode not in ("RGB", "RGBA", "L", "LA"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
        return Rendered(out.getvalue())
    except MemoryError:
        return Rendered(None, "MemoryError: needs more memory than the limit")
    except Exception as error:  # the type alone: a parser's message may quote the document
        return Rendered(None, f"{type(error).__name__}: the file could not be drawn")
