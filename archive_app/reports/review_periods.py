"""Review periods: a quarter (`2026Q3`) or a year (`2026`), their days and their neighbours."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from ..errors import Invalid

_PERIOD = re.compile(r"^(?P<year>[0-9]{4})(?:[Qq](?P<quarter>[1-4]))?$")
EARLIEST_YEAR = 1990  # no complaint archive goes back further; a typo, not a period


@dataclass(frozen=True, order=True)
class Period:
    year: int
    quarter: int | None = None  # None: the whole year

    @classmethod
    def parse(cls, text, field: str = "period") -> Period:
        match = _PERIOD.match(text) if isinstance(text, str) else None
        if match is None:
            raise Invalid("a period is a year (2026) or a quarter (2026Q3)", field=field)
        year = int(match["year"])
        if year < EARLIEST_YEAR:
            raise Invalid(f"no review before {EARLIEST_YEAR}", field=field)
        quarter = match["quarter"]
        return cls(year, int(quarter) if quarter else None)

    def __str__(self) -> str:
        return f"{self.year}" if self.quarter is None else f"{self.year}Q{self.quarter}"

    @property
    def start(self) -> date:
        return date(self.year, 1 if self.quarter is None else 3 * self.quarter - 2, 1)

    @property
    def end(self) -> date:
        """The last day of the period (inclusive)."""
        if self.quarter is None or self.quarter == 4:
            return date(self.year, 12, 31)
        return date(self.year, 3 * self.quarter + 1, 1) - timedelta(days=1)

    def before(self, count: int) -> list[Period]:
        """The `count` periods of the same kind before this one, oldest first."""
        found, period = [], self
        for _ in range(count):
            period = period.previous()
            found.append(period)
        return found[::-1]

    def previous(self) -> Period:
        if self.quarter is None:
            return Period(self.year - 1)
        if self.quarter == 1:
            return Period(self.year - 1, 4)
        return Period(self.year, self.quarter - 1)

    def twelve_months_start(self) -> date:
        """The first day of the 12 months that end with this period (recurrences)."""
        after = self.end + timedelta(days=1)  # always the 1st of a month: no 29 February
        return after.replace(year=after.year - 1)
