"""The printable review: Chinese headings, the figures, the charts, the recurrences with
their complaint numbers, and how to verify the signature offline."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from ..fonts import pdf_cjk_font
from ..labels import format_when
from ..vault.keyring import fingerprint
from ..vault.signatures import raw_key
from . import review_words as w
from .review_charts import as_png, figures

TABLE_ROWS = 300  # rows per table: long tables render in seconds (certificates.py)


def _escape(value) -> str:
    text = "" if value is None else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_review_pdf(review: dict, zone: ZoneInfo, approvals=()) -> bytes:
    """`approvals`: (signature, still matches) pairs of the review's approval, printed as
    the approver's signature lines (reports/review_approval.py)."""
    # Imported here: ReportLab takes half a second, paid only by a PDF.
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        Image,
        LongTable,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        TableStyle,
    )

    words = w.chinese()
    font = pdf_cjk_font()
    text = ParagraphStyle("text", fontName=font, fontSize=9, leading=13)
    title = ParagraphStyle("title", parent=text, fontSize=16, leading=22)
    heading = ParagraphStyle("heading", parent=text, fontSize=12, leading=18, spaceBefore=6)
    mono = ParagraphStyle("mono", parent=text, fontName="Courier", fontSize=7, leading=9)
    grid = TableStyle([
        ("FONT", (0, 0), (-1, -1), font, 8, 11),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ])  # fmt: skip
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        invariant=1,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        title=f"Review {review['period']}",
    )
    width = A4[0] - 30 * mm

    def table(header: list, rows: list[list], widths=None) -> list:
        parts = []
        for start in range(0, max(len(rows), 1), TABLE_ROWS):
            part = LongTable([header] + rows[start : start + TABLE_ROWS], repeatRows=1,
                             colWidths=widths)  # fmt: skip
            part.setStyle(grid)
            part.hAlign = "LEFT"
            parts.append(part)
        return parts

    def wrapped(numbers, per_line: int = 4) -> str:
        return "\n".join(", ".join(numbers[i : i + per_line])
                         for i in range(0, len(numbers), per_line))  # fmt: skip

    story = [Paragraph(_escape(f"{words(w.TITLE)} {review['period']}"), title), Spacer(1, 3 * mm)]
    for key in ("review_id", "period", "from", "to", "issued_at", "author", "scope", "total",
                "dataset_sha256"):  # fmt: skip
        value = review.get(key)
        if key == "issued_at":
            value = format_when(value, zone)
        elif key == "scope":
            value = words(value)
        story.append(Paragraph(f"<b>{_escape(words(w.HEADINGS[key]))}</b>: {_escape(value)}",
                               text))  # fmt: skip

    story.append(Paragraph(_escape(words(w.TIMELINESS)), heading))
    closing = review.get("time_to_close") or {}
    for key, value in (("median_days", closing.get("median_days")),
                       ("p90_days", closing.get("p90_days")),
                       ("on_time", w.as_percent(review.get("on_time")) or words(w.NOT_COMPUTED)),
                       ("capa_coverage", w.as_percent(review.get("capa_coverage")))):  # fmt: skip
        story.append(Paragraph(f"<b>{_escape(words(w.HEADINGS[key]))}</b>: {_escape(value)}",
                               text))  # fmt: skip

    story.append(Paragraph(_escape(words(w.COUNTS)), heading))
    periods = [entry["period"] for entry in review.get("previous", [])] + [review["period"]]
    every = [entry["counts"] for entry in review.get("previous", [])] + [review["counts"]]
    for dimension, dimension_heading in w.DIMENSION_HEADINGS.items():
        values = sorted({value for counts in every for value in counts.get(dimension, {})})
        rows = [[words(value)] + [str(counts.get(dimension, {}).get(value, 0)) for counts in every]
                for value in values]  # fmt: skip
        story.append(Paragraph(f"<b>{_escape(words(dimension_heading))}</b>", text))
        story += table([words(w.COLUMNS["value"])] + periods, rows)
        story.append(Spacer(1, 2 * mm))

    story.append(Paragraph(_escape(words(w.RECURRENCES)), heading))
    rows = [
        [
            words(w.KINDS.get(item.get("kind"), item.get("kind"))),
            item.get("product", ""),
            words(item.get("complaint_type")),
            item.get("batch_no") or "",
            str(item["count"]),
            wrapped(item["complaint_nos"], 2),
        ]
        for item in review.get("recurrences", [])
    ]
    header = [words(w.COLUMNS[key]) for key in ("kind", "product", "complaint_type", "batch_no",
                                                "count", "complaint_nos")]  # fmt: skip
    story += table(header, rows, [24 * mm, 32 * mm, 24 * mm, 22 * mm, 12 * mm, width - 114 * mm])

    story.append(Paragraph(_escape(words(w.CONTROL)), heading))
    rows = [[words(name), f"{chart['mean']:g}", f"{chart['ucl']:g}", ", ".join(chart["above"])]
            for name, chart in review.get("control_chart", {}).items()]  # fmt: skip
    story += table([words(w.COLUMNS[key]) for key in ("complaint_type", "mean", "ucl", "above")],
                   rows)  # fmt: skip

    story.append(Paragraph(_escape(words(w.CHARTS)), heading))
    for _name, figure in figures(review, words):
        image = Image(io.BytesIO(as_png(figure)))
        scale = width / image.drawWidth
        image.drawWidth, image.drawHeight = width, image.drawHeight * scale
        story += [image, Spacer(1, 2 * mm)]

    story.append(Paragraph(_escape(words(w.NUMBERS)), heading))
    # Plain cells, six a row: one paragraph of 100,000 numbers takes ReportLab minutes.
    numbers = review.get("complaint_nos", [])
    rows = [numbers[i : i + 6] for i in range(0, len(numbers), 6)]
    story += table([words(w.COLUMNS["complaint_nos"])] + [""] * 5, rows)

    if approvals:
        story.append(Paragraph(_escape(words(w.APPROVAL)), heading))
    for signature, matches in approvals:
        at = format_when(signature.signed_at.isoformat(), zone)
        line = words(w.approval_line(signature, at, words(signature.meaning)))
        if not matches:
            line += " " + words(w.MISMATCH)
        story.append(Paragraph(_escape(line), text))

    story.append(Paragraph(_escape(words(w.SIGNATURE)), heading))
    key = raw_key(review.get("public_key"))
    for label_text, value in (
        (words(w.HEADINGS["public_key"]), review.get("public_key")),
        ("SHA-256", fingerprint(key) if key else "?"),
        (words(w.HEADINGS["signature"]), review.get("signature")),
    ):
        story += [Paragraph(f"<b>{_escape(label_text)}</b>", text),
                  Paragraph(_escape(value), mono)]  # fmt: skip
    story += [Spacer(1, 3 * mm), Paragraph(_escape(words(w.VERIFY_HOW)), text)]
    document.build(story)
    return buffer.getvalue()
