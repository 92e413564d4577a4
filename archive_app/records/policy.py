"""What filing asks of the retention policy (`IRetentionPolicy`, which retention registers):
the values that cross between them, and the expiry format a product line is filed with."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from translationstring import TranslationStringFactory

_ = TranslationStringFactory("archive")  # the pages translate these (labels.error_message)

EXPIRY_PATTERN = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


@dataclass(frozen=True)
class Batch:
    """What a rule reads of one product line."""

    expiry: str | None
    certified_on: date | None = None


@dataclass(frozen=True)
class RetentionRule:
    name: str
    version: int
    source: str


@dataclass(frozen=True)
class RetentionDecision:
    destroy_after: date
    rule: RetentionRule
    derivation: str


def parse_expiry(value: str) -> date:
    """`YYYY-MM` means valid to the last day of that month; `YYYY-MM-DD` is that day."""
    match = EXPIRY_PATTERN.match(value or "")
    if not match:
        raise ValueError(_("expiry must be YYYY-MM or YYYY-MM-DD"))
    year, month, day = int(match[1]), int(match[2]), match[3]
    if day is None:
        if not 1 <= month <= 12:
            raise ValueError(_("expiry month must be 01 to 12"))
        return date(year, month, calendar.monthrange(year, month)[1])
    return date(year, month, int(day))
