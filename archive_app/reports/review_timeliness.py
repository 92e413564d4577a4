"""Whether a dossier's reply met its class's time limit, in mainland China's working days
(seed §6: `archive.time_limit.<class>` working days from receipt to the reply; the reply is
the timeline's `replied_on`, else the closing day)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from ..interfaces import IWorkingCalendar
from ..workdays import UnknownCalendarYear, reply_on_time, time_limits


def reply_judge(registry) -> Callable[[dict], bool]:
    """`met(row)` for the review's rows. A year the calendar does not know refuses the review
    (422 on `period`): its on-time share would be a guess."""
    calendar = registry.getUtility(IWorkingCalendar)
    limits = time_limits(registry.settings)

    def met(row: dict) -> bool:
        received = date.fromisoformat(row["received_on"])
        replied = date.fromisoformat(row.get("replied_on") or row["closed_on"])
        try:
            return reply_on_time(calendar, limits, row["complaint_class"], received, replied)
        except UnknownCalendarYear as error:
            raise UnknownCalendarYear(error.year, field="period") from None

    return met
