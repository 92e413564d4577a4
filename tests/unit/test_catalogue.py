"""The message catalogue keeps up with the code: every message the code and templates use has
its Chinese, the catalogue holds no message nobody uses, the committed .mo says what the .po
says, every vocabulary value has its label, and dates and times read one way."""

from __future__ import annotations

import gettext
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po
from lingua.extract import ExtractorOptions
from lingua.extractors import get_extractor, register_extractors

from archive_app import labels
from archive_app.access.models import AccessOutcome
from archive_app.access.permissions import Level, Role
from archive_app.records.derived import TextState
from archive_app.records.vocabulary import (
    Channel,
    ComplaintClass,
    ComplaintType,
    DocumentKind,
    DossierState,
    Measure,
    Outcome,
)

PACKAGE = Path(labels.__file__).resolve().parent
MESSAGES = PACKAGE / "locale" / "zh_CN" / "LC_MESSAGES"


def extracted_msgids() -> dict[str, str]:
    """Each msgid of the `archive` domain in the package's Python and Chameleon files, with
    one place that uses it (lingua, the extractor `make catalogue` runs)."""
    register_extractors()
    options = ExtractorOptions(comment_tag=True, domain="archive", keywords=())
    found = {}
    for path in sorted([*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.pt")]):
        if "migrations" in path.parts:
            continue
        # Python is read as text, Chameleon as bytes (each extractor's own way to open it)
        with path.open("r" if path.suffix == ".py" else "rb") as source:
            messages = list(get_extractor(str(path))(str(path), options, source))
        for message in messages:
            found.setdefault(message.msgid, f"{path.relative_to(PACKAGE)}:{message.location[1]}")
    return found


def chinese() -> dict[str, str]:
    with (MESSAGES / "archive.po").open("rb") as po:
        return {message.id: message.string for message in read_po(po) if message.id}


def test_every_message_in_use_has_its_chinese():
    catalogue = chinese()
    untranslated = {msgid: where for msgid, where in extracted_msgids().items()
                    if not catalogue.get(msgid)}  # fmt: skip
    assert not untranslated, f"add these to archive.po (make catalogue): {untranslated}"


def test_the_catalogue_holds_no_message_nobody_uses():
    unused = set(chinese()) - set(extracted_msgids())
    assert not unused, f"stale in archive.po (make catalogue drops them): {sorted(unused)}"


def test_the_committed_mo_is_compiled_from_the_po():
    with (MESSAGES / "archive.mo").open("rb") as mo:
        compiled = {key: value for key, value in gettext.GNUTranslations(mo)._catalog.items()
                    if key}  # fmt: skip
    assert compiled == chinese(), "archive.mo is behind archive.po: run make catalogue"


@pytest.mark.parametrize("values", [
    ComplaintClass, ComplaintType, Channel, Outcome, Measure, DocumentKind, Role, Level,
    DossierState, AccessOutcome, TextState,
])  # fmt: skip
def test_every_vocabulary_value_has_a_label(values):
    values = list(values)
    missing = [value for value in values if value not in labels.LABELS]
    assert not missing, f"no label for {missing} in archive_app/labels.py"
    catalogue = chinese()
    assert all(catalogue.get(str(labels.label(value))) for value in values)


def test_a_value_named_twice_must_read_the_same():
    _ = labels._
    with pytest.raises(ValueError, match="other"):
        labels._merged({"a": {"other": _("Other")}, "b": {"other": _("Something else")}})


def test_a_label_is_found_by_the_value_string_of_an_enum_member_too():
    from enum import StrEnum

    class Channel(StrEnum):
        PHONE = "phone"

    assert labels.label(Channel.PHONE) == labels.label("phone") == "Phone"
    assert labels.label("no_such_code") == "no_such_code"  # shown as is: the page tests catch it
    assert labels.label(None) == ""


def test_dates_and_times_read_one_way():
    shanghai = ZoneInfo("Asia/Shanghai")
    at = datetime(2026, 12, 1, 16, 5, 9, 123456, tzinfo=UTC)
    assert labels.format_when(at, shanghai) == "2026-12-02 00:05:09 Asia/Shanghai"
    assert labels.format_when(at.isoformat(), shanghai) == "2026-12-02 00:05:09 Asia/Shanghai"
    # SQLite hands times back without their offset: they are UTC
    assert labels.format_when(at.replace(tzinfo=None), shanghai).startswith("2026-12-02 00:05")
    assert labels.format_when(at, shanghai, with_zone=False) == "2026-12-02 00:05:09"
    assert labels.format_when(date(2023, 5, 12), shanghai) == "2023-05-12"
    assert labels.format_when("2023-05-12", shanghai) == "2023-05-12"
    assert labels.format_when(None, shanghai) == ""
    assert labels.format_when("2025-06", shanghai) == "2025-06"  # an expiry month stays itself


def test_an_error_reads_as_its_catalogue_detail_or_its_code():
    from archive_app.errors import Conflict, Invalid

    phone = Invalid("customer.phone must be a phone number", field="customer.phone")
    assert labels.error_message(phone) == "must be a phone number"
    filed = Conflict("complaint TS-I-23-0001 is already filed", field="complaint_no")
    assert labels.error_message(filed) == labels.ERRORS["conflict"]  # not in the catalogue
    assert labels.field_label("products.1.batch_no").interpolate() == "Product 2: Batch number"
