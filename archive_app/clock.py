"""The clock service: the one place that knows what time and what day it is."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from zope.interface import implementer

from .interfaces import IClock


@implementer(IClock)
class Clock:
    """Wall-clock time, and "today" in the archive's time zone (retention counts days there)."""

    def __init__(self, timezone: str = "Asia/Shanghai"):
        self.zone = ZoneInfo(timezone)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().astimezone(self.zone).date()


class FixedClock(Clock):
    """A clock that stays where it is put: for tests and for `--as-of` style replays."""

    def __init__(self, at: datetime, timezone: str = "Asia/Shanghai"):
        super().__init__(timezone)
        self.at = at

    def now(self) -> datetime:
        return self.at
