"""The review's charts, drawn with matplotlib in the CJK font: counts by type and by class
over the five periods shown, the share by product, and a c-chart per complaint type. SVG for
the page, PNG for the PDF; the same figures both ways.

`words(value)` gives the reader's text for a code or a catalogue message (labels.label then
the request's or the catalogue's translation), so the charts speak the page's language.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from translationstring import TranslationStringFactory

from ..fonts import CJK_FONTS

_ = TranslationStringFactory("archive")
Words = Callable[[object], str]
TOP_PRODUCTS = 8  # the rest of the products are one slice, "other products"
_font_name: str | None = None
SVG_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}


def _pyplot():
    """matplotlib's pyplot on the Agg canvas, with the CJK font known. Imported here: it
    costs half a second, paid by the pages and PDFs that draw, not by every command."""
    global _font_name
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import font_manager, pyplot

    if _font_name is None:
        _font_name = "DejaVu Sans"
        for path in CJK_FONTS:
            if Path(path).is_file():
                font_manager.fontManager.addfont(path)
                _font_name = font_manager.FontProperties(fname=path).get_name()
                break
    return pyplot


def _style(salt: str) -> dict:
    return {
        "font.family": [_font_name, "DejaVu Sans"],
        "axes.unicode_minus": False,
        "svg.fonttype": "none",  # text stays text: searchable, selectable, small
        "svg.hashsalt": salt,  # the same review draws the same SVG
        "figure.dpi": 100,
    }


def _periods(review: dict) -> list[tuple[str, dict]]:
    """(period, counts) for the four periods before and the review's own, oldest first."""
    shown = [(entry["period"], entry["counts"]) for entry in review.get("previous", [])]
    return shown + [(review["period"], review["counts"])]


def _stacked(axes, review: dict, dimension: str, words: Words) -> None:
    periods = _periods(review)
    names = sorted({name for _period, counts in periods for name in counts[dimension]})
    bottoms = [0] * len(periods)
    labels = [period for period, _counts in periods]
    for name in names:
        heights = [counts[dimension].get(name, 0) for _period, counts in periods]
        axes.bar(labels, heights, bottom=bottoms, label=words(name))
        bottoms = [a + b for a, b in zip(bottoms, heights, strict=True)]
    if names:
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes.set_ylabel(words(_("Complaints")))
    axes.yaxis.get_major_locator().set_params(integer=True)


def figures(review: dict, words: Words) -> list[tuple[str, object]]:
    """(name, matplotlib figure) of every chart of the review, in reading order."""
    pyplot = _pyplot()
    drawn = []
    with pyplot.rc_context(_style(review["review_id"])):
        for name, dimension, title in (
            ("by_type", "by_type", _("Complaints by type, last five periods")),
            ("by_class", "by_class", _("Complaints by class, last five periods")),
        ):
            figure, axes = pyplot.subplots(figsize=(7.5, 3.2), layout="constrained")
            _stacked(axes, review, dimension, words)
            axes.set_title(words(title), fontsize=10)
            drawn.append((name, figure))
        drawn.append(("by_product", _product_share(pyplot, review, words)))
        for complaint_type, chart in review.get("control_chart", {}).items():
            drawn.append((f"control_{complaint_type}",
                          _control(pyplot, complaint_type, chart, words)))  # fmt: skip
    return drawn


def _product_share(pyplot, review: dict, words: Words):
    by_product = sorted(
        review["counts"]["by_product"].items(), key=lambda item: (-item[1], item[0])
    )
    shown = by_product[:TOP_PRODUCTS]
    rest = sum(count for _name, count in by_product[TOP_PRODUCTS:])
    if rest:
        shown.append((words(_("Other products")), rest))
    total = sum(count for _name, count in shown)
    figure, axes = pyplot.subplots(figsize=(7.5, 1.4 + 0.3 * len(shown)), layout="constrained")
    names = [name for name, _count in shown][::-1]
    shares = [100 * count / total for _name, count in shown][::-1] if total else []
    axes.barh(names, shares, color="#4a7ab0")
    for y, value in enumerate(shares):
        axes.text(value, y, f" {value:.1f}%", va="center", fontsize=7)
    axes.set_xlim(0, 110)
    axes.set_xlabel("%")
    axes.set_title(words(_("Share by product, ${period}", mapping={"period": review["period"]})),
                   fontsize=10)  # fmt: skip
    return figure


def _control(pyplot, complaint_type: str, chart: dict, words: Words):
    periods, counts = list(chart["counts"]), list(chart["counts"].values())
    figure, axes = pyplot.subplots(figsize=(7.5, 2.4), layout="constrained")
    axes.plot(periods, counts, marker="o", color="#333333", label=words(_("Count")))
    axes.axhline(chart["mean"], linestyle="--", color="#4a7ab0",
                 label=words(_("Mean")) + f" {chart['mean']:g}")  # fmt: skip
    axes.axhline(chart["ucl"], linestyle="--", color="#c0392b",
                 label=words(_("Upper control limit")) + f" {chart['ucl']:g}")  # fmt: skip
    above = [(period, count) for period, count in zip(periods, counts, strict=True)
             if period in chart["above"]]  # fmt: skip
    if above:
        axes.scatter([p for p, _c in above], [c for _p, c in above], color="#c0392b", zorder=3,
                     s=60, label=words(_("Above the limit")))  # fmt: skip
    axes.set_ylim(0, max([*counts, chart["ucl"], 1]) * 1.15)
    axes.yaxis.get_major_locator().set_params(integer=True)  # counts of complaints
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes.set_title(words(_("Control chart: ${type}", mapping={"type": words(complaint_type)})),
                   fontsize=10)  # fmt: skip
    return figure


def as_svg(figure, salt: str) -> str:
    pyplot = _pyplot()
    buffer = io.StringIO()
    with pyplot.rc_context(_style(salt)):
        # No metadata block: its creator and format would read as text inside the page.
        figure.savefig(buffer, format="svg", metadata=SVG_METADATA)
    pyplot.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # the element alone, to sit inside the page


def as_png(figure, dpi: int = 150) -> bytes:
    pyplot = _pyplot()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    pyplot.close(figure)
    return buffer.getvalue()
