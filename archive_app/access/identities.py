"""Who is asking, as far as clearance goes: a detached snapshot of a user, or the system (the
scheduled run of the command line, which reads every level). Records narrows its queries by
these (records/clearance.py)."""

from __future__ import annotations

from dataclasses import dataclass

from .permissions import LEVELS


@dataclass(frozen=True)
class Identity:
    """Who acts, as far as clearance goes: a detached snapshot of a user, or the system."""

    username: str
    role: str
    clearance: str


# `archive retention run` and `archive retention recompute`: the archive's own schedule.
SYSTEM = Identity(username="cli", role="system", clearance=LEVELS[-1])


def identity_of(user) -> Identity:
    """A snapshot of a user (a request's `request.user`, a row): safe after its session ends."""
    return Identity(username=user.username, role=user.role, clearance=user.clearance)
