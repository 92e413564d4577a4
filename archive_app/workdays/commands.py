"""`archive calendar`: the admin loads next year's official holidays (the State Council's
announcement, usually each November) and reads back what the calendar knows of a year."""

from __future__ import annotations

import csv
import getpass
from datetime import date, timedelta
from pathlib import Path

import click
from sqlalchemy import delete

from ..bootstrap import open_app
from ..commands import UsageProblem, reported_errors
from ..dates import NotADate, to_date
from ..interfaces import IClock, IWorkingCalendar
from .calendar import CalendarSnapshot
from .models import WorkdayOverride, WorkdayYear

KINDS = {"holiday": False, "workday": True}


@click.group()
def calendar():
    """Mainland China's working days: official holidays and make-up working days."""


def read_announcement(path: Path) -> dict[date, tuple[bool, str]]:
    """The file's days, every row checked before anything is stored (a bad row stops the load:
    half a year's holidays would be worse than none)."""
    days: dict[date, tuple[bool, str]] = {}
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as error:
        raise UsageProblem(f"cannot read {path}: {error}") from None
    for number, row in enumerate(rows, start=1):
        if not row or not "".join(row).strip() or row[0].strip().lower() == "date":
            continue  # blank lines and the header row
        if len(row) < 2:
            raise UsageProblem(f"{path}:{number}: expected date,kind[,name]")
        try:
            day = to_date(row[0].strip())
        except NotADate:
            raise UsageProblem(f"{path}:{number}: {row[0]!r} is not a date (YYYY-MM-DD)") from None
        kind = row[1].strip().lower()
        if kind not in KINDS:
            raise UsageProblem(f"{path}:{number}: kind must be holiday or workday, not {kind!r}")
        if day in days:
            raise UsageProblem(f"{path}:{number}: {day} is listed twice")
        name = row[2].strip() if len(row) > 2 else ""
        days[day] = (KINDS[kind], name[:64])
    if not days:
        raise UsageProblem(f"{path}: no days in the file")
    return days


@calendar.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def load(config_uri, path):
    """Load an announcement: a CSV of `date,kind,name` rows (kind `holiday` or `workday`).

    Every year named in the file becomes known, as the file says: its weekdays are working
    days and weekends rest, except the days listed. Loading a year again replaces its days.
    """
    days = read_announcement(path)
    years = sorted({day.year for day in days})
    with reported_errors(), open_app(config_uri) as env:
        request, registry = env["request"], env["registry"]
        now, who = registry.getUtility(IClock).now(), f"cli:{getpass.getuser()}"[:64]
        with request.tm:
            session = request.dbsession
            for year in years:
                session.execute(delete(WorkdayOverride).where(
                    WorkdayOverride.day.between(date(year, 1, 1), date(year, 12, 31))))  # fmt: skip
                session.merge(WorkdayYear(year=year, loaded_by=who, loaded_at=now))
            for day, (working, name) in sorted(days.items()):
                session.add(WorkdayOverride(day=day, working=working, name=name,
                                            loaded_by=who, loaded_at=now))  # fmt: skip
    click.echo(f"calendar loaded: {len(days)} days of {', '.join(map(str, years))}")


@calendar.command()
@click.argument("year", type=int)
@click.pass_obj
def show(config_uri, year):
    """The days of YEAR that are not what their weekday says, and its working-day count."""
    with reported_errors(), open_app(config_uri) as env:
        snapshot: CalendarSnapshot = env["registry"].getUtility(IWorkingCalendar).snapshot()
        if not snapshot.knows(year):
            raise UsageProblem(f"the calendar does not know {year}: load it with "
                               "`archive calendar load FILE.csv`")  # fmt: skip
        source = "loaded" if year in snapshot.loaded_years else "chinesecalendar"
        day, working = date(year, 1, 1), 0
        while day.year == year:
            works = snapshot.is_working_day(day)
            working += works
            if works != (day.weekday() < 5):
                click.echo(f"{day.isoformat()} {'workday' if works else 'holiday'}")
            day += timedelta(days=1)
    click.echo(f"{year}: {working} working days ({source})")
