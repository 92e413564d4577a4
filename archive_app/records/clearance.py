"""Which dossiers an identity may read, said once, inside the query itself.

Like Plone's catalog security: every list and every action that selects dossiers starts from
`readable(query, identity)`, so the clearance filter travels with the SQL and no caller can
forget it (a view that checks each row after the fact leaks through counts, order and
errors). An identity is a user (`.role`, `.clearance`) or `SYSTEM`, the scheduled run of the
command line, which reads every level.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..access.permissions import Level, levels_up_to
from .models import Dossier


@dataclass(frozen=True)
class Identity:
    """Who acts, as far as clearance goes: a detached snapshot of a user, or the system."""

    username: str
    role: str
    clearance: str


# `archive retention run` and `archive retention recompute`: the archive's own schedule.
SYSTEM = Identity(username="cli", role="system", clearance=Level.RESTRICTED)  # the highest


def identity_of(user) -> Identity:
    """A snapshot of a user (a request's `request.user`, a row): safe after its session ends."""
    return Identity(username=user.username, role=user.role, clearance=user.clearance)


def readable_levels(identity) -> tuple[str, ...]:
    """The confidentiality levels the identity may read; none for an unknown clearance."""
    clearance = getattr(identity, "clearance", None)
    if identity is None or clearance not in list(Level):
        return ()
    return levels_up_to(clearance)


def may_read(identity, level: str | None) -> bool:
    return level in readable_levels(identity)


def readable_clause(identity, dossier=Dossier):
    """The SQL condition: the dossier (the mapped class or an alias) is at a readable level."""
    return dossier.confidentiality.in_(readable_levels(identity))


def readable(query, identity, dossier=Dossier):
    """`query` (a select() that involves `dossier`) narrowed to what the identity may read."""
    return query.where(readable_clause(identity, dossier))


__all__ = ["SYSTEM", "Identity", "identity_of", "may_read", "readable", "readable_clause",
           "readable_levels"]  # fmt: skip
