"""The principals a user carries: who they are, their role, and role-at-clearance pairs."""

from __future__ import annotations

from .permissions import levels_up_to


def role_principal(role: str) -> str:
    return f"role:{role}"


def cleared_principal(role: str, level: str) -> str:
    """Role and clearance together, because dossier ACLs need both at once (an AND)."""
    return f"role:{role}@{level}"


def principals_for(user) -> list[str]:
    principals = [f"user:{user.id}", role_principal(user.role)]
    for level in levels_up_to(user.clearance):
        principals.append(f"clearance:{level}")
        principals.append(cleared_principal(user.role, level))
    return principals
