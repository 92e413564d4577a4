"""Reading the access log back: filters, pages, CSV export (for privacy officers)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import Invalid
from .models import AccessLogEntry

CSV_FIELDS = ("seq", "at", "user", "role", "action", "outcome", "dossier_id", "complaint_no",
              "document_id", "ip", "detail")  # fmt: skip
PAGE_SIZE = 100


@dataclass(frozen=True)
class LogFilter:
    user: str | None = None
    dossier_id: str | None = None
    action: str | None = None
    outcome: str | None = None
    start: datetime | None = None
    end: datetime | None = None  # exclusive

    @classmethod
    def from_params(cls, params, zone) -> LogFilter:
        """From query parameters; `from`/`to` are dates (in the archive's zone) or datetimes."""

        def text(name):
            value = params.get(name)
            return value[:64] if value else None

        return cls(
            user=text("user"), dossier_id=text("dossier_id"), action=text("action"),
            outcome=text("outcome"), start=parse_moment(params.get("from"), zone, "from"),
            end=parse_moment(params.get("to"), zone, "to", end_of_day=True),
        )  # fmt: skip

    def apply(self, query):
        columns = {"user": AccessLogEntry.username, "dossier_id": AccessLogEntry.dossier_id,
                   "action": AccessLogEntry.action, "outcome": AccessLogEntry.outcome}  # fmt: skip
        for name, column in columns.items():
            value = getattr(self, name)
            if value is not None:
                query = query.where(column == value)
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
            day = date.fromisoformat(value)
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


def page_of_entries(session: Session, log_filter: LogFilter, page: int, per_page: int = PAGE_SIZE):
    query = log_filter.apply(select(AccessLogEntry)).order_by(AccessLogEntry.seq.desc())
    return list(session.scalars(query.offset((page - 1) * per_page).limit(per_page)))


def iter_entries(session: Session, log_filter: LogFilter) -> Iterator[AccessLogEntry]:
    query = log_filter.apply(select(AccessLogEntry)).order_by(AccessLogEntry.seq)
    return session.scalars(query.execution_options(yield_per=1000))


def csv_rows(entries, as_json) -> Iterator[str]:
    """The contract's CSV: a header row, then one row per entry, oldest first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIELDS)
    yield buffer.getvalue()
    for entry in entries:
        buffer.seek(0)
        buffer.truncate()
        values = as_json(entry)
        writer.writerow([_csv_safe(values[name]) for name in CSV_FIELDS])
        yield buffer.getvalue()


def _csv_safe(value):
    """Spreadsheets run cells that start with = + - @: prefix them (CSV injection)."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
