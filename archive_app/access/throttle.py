"""Login throttling: too many failed sign-ins for one user name, or from one address, within
a window, and further attempts are refused (429) without checking the password.

Counted from the access log itself (its `login_failed` entries), so every web process and
the API share one count, and a restart forgets nothing. Refused attempts are logged as
`login_throttled`, which does not count, so an attacker cannot extend a block forever by
hammering it; the block lifts when the window has passed since the failures.
"""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import func, select

from ..errors import TooManyAttempts
from ..interfaces import IClock
from ..settings import as_int
from .audit import log_after_request
from .models import AccessLogEntry, AccessOutcome


def refuse_if_throttled(request, username: str) -> None:
    settings = request.registry.settings
    window = timedelta(minutes=as_int(settings, "archive.login_window_minutes", 1))
    since = request.find_service(IClock).now() - window
    failed = select(func.count(), func.min(AccessLogEntry.at)).where(
        AccessLogEntry.action == "login_failed", AccessLogEntry.at >= since
    )
    session = request.dbsession
    # Names sign in whatever their letter case, so `Admin` and `ADMIN` count as `admin`.
    same_name = func.lower(AccessLogEntry.username) == username.lower()
    by_user = session.execute(failed.where(same_name)).one()
    by_address = session.execute(failed.where(AccessLogEntry.ip == request.client_addr)).one()
    for (count, oldest), limit in (
        (by_user, as_int(settings, "archive.login_max_failures_per_user", 1)),
        (by_address, as_int(settings, "archive.login_max_failures_per_address", 1)),
    ):
        if count >= limit:
            wait = oldest + window - request.find_service(IClock).now()
            minutes = max(1, math.ceil(wait.total_seconds() / 60))
            log_after_request(request, "login_throttled", AccessOutcome.DENIED, username=username,
                              detail=f"{count} failed sign-ins in {window}")  # fmt: skip
            error = TooManyAttempts(f"too many failed sign-ins; try again in {minutes} minute(s)",
                                    field=None)  # fmt: skip
            error.retry_after = minutes * 60
            raise error


def locked_until(session, settings, now) -> dict[str, object]:
    """{user name in lower case: when its sign-in block lifts}, for the names blocked now
    (refuse_if_throttled's rule for a name: as many failures in the window as the limit)."""
    window = timedelta(minutes=as_int(settings, "archive.login_window_minutes", 1))
    limit = as_int(settings, "archive.login_max_failures_per_user", 1)
    name = func.lower(AccessLogEntry.username)
    query = (select(name, func.min(AccessLogEntry.at))
             .where(AccessLogEntry.action == "login_failed", AccessLogEntry.at >= now - window,
                    AccessLogEntry.username.is_not(None))
             .group_by(name).having(func.count() >= limit))  # fmt: skip
    return {user: oldest + window for user, oldest in session.execute(query)}
