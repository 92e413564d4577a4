"""Mainland China's working days at their edges: 调休 weekends, National Day week, New Year
across years, a year nobody announced, and the admin's additions beating the package."""

from __future__ import annotations

from datetime import date

import pytest

from archive_app.errors import Invalid
from archive_app.settings import SettingsError
from archive_app.workdays import CalendarSnapshot, UnknownCalendarYear, reply_on_time, time_limits

PACKAGED = CalendarSnapshot()


def test_a_make_up_saturday_is_a_working_day_and_national_day_week_is_not():
    assert PACKAGED.is_working_day(date(2025, 9, 28))  # Sunday, 调休 for National Day 2025
    assert PACKAGED.is_working_day(date(2025, 10, 11))  # Saturday, 调休
    assert not PACKAGED.is_working_day(date(2025, 10, 1))
    assert not PACKAGED.is_working_day(date(2025, 10, 8))  # Wednesday, still the holiday
    assert PACKAGED.is_working_day(date(2025, 10, 9))
    assert not PACKAGED.is_working_day(date(2025, 10, 12))  # an ordinary Sunday


def test_counting_across_national_day_week():
    # From Tuesday 30 September 2025: the next working day is Thursday 9 October; then
    # Friday 10 and the make-up Saturday 11.
    assert PACKAGED.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert PACKAGED.add_working_days(date(2025, 9, 30), 3) == date(2025, 10, 11)
    assert PACKAGED.working_days_between(date(2025, 9, 30), date(2025, 10, 11)) == 3
    assert PACKAGED.working_days_between(date(2025, 10, 11), date(2025, 9, 30)) == 0
    assert PACKAGED.add_working_days(date(2025, 9, 30), 0) == date(2025, 9, 30)


def test_new_year_across_years():
    # 2024-12-31 (Tuesday) + 1 working day: 1 January 2025 is the holiday, 2 January works.
    assert PACKAGED.add_working_days(date(2024, 12, 31), 1) == date(2025, 1, 2)
    # After Friday 27 December: 30, 31 December, 2 and 3 January (1 January rests).
    assert PACKAGED.working_days_between(date(2024, 12, 27), date(2025, 1, 3)) == 4


def test_a_year_nobody_announced_is_refused_never_guessed():
    with pytest.raises(UnknownCalendarYear) as raised:
        PACKAGED.is_working_day(date(2031, 3, 3))
    assert isinstance(raised.value, Invalid) and raised.value.year == 2031
    assert "2031" in raised.value.as_json()["detail"]  # the value filled in, not ${year}
    with pytest.raises(UnknownCalendarYear):  # counting into it is refused too
        PACKAGED.add_working_days(date(2026, 12, 30), 5)
    assert not PACKAGED.knows(2031) and PACKAGED.knows(2025)


def test_a_loaded_year_is_known_as_announced_and_overrides_beat_the_package():
    loaded = CalendarSnapshot(
        overrides={date(2031, 1, 1): False, date(2031, 1, 4): True, date(2025, 10, 9): False},
        loaded_years=frozenset({2031}),
    )
    assert not loaded.is_working_day(date(2031, 1, 1))  # Wednesday, announced holiday
    assert loaded.is_working_day(date(2031, 1, 2))  # an ordinary Thursday
    assert loaded.is_working_day(date(2031, 1, 4))  # Saturday, announced make-up day
    assert not loaded.is_working_day(date(2031, 1, 5))
    assert not loaded.is_working_day(date(2025, 10, 9))  # a correction of the package
    assert loaded.knows(2031)


def test_time_limits_come_from_the_settings_and_a_bad_one_names_itself():
    settings = {"archive.time_limit.I": "5", "archive.time_limit.II": "10",
                "archive.time_limit.III": "15"}  # fmt: skip
    limits = time_limits(settings)
    assert limits == {"I": 5, "II": 10, "III": 15}
    # Received Monday 29 September 2025, class I (5 working days after receipt): 30 September,
    # 9, 10, 11 (the make-up Saturday) and 13 October; the 14th is late.
    assert reply_on_time(PACKAGED, limits, "I", date(2025, 9, 29), date(2025, 10, 13))
    assert not reply_on_time(PACKAGED, limits, "I", date(2025, 9, 29), date(2025, 10, 14))
    with pytest.raises(SettingsError, match="archive.time_limit.II"):
        time_limits(settings | {"archive.time_limit.II": "ten"})
