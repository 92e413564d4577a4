"""The ledger as an Excel workbook: one row per dossier under Chinese headers from the
message catalogue, codes as their Chinese labels, dates as dates. Written with openpyxl's
write-only (streaming) workbook, so memory stays flat however many rows there are."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from importlib.resources import files
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from pyramid.i18n import make_localizer
from translationstring import TranslationString, TranslationStringFactory

from ..labels import label

_ = TranslationStringFactory("archive")

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = "yyyy-mm-dd"
# Several values in one cell (products, measures): the Chinese list separator.
SEPARATOR = "；"


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _joined(products: list[dict], key: str) -> str:
    return SEPARATOR.join(product[key] for product in products)


# (header, value of a ledger row, is a date): the workbook's columns, in order.
COLUMNS: list[tuple] = [
    (_("Registration number"), lambda row: row["complaint_no"], False),
    (_("Complaint class"), lambda row: label(row["complaint_class"]), False),
    (_("Complaint type"), lambda row: label(row["complaint_type"]), False),
    (_("Title"), lambda row: row["title"], False),
    (_("Received on"), lambda row: _date(row["received_on"]), True),
    (_("Closed on"), lambda row: _date(row["closed_on"]), True),
    (_("Outcome"), lambda row: label(row["outcome"]), False),
    (_("Measures"), lambda row: [label(m) for m in row["measures"]], False),
    (_("CAPA reference"), lambda row: row["capa_ref"], False),
    (_("Product name"), lambda row: _joined(row["products"], "name"), False),
    (_("Batch number"), lambda row: _joined(row["products"], "batch_no"), False),
    (_("Customer name"), lambda row: row["customer"].get("name"), False),
    (_("Organization"), lambda row: row["customer"].get("organization"), False),
    (_("Phone"), lambda row: row["customer"].get("phone"), False),
    (_("Address"), lambda row: row["customer"].get("address"), False),
    (_("Acknowledged on"), lambda row: _date(row["timeline"].get("acknowledged_on")), True),
    (_("Replied on"), lambda row: _date(row["timeline"].get("replied_on")), True),
    (_("Reminded on"), lambda row: _date(row["timeline"].get("reminded_on")), True),
    (_("Closure"), lambda row: label(row["timeline"].get("closure")), False),
    (_("State"), lambda row: label(row["state"]), False),
]


def chinese() -> Callable:
    """The catalogue's Chinese, whatever the page's language: the ledger is filed in Chinese."""
    localizer = make_localizer("zh_CN", [str(files("archive_app") / "locale")])
    return localizer.translate


def write_ledger(path: Path, rows: Iterable[dict], translate: Callable | None = None) -> int:
    """Write `rows` (ledger rows, in order) to the workbook at `path`; the number written."""
    translate = translate or chinese()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(translate(_("Complaint ledger")))
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for title, _value, _is_date in COLUMNS:
        cell = WriteOnlyCell(sheet, value=translate(title))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows:
        sheet.append([_cell(sheet, value(row), is_date, translate)
                      for _title, value, is_date in COLUMNS])  # fmt: skip
        count += 1
    workbook.save(path)
    return count


def _cell(sheet, value, is_date: bool, translate: Callable):
    if is_date:
        if value is None:
            return None
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    if isinstance(value, list):
        return SEPARATOR.join(translate(part) for part in value)
    if value is None or value == "":
        return None
    return translate(value) if isinstance(value, TranslationString) else value
