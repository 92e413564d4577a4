"""Working days in mainland China, for the seed's time limits (§5.8 closure without feedback,
§6 handling time limits): one calendar service, `IWorkingCalendar`.

Below every feature: records validates a `no_feedback` closure with it, reports count the
share of replies on time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from ..interfaces import IDatabase, IWorkingCalendar
from ..settings import SettingsError
from .calendar import CalendarSnapshot, UnknownCalendarYear, WorkingCalendar

# The seed names a table of time limits per class (投诉管理规程 §6) without giving it: these
# are defaults, working days from receipt to the reply, that a quality department sets in its
# ini (`archive.time_limit.I` …) to its own procedure's numbers.
COMPLAINT_CLASSES = ("I", "II", "III")


def time_limits(settings: Mapping[str, str]) -> dict[str, int]:
    """The reply time limit of each complaint class, in working days."""
    limits = {}
    for complaint_class in COMPLAINT_CLASSES:
        key = f"archive.time_limit.{complaint_class}"
        value = settings.get(key, "")
        if not str(value).strip().isdigit() or int(value) < 1:
            raise SettingsError(f"{key} must be a whole number of working days (at least 1)")
        limits[complaint_class] = int(value)
    return limits


def reply_on_time(calendar, limits: Mapping[str, int], complaint_class: str,
                  received_on: date, replied_on: date) -> bool:  # fmt: skip
    """Whether the reply came within its class's limit, counted in working days."""
    return calendar.working_days_between(received_on, replied_on) <= limits[complaint_class]


def includeme(config):
    settings = config.get_settings()
    time_limits(settings)  # a bad limit stops the start, naming the setting
    database = config.registry.getUtility(IDatabase)
    refresh = float(settings.get("archive.calendar.refresh_seconds", 60))
    config.register_process_service(WorkingCalendar(database, refresh), IWorkingCalendar)


__all__ = [
    "CalendarSnapshot", "UnknownCalendarYear", "WorkingCalendar", "reply_on_time",
    "time_limits",
]  # fmt: skip
