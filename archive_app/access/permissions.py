"""Permissions (`scope:resource:action`) and the contract's role × action matrix (§3)."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    FILE_DOSSIERS = "records:dossier:file"
    READ_DOSSIERS = "records:dossier:read"
    SEE_PERSONAL_DATA = "records:personal:unmasked"
    DOWNLOAD_DOCUMENTS = "records:document:download"
    # `q` in search matches document text (contract §3): the roles that may read documents.
    SEARCH_DOCUMENT_TEXT = "search:text:read"
    REVIEW_ACCESS_LOG = "access:log:review"
    MANAGE_RETENTION = "retention:run:manage"
    READ_CERTIFICATES = "retention:certificate:read"
    MANAGE_USERS = "access:user:manage"


ROLES = ("archivist", "auditor", "privacy_officer", "records_manager", "admin")
LEVELS = ("internal", "confidential", "restricted")

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "archivist": frozenset(
        {
            Permission.FILE_DOSSIERS,
            Permission.READ_DOSSIERS,
            Permission.SEE_PERSONAL_DATA,
            Permission.DOWNLOAD_DOCUMENTS,
            Permission.SEARCH_DOCUMENT_TEXT,
        }
    ),
    "auditor": frozenset(
        {
            Permission.READ_DOSSIERS,
            Permission.DOWNLOAD_DOCUMENTS,
            Permission.READ_CERTIFICATES,
            Permission.SEARCH_DOCUMENT_TEXT,
        }
    ),
    "privacy_officer": frozenset({Permission.REVIEW_ACCESS_LOG}),
    "records_manager": frozenset(
        {Permission.READ_DOSSIERS, Permission.MANAGE_RETENTION, Permission.READ_CERTIFICATES}
    ),
    "admin": frozenset({Permission.MANAGE_USERS}),
}

# Permissions that touch one dossier's content: granted only together with enough clearance.
DOSSIER_PERMISSIONS = frozenset(
    {
        Permission.READ_DOSSIERS,
        Permission.SEE_PERSONAL_DATA,
        Permission.DOWNLOAD_DOCUMENTS,
        Permission.FILE_DOSSIERS,
        Permission.MANAGE_RETENTION,
    }
)


def level_rank(level: str) -> int:
    return LEVELS.index(level)


def levels_up_to(clearance: str) -> tuple[str, ...]:
    return LEVELS[: level_rank(clearance) + 1]
