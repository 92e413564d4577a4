"""Mainland China's working days: the `chinesecalendar` package's official holidays and
make-up working days (调休), with the admin's override table on top.

A year neither knows is refused (`UnknownCalendarYear`), never guessed: a weekday count would
put a time limit inside the Spring Festival.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar
from sqlalchemy import select
from translationstring import TranslationStringFactory
from zope.interface import implementer

from ..errors import Invalid
from ..interfaces import IDatabase, IWorkingCalendar
from .models import WorkdayOverride, WorkdayYear

_ = TranslationStringFactory("archive")


class UnknownCalendarYear(Invalid):
    """The working days of this year are not known (neither packaged nor loaded)."""

    def __init__(self, year: int, field: str | None = None):
        super().__init__(
            _(
                "The working-day calendar does not know the year ${year}: an administrator "
                "loads its official holidays with `archive calendar load`.",
                mapping={"year": year},
            ),
            field=field,
        )
        self.year = year


def packaged_working_day(day: date) -> bool | None:
    """What `chinesecalendar` says of the day, or None for a year it has no data for."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


@dataclass(frozen=True)
class CalendarSnapshot:
    """The calendar as loaded at one moment: the admin's days and years, then the package."""

    overrides: dict[date, bool] = field(default_factory=dict)
    loaded_years: frozenset[int] = frozenset()

    def is_working_day(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if day.year in self.loaded_years:  # a loaded year: its weekdays work, unless listed
            return day.weekday() < 5
        packaged = packaged_working_day(day)
        if packaged is None:
            raise UnknownCalendarYear(day.year)
        return packaged

    def add_working_days(self, day: date, count: int) -> date:
        """The `count`-th working day after `day` (`day` itself for 0)."""
        if count < 0:
            raise ValueError("count must not be negative")
        while count:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: 0 when end is not after start."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count

    def knows(self, year: int) -> bool:
        return year in self.loaded_years or packaged_working_day(date(year, 6, 1)) is not None


@implementer(IWorkingCalendar)
class WorkingCalendar:
    """The process's calendar. The override table is read again when the snapshot is older
    than `refresh_seconds`, so that a year an admin loads in another process is seen by the
    web processes without a restart, and a loop over thousands of dossiers reads it once."""

    def __init__(self, database: IDatabase, refresh_seconds: float = 60.0):
        self.database = database
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._snapshot: CalendarSnapshot | None = None
        self._loaded_at = 0.0

    def snapshot(self) -> CalendarSnapshot:
        with self._lock:
            stale = time.monotonic() - self._loaded_at >= self.refresh_seconds
            if self._snapshot is None or stale:
                self._snapshot = self._load()
                self._loaded_at = time.monotonic()
            return self._snapshot

    def _load(self) -> CalendarSnapshot:
        with self.database.read() as session:
            days = session.execute(select(WorkdayOverride.day, WorkdayOverride.working)).all()
            years = session.scalars(select(WorkdayYear.year)).all()
        return CalendarSnapshot(dict(days), frozenset(years))

    def is_working_day(self, day):
        return self.snapshot().is_working_day(day)

    def add_working_days(self, day, count):
        return self.snapshot().add_working_days(day, count)

    def working_days_between(self, start, end):
        return self.snapshot().working_days_between(start, end)
