"""The review's periods and figures at their edges: quarters across a year, the 12-month
window, percentiles of few values, the c-chart's limit and a spike above it, recurrences."""

from __future__ import annotations

from datetime import date

import pytest

from archive_app.errors import Invalid
from archive_app.reports import review_figures as figures
from archive_app.reports.review_periods import Period


def test_quarters_and_years_and_the_periods_before():
    first = Period.parse("2026Q1")
    assert (first.start, first.end) == (date(2026, 1, 1), date(2026, 3, 31))
    assert [str(p) for p in first.before(4)] == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    assert Period.parse("2024q1").before(1)[0].end == date(2023, 12, 31)
    assert Period.parse("2026Q2").end == date(2026, 6, 30)
    year = Period.parse("2024")
    assert (year.start, year.end) == (date(2024, 1, 1), date(2024, 12, 31))
    assert str(year.before(1)[0]) == "2023"
    assert Period.parse("2026Q3").twelve_months_start() == date(2025, 10, 1)
    assert Period.parse("2026Q4").twelve_months_start() == date(2026, 1, 1)
    assert Period.parse("2024").twelve_months_start() == date(2024, 1, 1)  # a leap year


@pytest.mark.parametrize("text", ["2026Q0", "2026Q5", "26Q1", "2026-Q1", "Q1", "", None, 2026])
def test_a_bad_period_is_invalid_on_its_field(text):
    with pytest.raises(Invalid) as error:
        Period.parse(text)
    assert error.value.field == "period"


def test_percentiles_of_few_values():
    assert figures.median([]) is None and figures.nearest_rank([], 0.9) is None
    assert figures.median([7]) == 7.0 and figures.nearest_rank([7], 0.9) == 7
    assert figures.median([1, 4]) == 2.5
    assert figures.nearest_rank(list(range(1, 11)), 0.9) == 9  # the 9th of 10
    assert figures.nearest_rank(list(range(1, 12)), 0.9) == 10  # ceil(9.9) = 10th of 11


def test_a_spike_is_above_the_upper_control_limit():
    series = [(f"2025Q{q}", {"service": 2}) for q in range(1, 5)] + [("2026Q1", {"service": 20})]
    chart = figures.control_chart(series)["service"]
    assert chart["mean"] == 5.6 and chart["ucl"] == round(5.6 + 3 * 5.6**0.5, 4)
    assert chart["above"] == ["2026Q1"]
    calm = figures.control_chart([(p, {"service": 3}) for p in "abcde"])["service"]
    assert calm["above"] == [] and calm["counts"] == dict.fromkeys("abcde", 3)


def row(number, kind, *products):
    return {"complaint_no": number, "complaint_type": kind,
            "products": [{"name": n, "batch_no": b} for n, b in products]}  # fmt: skip


def test_recurrences_by_product_and_type_and_by_batch():
    rows = [row("A", "service", ("甲", "1")), row("B", "service", ("甲", "2")),
            row("C", "service", ("甲", "1"), ("乙", "9")), row("D", "other", ("乙", "9")),
            row("E", "other", ("甲", "3"))]  # fmt: skip
    found = figures.recurrences(rows, threshold=3)
    assert found == [
        {"kind": "product_type", "product": "甲", "complaint_type": "service", "count": 3,
         "complaint_nos": ["A", "B", "C"]},
        {"kind": "batch", "product": "乙", "batch_no": "9", "complaint_type": None, "count": 2,
         "complaint_nos": ["C", "D"]},
        {"kind": "batch", "product": "甲", "batch_no": "1", "complaint_type": "service",
         "count": 2, "complaint_nos": ["A", "C"]},
    ]  # fmt: skip
    assert figures.recurrences(rows, threshold=4) == found[1:]  # batches by code point


def test_a_dossier_counts_once_per_product_and_measure():
    counted = figures.counts([{
        "complaint_type": "service", "complaint_class": "I", "outcome": "justified",
        "channel": None, "measures": ["return", "return"],
        "products": [{"name": "甲", "batch_no": "1"}, {"name": "甲", "batch_no": "2"}],
    }])  # fmt: skip
    assert counted["by_product"] == {"甲": 1} and counted["by_measure"] == {"return": 1}
    assert counted["by_channel"] == {}
