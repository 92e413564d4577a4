"""Calendar dates as clients give them (ISO 8601 `YYYY-MM-DD` only): the one parser behind
every body field, query parameter and command option that takes a date.

Standard library only: every command imports it (records/schemas.py StrictDate wraps it for
colander)."""

from __future__ import annotations

import re
from datetime import date

from translationstring import TranslationStringFactory

from .errors import Invalid

_ = TranslationStringFactory("archive")  # the pages translate these (labels.error_message)

# fullmatch: `$` alone would let a trailing newline through; date.fromisoformat alone (3.11)
# also takes `20230512`, `2023-W19-5` and the like, which no client means as a day.
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
NOT_ISO = _("must be a date as YYYY-MM-DD")
NOT_REAL = _("is not a real calendar date")


class NotADate(ValueError):
    """Why a value is not a date; the text reads after the field's name."""


def to_date(value) -> date:
    """The date a `YYYY-MM-DD` string names, or NotADate saying why not."""
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        raise NotADate(NOT_ISO)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise NotADate(NOT_REAL) from None


def parse_date(value, field: str) -> date | None:
    """None when the value is absent (None or empty), else its date, else the contract's 422
    naming `field`."""
    if value is None or value == "":
        return None
    try:
        return to_date(value)
    except NotADate as problem:
        raise Invalid(f"{field} {problem}", field=field) from None
