"""Patterns in the access log worth a privacy officer's look, from configurable rules."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..settings import SettingsError, as_int
from .models import AccessLogEntry, AccessOutcome
from .permissions import Level

READS = ("view", "download", "preview")
SEARCH = "search"  # searches and complaint-number look-ups alike


@dataclass(frozen=True)
class AnomalyRules:
    restricted_views_per_day: int = 20
    downloads_per_hour: int = 50
    denials_per_hour: int = 10
    working_hours: tuple[time, time] = (time(8, 0), time(20, 0))
    window_days: int = 7
    # One user searching more than this many times within `search_burst_seconds`: what
    # enumerating a masked value looks like (5,502 searches in 38 s complete a masked phone).
    searches_per_burst: int = 100
    search_burst_seconds: int = 300

    @classmethod
    def from_settings(cls, settings) -> AnomalyRules:
        """`archive.anomaly.*` settings; the defaults above where one is not set."""
        defaults = cls()

        def number(name: str) -> int:
            key = f"archive.anomaly.{name}"
            return as_int(settings, key, 1) if key in settings else getattr(defaults, name)

        hours = str(settings.get("archive.anomaly.working_hours", "08:00-20:00"))
        start, _, end = hours.partition("-")
        try:
            working = (time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))
        except ValueError:
            raise SettingsError(
                "archive.anomaly.working_hours must look like 08:00-20:00"
            ) from None
        return cls(
            restricted_views_per_day=number("restricted_views_per_day"),
            downloads_per_hour=number("downloads_per_hour"),
            denials_per_hour=number("denials_per_hour"),
            working_hours=working,
            window_days=number("window_days"),
            searches_per_burst=number("searches_per_burst"),
            search_burst_seconds=number("search_burst_seconds"),
        )


@dataclass
class Flag:
    rule: str
    user: str | None
    period: str
    count: int
    seqs: list[int] = field(default_factory=list)


def find_anomalies(session: Session, rules: AnomalyRules, now: datetime, zone,
                   levels: Callable[[Session, set[str]], dict]) -> list[Flag]:  # fmt: skip
    """Flags over the last `window_days`, each naming the entries (sequence numbers) behind it.
    `levels(session, dossier ids)` gives their confidentiality (IDossierClearance.levels)."""
    since = now - timedelta(days=rules.window_days)
    entries = session.scalars(
        select(AccessLogEntry)
        .where(AccessLogEntry.at >= since, AccessLogEntry.at <= now)
        .order_by(AccessLogEntry.seq)
    ).all()
    named = levels(session, {entry.dossier_id for entry in entries if entry.dossier_id})
    rows = [(entry, named.get(entry.dossier_id)) for entry in entries]
    restricted_views = defaultdict(set)
    restricted_seqs = defaultdict(list)
    downloads, denials = defaultdict(list), defaultdict(list)
    off_hours = defaultdict(list)
    searches = defaultdict(list)  # user -> [(time, seq)] in log order
    start, end = rules.working_hours
    for entry, level in rows:
        local = entry.at.astimezone(zone)
        who = entry.username or f"ip {entry.ip}"
        if entry.outcome == AccessOutcome.DENIED:
            denials[(who, local.strftime("%Y-%m-%d %H:00"))].append(entry.seq)
            continue
        if entry.action == SEARCH and entry.outcome == AccessOutcome.OK:
            searches[who].append((entry.at, entry.seq))
        if entry.action not in READS or entry.outcome != AccessOutcome.OK:
            continue
        if level == Level.RESTRICTED and entry.action == "view":
            key = (who, local.date().isoformat())
            restricted_views[key].add(entry.dossier_id)
            restricted_seqs[key].append(entry.seq)
        if entry.action == "download":
            downloads[(who, local.strftime("%Y-%m-%d %H:00"))].append(entry.seq)
        if local.weekday() >= 5 or not start <= local.time() < end:
            off_hours[(who, local.date().isoformat())].append(entry.seq)
    flags = [
        Flag("restricted_views", who, day, len(ids), restricted_seqs[(who, day)])
        for (who, day), ids in restricted_views.items()
        if len(ids) > rules.restricted_views_per_day
    ]
    flags += [
        Flag("bulk_downloads", who, hour, len(seqs), seqs)
        for (who, hour), seqs in downloads.items()
        if len(seqs) > rules.downloads_per_hour
    ]
    flags += [
        Flag("denial_burst", who, hour, len(seqs), seqs)
        for (who, hour), seqs in denials.items()
        if len(seqs) > rules.denials_per_hour
    ]
    flags += [Flag("off_hours", who, day, len(seqs), seqs)
              for (who, day), seqs in off_hours.items()]  # fmt: skip
    for who, timed in searches.items():
        flags += [Flag("search_burst", who, timed[first][0].astimezone(zone).strftime(
                      "%Y-%m-%d %H:%M"), len(seqs), seqs)
                  for first, seqs in search_bursts(timed, rules)]  # fmt: skip
    return sorted(flags, key=lambda flag: (flag.period, flag.rule), reverse=True)


def search_bursts(timed: list[tuple[datetime, int]], rules: AnomalyRules):
    """(index of the first, sequence numbers) of each burst in one user's searches: a run of
    searches in which every `searches_per_burst` + 1 consecutive ones fall within
    `search_burst_seconds`, overlapping windows joined into one burst."""
    window = timedelta(seconds=rules.search_burst_seconds)
    limit = rules.searches_per_burst
    bursts: list[tuple[int, int]] = []  # [first, last] indexes
    for last in range(limit, len(timed)):
        first = last - limit
        if timed[last][0] - timed[first][0] <= window:
            if bursts and first <= bursts[-1][1]:
                bursts[-1] = (bursts[-1][0], last)
            else:
                bursts.append((first, last))
    return [(first, [seq for _, seq in timed[first : last + 1]]) for first, last in bursts]
