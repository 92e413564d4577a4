"""The CJK font for PDFs: an embedded subset of an installed TrueType font when there is one."""

from __future__ import annotations

from pathlib import Path

# Debian's packages, in order of preference (the Makefile installs fonts-wqy-microhei).
CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
_registered: str | None = None


def pdf_cjk_font() -> str:
    """The ReportLab font name to draw Chinese with. ReportLab embeds a subset of a TrueType
    font; the built-in CID font `STSong-Light` is a fallback only, since it is not embedded
    (viewers without a Chinese font show boxes)."""
    global _registered
    if _registered is None:
        # Imported here, with the first PDF drawn: ReportLab's start-up cost (certificates.py).
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont
        from reportlab.pdfbase.ttfonts import TTFont

        for path in CJK_FONTS:
            if Path(path).is_file():
                pdfmetrics.registerFont(TTFont("ArchiveCJK", path, subfontIndex=0))
                _registered = "ArchiveCJK"
                break
        else:
            pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
            _registered = "STSong-Light"
    return _registered
