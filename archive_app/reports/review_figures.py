"""The figures of a review, computed from plain rows (no database, no clock): counts,
recurrences, time to close, on-time and CAPA shares, and the c-chart per complaint type.

A row is one counted dossier as the review's dataset holds it (review_data.py): its codes,
dates as ISO text, and its complained products `[{"name", "batch_no"}]`.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import date

DIMENSIONS = ("by_type", "by_class", "by_product", "by_channel", "by_outcome", "by_measure")
SHARE_DIGITS = 4  # shares, means and limits are rounded: the signed JSON must be stable


def _sorted(counter: Counter) -> dict[str, int]:
    return {key: counter[key] for key in sorted(counter)}


def counts(rows: Iterable[dict]) -> dict[str, dict[str, int]]:
    """`{by_type, by_class, by_product, by_channel, by_outcome, by_measure}`, each
    `{value: dossiers}`. A dossier counts once for each product it names and each measure
    taken; one without a channel is not in by_channel."""
    found = {name: Counter() for name in DIMENSIONS}
    for row in rows:
        found["by_type"][row["complaint_type"]] += 1
        found["by_class"][row["complaint_class"]] += 1
        found["by_outcome"][row["outcome"]] += 1
        if row.get("channel"):
            found["by_channel"][row["channel"]] += 1
        for name in sorted({product["name"] for product in row["products"]}):
            found["by_product"][name] += 1
        for measure in sorted(set(row.get("measures") or ())):
            found["by_measure"][measure] += 1
    return {name: _sorted(counter) for name, counter in found.items()}


def recurrences(rows: Iterable[dict], threshold: int) -> list[dict]:
    """The same product and complaint type in at least `threshold` dossiers, then every
    batch (product and batch number) named by two or more dossiers; each with its complaint
    numbers. `rows` are the dossiers of the 12 months that end with the period."""
    by_problem: dict[tuple[str, str], set[str]] = defaultdict(set)
    by_batch: dict[tuple[str, str], set[str]] = defaultdict(set)
    types_of_batch: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows:
        for product in row["products"]:
            by_problem[(product["name"], row["complaint_type"])].add(row["complaint_no"])
            batch = (product["name"], product["batch_no"])
            by_batch[batch].add(row["complaint_no"])
            types_of_batch[batch].add(row["complaint_type"])
    found = [
        {"kind": "product_type", "product": product, "complaint_type": complaint_type,
         "count": len(numbers), "complaint_nos": sorted(numbers)}
        for (product, complaint_type), numbers in sorted(by_problem.items())
        if len(numbers) >= threshold
    ]  # fmt: skip
    for (product, batch_no), numbers in sorted(by_batch.items()):
        if len(numbers) >= 2:
            types = types_of_batch[(product, batch_no)]
            # A batch named for two kinds of problem is still one batch: no single type then.
            found.append({"kind": "batch", "product": product, "batch_no": batch_no,
                          "complaint_type": next(iter(types)) if len(types) == 1 else None,
                          "count": len(numbers), "complaint_nos": sorted(numbers)})  # fmt: skip
    return found


def days_to_close(row: dict) -> int:
    """Calendar days from receipt to closing: the procedure's time limits count working days
    to the reply (on_time below); closing waits for the customer, whose days are calendar
    days, so the time to close is measured as a customer lives it."""
    return (date.fromisoformat(row["closed_on"]) - date.fromisoformat(row["received_on"])).days


def nearest_rank(values: list[int], fraction: float) -> int | None:
    """The nearest-rank percentile: the smallest value with at least `fraction` of all
    values at or below it (no interpolation: always a day some dossier took)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)), 1) - 1]


def median(values: list[int]) -> float | None:
    if not values:
        return None
    ordered, middle = sorted(values), len(values) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


def time_to_close(rows: list[dict]) -> dict:
    days = [days_to_close(row) for row in rows]
    return {"median_days": median(days), "p90_days": nearest_rank(days, 0.9)}


def share(part: int, whole: int) -> float | None:
    return round(part / whole, SHARE_DIGITS) if whole else None


def on_time(rows: list[dict], met: Callable[[dict], bool]) -> float | None:
    """The share of dossiers whose reply met its class's time limit (`met(row)`)."""
    return share(sum(1 for row in rows if met(row)), len(rows))


def capa_coverage(rows: list[dict]) -> float | None:
    """The share of justified dossiers that name a CAPA."""
    justified = [row for row in rows if row["outcome"] == "justified"]
    return share(sum(1 for row in justified if (row.get("capa_ref") or "").strip()),
                 len(justified))  # fmt: skip


def control_chart(series: list[tuple[str, dict[str, int]]]) -> dict[str, dict]:
    """A c-chart per complaint type over the periods shown (`series`: (period, by_type),
    oldest first): the mean count per period, the upper control limit mean + 3·√mean (counts
    of events per period are Poisson-like), and the periods whose count is above it."""
    types = sorted({name for _period, by_type in series for name in by_type})
    chart = {}
    for name in types:
        per_period = {period: by_type.get(name, 0) for period, by_type in series}
        mean = sum(per_period.values()) / len(per_period)
        limit = mean + 3 * math.sqrt(mean)
        chart[name] = {
            "counts": per_period,
            "mean": round(mean, SHARE_DIGITS),
            "ucl": round(limit, SHARE_DIGITS),
            "above": [period for period, count in per_period.items() if count > limit],
        }
    return chart
