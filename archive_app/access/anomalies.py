"""Patterns in the access log worth a privacy officer's look, from configurable rules."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..records.models import Dossier
from ..settings import SettingsError, as_int
from .models import AccessLogEntry

READS = ("view", "download")


@dataclass(frozen=True)
class AnomalyRules:
    restricted_views_per_day: int = 20
    downloads_per_hour: int = 50
    denials_per_hour: int = 10
    working_hours: tuple[time, time] = (time(8, 0), time(20, 0))
    window_days: int = 7

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
        )


@dataclass
class Flag:
    rule: str
    user: str | None
    period: str
    count: int
    seqs: list[int] = field(default_factory=list)


def find_anomalies(session: Session, rules: AnomalyRules, now: datetime, zone) -> list[Flag]:
    """Flags over the last `window_days`, each naming the entries (sequence numbers) behind it."""
    since = now - timedelta(days=rules.window_days)
    rows = session.execute(
        select(AccessLogEntry, Dossier.confidentiality)
        .outerjoin(Dossier, Dossier.id == AccessLogEntry.dossier_id)
        .where(AccessLogEntry.at >= since, AccessLogEntry.at <= now)
        .order_by(AccessLogEntry.seq)
    ).all()
    restricted_views = defaultdict(set)
    restricted_seqs = defaultdict(list)
    downloads, denials = defaultdict(list), defaultdict(list)
    off_hours = defaultdict(list)
    start, end = rules.working_hours
    for entry, level in rows:
        local = entry.at.astimezone(zone)
        who = entry.username or f"ip {entry.ip}"
        if entry.outcome == "denied":
            denials[(who, local.strftime("%Y-%m-%d %H:00"))].append(entry.seq)
            continue
        if entry.action not in READS or entry.outcome != "ok":
            continue
        if level == "restricted" and entry.action == "view":
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
    return sorted(flags, key=lambda flag: (flag.period, flag.rule), reverse=True)
