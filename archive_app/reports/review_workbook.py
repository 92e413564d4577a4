"""The review as an Excel workbook whose cells are the JSON's values (Chinese headings): the
summary, the counts (this period and the four before, one row per value), the recurrences,
the control charts and the complaint numbers."""

from __future__ import annotations

import io

from . import review_words as w

SUMMARY_KEYS = ("review_id", "period", "from", "to", "issued_at", "author", "scope", "total",
                "dataset_sha256", "recurrence_threshold", "on_time", "capa_coverage",
                "public_key", "signature")  # fmt: skip
SHEETS = {"summary": "概要", "counts": "统计", "recurrences": "重复发生",
          "control_chart": "控制图", "complaint_nos": "投诉编号"}  # fmt: skip


def count_rows(review: dict) -> list[list]:
    """(period, dimension, value, count) of the review's period, then the four before."""
    rows = []
    every = [(review["period"], review["counts"])]
    every += [(entry["period"], entry["counts"]) for entry in review.get("previous", [])]
    for period, counts in every:
        for dimension in counts:
            rows += [[period, dimension, value, count]
                     for value, count in counts[dimension].items()]  # fmt: skip
    return rows


def review_workbook(review: dict) -> bytes:
    # Imported here: openpyxl is loaded by a workbook download only.
    from openpyxl import Workbook

    words = w.chinese()
    book = Workbook(write_only=True)

    summary = book.create_sheet(SHEETS["summary"])
    summary.append([words(w.COLUMNS["heading"]), words(w.COLUMNS["key"]),
                    words(w.COLUMNS["value"])])  # fmt: skip
    for key in SUMMARY_KEYS:
        summary.append([words(w.HEADINGS[key]), key, review.get(key)])
    for key in ("median_days", "p90_days"):
        summary.append([words(w.HEADINGS[key]), f"time_to_close.{key}",
                        (review.get("time_to_close") or {}).get(key)])  # fmt: skip

    counts = book.create_sheet(SHEETS["counts"])
    counts.append([words(w.COLUMNS[key]) for key in ("period", "dimension", "value", "count")])
    for row in count_rows(review):
        counts.append(row)

    recurrences = book.create_sheet(SHEETS["recurrences"])
    keys = ("kind", "product", "complaint_type", "batch_no", "count", "complaint_nos")
    recurrences.append([words(w.COLUMNS[key]) for key in keys])
    for item in review.get("recurrences", []):
        recurrences.append([item.get(key) for key in keys[:-1]]
                           + [", ".join(item["complaint_nos"])])  # fmt: skip

    control = book.create_sheet(SHEETS["control_chart"])
    charts = review.get("control_chart", {})
    periods = list(next(iter(charts.values()))["counts"]) if charts else []
    control.append([words(w.COLUMNS[key]) for key in ("complaint_type", "mean", "ucl", "above")]
                   + periods)  # fmt: skip
    for name, chart in charts.items():
        control.append([name, chart["mean"], chart["ucl"], ", ".join(chart["above"])]
                       + [chart["counts"][period] for period in periods])  # fmt: skip

    numbers = book.create_sheet(SHEETS["complaint_nos"])
    numbers.append([words(w.NUMBERS)])
    for number in review.get("complaint_nos", []):
        numbers.append([number])

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
