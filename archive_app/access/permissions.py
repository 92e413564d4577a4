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
    # Periodic access reviews (/users/review): admins and privacy officers review and sign off.
    REVIEW_ACCESS = "access:account:review"
    # Quarterly and annual reviews (contract §3): created by archivists, read by three roles.
    CREATE_REVIEWS = "reports:review:create"
    READ_REVIEWS = "reports:review:read"
    # One's own password and second factor (/account): every role.
    OWN_ACCOUNT = "access:account:own"


class Role(StrEnum):
    ARCHIVIST = "archivist"
    AUDITOR = "auditor"
    PRIVACY_OFFICER = "privacy_officer"
    RECORDS_MANAGER = "records_manager"
    ADMIN = "admin"


class Level(StrEnum):
    """Confidentiality of a dossier and clearance of a user, low to high (members in order)."""

    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    RESTRICTED = "restricted"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ARCHIVIST: frozenset(
        {
            Permission.OWN_ACCOUNT,
            Permission.FILE_DOSSIERS,
            Permission.READ_DOSSIERS,
            Permission.SEE_PERSONAL_DATA,
            Permission.DOWNLOAD_DOCUMENTS,
            Permission.SEARCH_DOCUMENT_TEXT,
            Permission.CREATE_REVIEWS,
            Permission.READ_REVIEWS,
        }
    ),
    Role.AUDITOR: frozenset(
        {
            Permission.OWN_ACCOUNT,
            Permission.READ_DOSSIERS,
            Permission.DOWNLOAD_DOCUMENTS,
            Permission.READ_CERTIFICATES,
            Permission.SEARCH_DOCUMENT_TEXT,
            Permission.READ_REVIEWS,
        }
    ),
    Role.PRIVACY_OFFICER: frozenset(
        {Permission.REVIEW_ACCESS_LOG, Permission.REVIEW_ACCESS, Permission.OWN_ACCOUNT}
    ),
    Role.RECORDS_MANAGER: frozenset(
        {
            Permission.READ_DOSSIERS,
            Permission.MANAGE_RETENTION,
            Permission.READ_CERTIFICATES,
            Permission.READ_REVIEWS,
            Permission.OWN_ACCOUNT,
        }
    ),
    Role.ADMIN: frozenset(
        {Permission.MANAGE_USERS, Permission.REVIEW_ACCESS, Permission.OWN_ACCOUNT}
    ),
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
    return list(Level).index(level)


def levels_up_to(clearance: str) -> tuple[Level, ...]:
    return tuple(Level)[: level_rank(clearance) + 1]
