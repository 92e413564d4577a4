"""Whether a dossier's reply met its class's time limit, in working days (seed §6).

TODO(calendar): the working-day calendar (archive_app.workdays, IWorkingCalendar) lands on
main at about 18:05 UTC; until it is merged a review says `on_time: null`.
"""

from __future__ import annotations

from collections.abc import Callable


def reply_judge(registry) -> Callable[[dict], bool] | None:
    """`met(row)` for the review's rows, or None while no calendar is configured."""
    return None
