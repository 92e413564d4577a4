"""Scanned-looking documents for the demo archive and the tests: a faxed registration form
and a phone photo of a package, drawn with Pillow as a scanner or a phone would leave them
(grey paper, speckles, a slight skew), so that only OCR finds what they say.

Deterministic: the same batch and seed give the same bytes (the demo loads idempotently).
"""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from ..fonts import CJK_FONTS

# A4 at 150 dpi: a fax's resolution, legible to Tesseract at the font sizes below.
PAGE_SIZE = (1240, 1754)


def _font(size: int):
    for path in CJK_FONTS:
        if Path(path).is_file():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def _speckle(image: Image.Image, rng: random.Random, count: int) -> None:
    """Dust and toner specks: single dark and light pixels over the whole page."""
    draw = ImageDraw.Draw(image)
    width, height = image.size
    for _ in range(count):
        x, y = rng.randrange(width), rng.randrange(height)
        shade = rng.choice((rng.randint(0, 90), rng.randint(200, 255)))
        draw.point((x, y), fill=(shade, shade, shade) if image.mode == "RGB" else shade)


def _skewed(image: Image.Image, degrees: float, background) -> Image.Image:
    return image.rotate(degrees, resample=Image.BICUBIC, expand=True, fillcolor=background)


def scanned_page(lines: list[str], seed: int = 0, skew: float | None = None,
                 rotate: int = 0) -> Image.Image:  # fmt: skip
    """A page of text as a flatbed scanner leaves it: grey paper, specks, a skew of under
    two degrees (`skew` to fix it), turned by `rotate` degrees (90, 180: fed sideways)."""
    rng = random.Random(seed)
    paper = rng.randint(225, 240)
    page = Image.new("L", PAGE_SIZE, paper)
    draw = ImageDraw.Draw(page)
    title, body = _font(54), _font(38)
    y = 120
    for number, line in enumerate(lines):
        font = title if number == 0 else body
        draw.text((110, y), line, fill=rng.randint(10, 50), font=font)
        y += 100 if number == 0 else 64
    draw.rectangle([90, 100, PAGE_SIZE[0] - 90, y + 30], outline=40, width=3)  # the form's box
    _speckle(page, rng, 2500)
    page = page.filter(ImageFilter.GaussianBlur(0.6))  # the scanner's optics
    page = _skewed(page, rng.uniform(-1.5, 1.5) if skew is None else skew, paper)
    return page.rotate(rotate, expand=True) if rotate else page


def package_photo(product: str, batch_no: str, seed: int = 0) -> Image.Image:
    """A phone photo of a carton's side: the product's name and its printed batch number
    on a coloured box against a table top, slightly turned and noisy."""
    rng = random.Random(seed)
    photo = Image.new("RGB", (1200, 900), (rng.randint(90, 130), rng.randint(70, 100), 60))
    draw = ImageDraw.Draw(photo)
    box = (rng.randint(240, 255), rng.randint(240, 255), rng.randint(225, 245))
    draw.rectangle([100, 120, 1100, 780], fill=box)
    draw.rectangle([100, 120, 1100, 230], fill=(rng.randint(20, 60), 90, rng.randint(140, 190)))
    draw.text((140, 140), "GMP  OTC", fill=(255, 255, 255), font=_font(60))
    draw.text((140, 300), product, fill=(20, 20, 20), font=_font(80))
    draw.text((140, 480), f"批号：{batch_no}", fill=(30, 30, 30), font=_font(64))
    draw.text((140, 600), "BATCH NO. " + batch_no, fill=(30, 30, 30), font=_font(52))
    _speckle(photo, rng, 4000)
    photo = photo.filter(ImageFilter.GaussianBlur(0.8))
    return _skewed(photo, rng.uniform(-3, 3), (100, 80, 60))


def jpeg(image: Image.Image, quality: int = 75) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def tiff(pages: list[Image.Image]) -> bytes:
    """A multi-page TIFF (a fax's usual container), one page per image."""
    out = io.BytesIO()
    first, *rest = [page.convert("L") for page in pages]
    first.save(out, format="TIFF", save_all=True, append_images=rest, compression="tiff_lzw")
    return out.getvalue()


def image_pdf(pages: list[Image.Image]) -> bytes:
    """A PDF of page images only, with no text layer: what a scanner's "scan to PDF" gives."""
    out = io.BytesIO()
    first, *rest = [page.convert("RGB") for page in pages]
    first.save(out, format="PDF", save_all=True, append_images=rest, resolution=150.0)
    return out.getvalue()


def registration_form_lines(batch_no: str, product: str, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [
        "投诉客户信息登记表",
        f"产品名称：{product}",
        f"产品批号：{batch_no}",
        f"登记日期：2023年{rng.randint(1, 12)}月{rng.randint(1, 28)}日",
        "投诉内容：客户反映包装破损",
        "传真件  FAX COPY",
    ]


def demo_scans(batch_no: str, product: str, seed: int = 0) -> list[tuple[str, str, bytes]]:
    """The scans a demo dossier carries for one batch: (document kind, file name, bytes).
    Attachments: a dossier has one registration form (its PDF); the fax is a copy of it."""
    form = scanned_page(registration_form_lines(batch_no, product, seed), seed=seed)
    return [
        ("attachment", f"登记表扫描件-{batch_no}.jpg", jpeg(form)),
        ("attachment", f"包装照片-{batch_no}.jpg", jpeg(package_photo(product, batch_no, seed))),
    ]
