"""The one date parser: `YYYY-MM-DD` only, the contract's 422 naming the field otherwise."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive_app.dates import NOT_ISO, NOT_REAL, NotADate, parse_date, to_date
from archive_app.errors import Invalid


@given(st.dates())
def test_every_calendar_date_reads_back_from_its_iso_form(day):
    assert to_date(day.isoformat()) == day


@pytest.mark.parametrize("value", [
    "20230512",  # date.fromisoformat takes these on 3.11; no client means them as a day
    "2023-W19-5",
    "2023-05-12T00:00",
    "2023-05-12\n",
    " 2023-05-12",
    "2023-5-12",
    "tomorrow",
    20230512,
    ["2023-05-12"],
])  # fmt: skip
def test_anything_but_yyyy_mm_dd_is_refused(value):
    with pytest.raises(NotADate, match=NOT_ISO):
        to_date(value)


@pytest.mark.parametrize("value", ["2023-02-29", "2023-13-01", "2024-04-31", "0000-01-01"])
def test_the_right_shape_must_still_name_a_real_day(value):
    with pytest.raises(NotADate, match=NOT_REAL):
        to_date(value)


def test_parse_date_reads_absent_as_none_and_names_the_field_of_a_bad_one():
    assert parse_date(None, "as_of") is None and parse_date("", "as_of") is None
    assert parse_date("2024-02-29", "as_of") == date(2024, 2, 29)
    with pytest.raises(Invalid) as refused:
        parse_date("2024-02-30", "received_from")
    assert refused.value.status == 422 and refused.value.field == "received_from"
    assert refused.value.detail == f"received_from {NOT_REAL}"
