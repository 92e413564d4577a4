"""Reading the access log back: filters, pages, CSV and XLSX exports (for privacy officers).

Every entry is shown (a gap would look like a cut chain), but an entry that names a dossier
above the reader's clearance is shown withheld: no dossier id, complaint number, document id
or detail. Filtering by such a dossier finds nothing, so totals do not reveal it either.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import Result, func, select
from sqlalchemy.orm import Session

from ..dates import to_date
from ..errors import Invalid
from .models import AccessLogEntry

CSV_FIELDS = ("seq", "at", "user", "role", "action", "outcome", "dossier_id", "complaint_no",
              "document_id", "ip", "detail")  # fmt: skip
PAGE_SIZE = 100
WITHHELD = "withheld: the entry names a dossier above your clearance"
WITHHELD_FIELDS = ("dossier_id", "complaint_no", "document_id")


@dataclass(frozen=True)
class LogFilter:
    user: str | None = None
    dossier_id: str | None = None
    complaint_no: str | None = None
    action: str | None = None
    outcome: str | None = None
    start: datetime | None = None
    end: datetime | None = None  # exclusive
    identity: object = None  # the reader (access/identities.py); None may read nothing
    # What an entry's dossier is (IDossierClearance, which records registers).
    clearance: object = None

    @classmethod
    def from_params(cls, params, zone, *, identity, clearance) -> LogFilter:
        """From query parameters; `from`/`to` are dates (in the archive's zone) or datetimes."""

        def text(name):
            value = params.get(name)
            return value[:64] if value else None

        return cls(
            user=text("user"), dossier_id=text("dossier_id"), complaint_no=text("complaint_no"),
            action=text("action"),
            outcome=text("outcome"), start=parse_moment(params.get("from"), zone, "from"),
            end=parse_moment(params.get("to"), zone, "to", end_of_day=True), identity=identity,
            clearance=clearance,
        )  # fmt: skip

    def withheld(self):
        """SQL: the entry names (by id or number) a dossier the reader may not read. Entries
        naming no dossier, or an id that was never filed, have nothing to withhold."""
        return self.clearance.withheld_clause(self.identity)

    def apply(self, query):
        columns = {"dossier_id": AccessLogEntry.dossier_id, "action": AccessLogEntry.action,
                   "outcome": AccessLogEntry.outcome}  # fmt: skip
        for name, column in columns.items():
            value = getattr(self, name)
            if value is not None:
                query = query.where(column == value)
        if self.user is not None:
            # Names sign in whatever their letter case (services.find_user): so are they found.
            query = query.where(func.lower(AccessLogEntry.username) == self.user.lower())
        if self.complaint_no is not None:
            query = query.where(self.clearance.names_clause(self.complaint_no))
        if self.dossier_id is not None or self.complaint_no is not None:
            # Asking about a dossier one may not read finds nothing: not even a count.
            query = query.where(~self.withheld())
        if self.start is not None:
            query = query.where(AccessLogEntry.at >= self.start)
        if self.end is not None:
            query = query.where(AccessLogEntry.at < self.end)
        return query


def parse_moment(value: str | None, zone, field: str, end_of_day: bool = False):
    if not value:
        return None
    try:
        if len(value) == 10:
            day = to_date(value)  # NotADate is a ValueError
            if end_of_day:
                day += timedelta(days=1)
            return datetime.combine(day, time(), tzinfo=zone)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(
            f"{field} must be a date (YYYY-MM-DD) or an ISO datetime", field=field
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def count_entries(session: Session, log_filter: LogFilter) -> int:
    query = log_filter.apply(select(func.count()).select_from(AccessLogEntry))
    return session.scalar(query)


def _with_withheld(log_filter: LogFilter):
    return log_filter.apply(select(AccessLogEntry, log_filter.withheld()))


def page_of_entries(session: Session, log_filter: LogFilter, page: int,
                    per_page: int = PAGE_SIZE) -> list[tuple[AccessLogEntry, bool]]:  # fmt: skip
    """(entry, withheld) pairs, newest first."""
    query = _with_withheld(log_filter).order_by(AccessLogEntry.seq.desc())
    rows = session.execute(query.offset((page - 1) * per_page).limit(per_page))
    return [(entry, bool(withheld)) for entry, withheld in rows]


def iter_entries(session: Session, log_filter: LogFilter) -> Result:
    """(entry, withheld) pairs, oldest first, read a thousand at a time. A `Result`: close it
    (`with`) when a reader may stop early, so PostgreSQL's server-side cursor goes with it."""
    query = _with_withheld(log_filter).order_by(AccessLogEntry.seq)
    return session.execute(query.execution_options(yield_per=1000))


def shown_json(as_json, row) -> dict:
    """An (entry, withheld) pair as the reader sees it (`as_json`: the log's own)."""
    entry, withheld = row
    values = as_json(entry)
    if withheld:
        values.update(dict.fromkeys(WITHHELD_FIELDS), detail=WITHHELD)
    return values


def csv_rows(entries, as_json) -> Iterator[str]:
    """The contract's CSV: a header row, then one row per (entry, withheld), oldest first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIELDS)
    yield buffer.getvalue()
    for entry in entries:
        buffer.seek(0)
        buffer.truncate()
        values = shown_json(as_json, entry)
        writer.writerow([_csv_safe(values[name]) for name in CSV_FIELDS])
        yield buffer.getvalue()


def _csv_safe(value):
    """Spreadsheets run cells that start with = + - @: prefix them (CSV injection)."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def xlsx_bytes(entries, as_json) -> bytes:
    """The CSV's columns and rows as an Excel workbook. openpyxl's write-only mode keeps the
    rows out of memory while it writes; the finished workbook (a zip, far smaller than its
    rows) is held whole, as a zip's index is written last. `seq` is a number; every other
    cell is the CSV's text, prefixed the same way against formulas (openpyxl would store a
    cell starting with `=` as one)."""
    # Imported here: openpyxl costs every command (and the app's start) a third of a second.
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("access log")
    sheet.append(list(CSV_FIELDS))
    for entry in entries:
        values = shown_json(as_json, entry)
        sheet.append([values["seq"]] + [_cell(values[name]) for name in CSV_FIELDS[1:]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(value) -> str:
    # Control characters cannot be stored in a workbook (a typed sign-in name may hold some).
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", _csv_safe(value))
