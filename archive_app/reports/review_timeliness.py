"""Whether a dossier's reply met its class's time limit, in mainland China's working days
(seed §6: `archive.time_limit.<class>` working days from receipt to the reply; the reply is
the timeline's `replied_on`, else the closing day)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from ..interfaces import IWorkingCalendar
from ..workdays import UnknownCalendarYear, reply_on_time, time_limits


class CountedWorkingDays:
    """One calendar snapshot for the whole review (the same holidays for every dossier),
    counted once per day: working days in (start, end] as a difference of running totals
    from `origin`, so 100,000 dossiers cost a few thousand calendar look-ups, not millions."""

    def __init__(self, snapshot, origin: date):
        self.snapshot, self.origin = snapshot, origin
        self._totals = [0]  # working days in (origin, origin + i days]

    def _total(self, day: date) -> int:
        offset = (day - self.origin).days
        if offset < 0:  # before the origin (a reply dated before receipt): counted directly
            return -self.snapshot.working_days_between(day, self.origin)
        while len(self._totals) <= offset:
            next_day = self.origin + timedelta(days=len(self._totals))
            self._totals.append(self._totals[-1] + self.snapshot.is_working_day(next_day))
        return self._totals[offset]

    def working_days_between(self, start: date, end: date) -> int:
        return 0 if end <= start else self._total(end) - self._total(start)


def reply_judge(registry, origin: date) -> Callable[[dict], bool]:
    """`met(row)` for the rows of a review whose period starts after `origin`. A year the
    calendar does not know refuses the review (422 on `period`): its share would be a guess."""
    days = CountedWorkingDays(registry.getUtility(IWorkingCalendar).snapshot(), origin)
    limits = time_limits(registry.settings)

    def met(row: dict) -> bool:
        received = date.fromisoformat(row["received_on"])
        replied = date.fromisoformat(row.get("replied_on") or row["closed_on"])
        try:
            return reply_on_time(days, limits, row["complaint_class"], received, replied)
        except UnknownCalendarYear as error:
            raise UnknownCalendarYear(error.year, field="period") from None

    return met
