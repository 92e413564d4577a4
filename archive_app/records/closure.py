"""The seed's §5.8 rule for a closure without feedback (contract §8): the customer was
replied to, reminded no earlier than 25 working days after the reply, and the complaint
closed no earlier than 10 working days after the reminder; counted in mainland China's
working days (the IWorkingCalendar service), a year it does not know refused, never guessed."""

from __future__ import annotations

from datetime import date

from translationstring import TranslationStringFactory

from ..errors import Invalid
from ..workdays import UnknownCalendarYear
from .vocabulary import Closure

_ = TranslationStringFactory("archive")

REMINDER_AFTER_REPLY = 25  # working days (seed §5.8)
CLOSING_AFTER_REMINDER = 10

TOO_EARLY_REMINDER = _("must be at least 25 working days after replied_on (seed §5.8)")
TOO_EARLY_CLOSING = _("must be at least 10 working days after timeline.reminded_on (seed §5.8)")
REMINDER_REQUIRED = _("is required for a no_feedback closure")


def check_no_feedback(calendar, metadata: dict) -> None:
    """Raise the contract's 422 naming `timeline.reminded_on` or `closed_on` when a
    `no_feedback` closure does not meet §5.8. Validated metadata: `replied_on` is there."""
    timeline = metadata.get("timeline")
    if not timeline or timeline["closure"] != Closure.NO_FEEDBACK:
        return
    replied, reminded = timeline["replied_on"], timeline["reminded_on"]
    if reminded is None:
        raise _refusal("timeline.reminded_on", REMINDER_REQUIRED)
    field = "timeline.reminded_on"
    if _working_days(calendar, replied, reminded, field) < REMINDER_AFTER_REPLY:
        raise _refusal(field, TOO_EARLY_REMINDER)
    field = "closed_on"
    if _working_days(calendar, reminded, metadata["closed_on"], field) < CLOSING_AFTER_REMINDER:
        raise _refusal(field, TOO_EARLY_CLOSING)


def _working_days(calendar, start: date, end: date, field: str) -> int:
    try:
        return calendar.working_days_between(start, end)
    except UnknownCalendarYear as unknown:  # said of the field whose count needs that year
        raise UnknownCalendarYear(unknown.year, field=field) from None


def _refusal(field: str, message) -> Invalid:
    # "field message", as validation.first_error writes it: the pages translate the message.
    return Invalid(f"{field} {message}", field=field)
