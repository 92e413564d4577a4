"""Reading the archive's settings: ini values, overridable from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path

from pyramid.settings import asbool

# Environment variables that override ini settings, so production secrets and paths
# need not live in a file (Kinto's habit).
ENVIRONMENT_OVERRIDES = {
    "ARCHIVE_SQLALCHEMY_URL": "sqlalchemy.url",
    "ARCHIVE_STORAGE_DIR": "archive.storage_dir",
    "ARCHIVE_KEYRING_PATH": "archive.keyring_path",
    "ARCHIVE_BUCKET_KEYS_PATH": "archive.bucket_keys_path",
    "ARCHIVE_MAX_UPLOAD_MB": "archive.max_upload_mb",
    "ARCHIVE_MAX_BODY_KB": "archive.max_body_kb",
    "ARCHIVE_TIMEZONE": "archive.timezone",
    "ARCHIVE_SESSION_SECRET": "archive.session_secret",
    "ARCHIVE_RETENTION_RULE": "archive.retention.rule",
    "ARCHIVE_ORPHAN_GRACE_HOURS": "archive.orphan_grace_hours",
    "ARCHIVE_RETENTION_APPROVAL": "archive.retention.approval",
    "ARCHIVE_SIGNATURES_REQUIRED": "archive.signatures.required",
    "ARCHIVE_LDAP_BIND_PASSWORD": "archive.ldap.bind_password",
    "ARCHIVE_SEARCH_BACKEND": "archive.search.backend",
}

DEFAULTS = {
    "archive.max_upload_mb": "512",
    "archive.max_parts": "64",
    # Any request body outside the upload routes (sign-in, JSON, web forms), in KiB.
    "archive.max_body_kb": "1024",
    "archive.timezone": "Asia/Shanghai",
    "archive.retention.default_years": "5",
    "archive.retention.rule": "procedure",
    "archive.retention.approval": "false",
    "archive.signatures.required": "false",  # true in production.ini
    "archive.retention.bucket_idle_seconds": "600",
    "archive.token_ttl_hours": "12",
    "archive.orphan_grace_hours": "24",
    "archive.cookie_secure": "false",
    "archive.session_idle_minutes": "30",
    "archive.session_max_hours": "12",  # a web session ends this long after sign-in
    "archive.login_window_minutes": "15",
    "archive.login_max_failures_per_user": "5",
    "archive.login_max_failures_per_address": "20",
    # Accounts (access/account.py): days a password lasts (0: for ever), the roles that must
    # use a second factor (space or comma separated; none by default), the name
    # authenticator apps show beside the account.
    "archive.auth.password_max_days": "0",
    "archive.auth.require_second_factor": "",
    "archive.auth.totp_issuer": "complaint-archive",
    # Search: a document's text extraction is killed past this time and refused more memory;
    # a query past its time limit answers 422 query_too_costly; filings are indexed by a
    # background thread, a batch per Whoosh commit, this long after the first commit.
    "archive.search.extract_timeout": "20",
    "archive.search.extract_memory_mb": "1024",
    # A document's text is indexed up to this many million characters (a manual's first
    # chapters rather than nothing).
    "archive.search.max_text_mb": "2",
    "archive.search.query_timeout": "2",
    "archive.search.index_in_background": "true",
    "archive.search.batch_delay": "0.5",
    "archive.search.reindex_processes": "2",
    # OCR of scans (images, PDF pages without text) in the background: sandboxed children
    # (workers), pages read per document and seconds per document.
    "archive.search.ocr_in_background": "true",
    "archive.search.ocr_workers": "1",
    "archive.search.ocr_max_pages": "20",
    "archive.search.ocr_timeout": "120",
    # Where the search index lives: `whoosh` (a folder under storage/index/) or `postgres`
    # (tables of the archive's PostgreSQL database: several web nodes, large archives).
    "archive.search.backend": "whoosh",
    # Reply time limits per complaint class in working days (archive_app/workdays: the seed
    # names its table without giving it), and how often the calendar re-reads the admin's days.
    "archive.time_limit.I": "5",
    "archive.time_limit.II": "10",
    "archive.time_limit.III": "15",
    "archive.calendar.refresh_seconds": "60",
}


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it."""


# Passed by a command in the paste `global_conf` (bootstrap.open_app), never set in an ini file:
# the command's app has every service and route and no views (services_only.py).
COMMAND_APP = "archive.command_app"


def apply_overrides(settings: MutableMapping[str, str], environ: Mapping[str, str] | None = None):
    environ = os.environ if environ is None else environ
    for variable, key in ENVIRONMENT_OVERRIDES.items():
        if environ.get(variable):
            settings[key] = environ[variable]
    for key, value in DEFAULTS.items():
        settings.setdefault(key, value)
    return settings


def storage_dir(settings: Mapping[str, str]) -> Path:
    value = settings.get("archive.storage_dir")
    if not value:
        raise SettingsError("archive.storage_dir is not set")
    return Path(value)


def keyring_path(settings: Mapping[str, str]) -> Path:
    value = settings.get("archive.keyring_path")
    return Path(value) if value else storage_dir(settings) / "keyring" / "keyring.json"


def bucket_keys_path(settings: Mapping[str, str]) -> Path:
    """The retention-bucket keys: beside the keyring file, also when the keyring itself
    comes from the environment (they change at run time, so they need a writable file)."""
    value = settings.get("archive.bucket_keys_path")
    if value:
        return Path(value)
    return storage_dir(settings) / "keyring" / "retention-keys.json"


def as_choice(settings: Mapping[str, str], key: str, choices: tuple[str, ...]) -> str:
    value = str(settings.get(key, DEFAULTS.get(key, ""))).strip()
    if value not in choices:
        raise SettingsError(f"{key} must be one of {', '.join(choices)}")
    return value


def as_int(settings: Mapping[str, str], key: str, minimum: int = 0) -> int:
    try:
        value = int(str(settings.get(key, DEFAULTS.get(key, ""))).strip())
    except ValueError:
        raise SettingsError(f"{key} must be a whole number") from None
    if value < minimum:
        raise SettingsError(f"{key} must be at least {minimum}")
    return value


def as_seconds(settings: Mapping[str, str], key: str) -> float:
    """A duration in seconds, fractions allowed, more than zero."""
    try:
        value = float(str(settings.get(key, DEFAULTS.get(key, ""))).strip())
    except ValueError:
        raise SettingsError(f"{key} must be a number of seconds") from None
    if not value > 0:  # also refuses NaN
        raise SettingsError(f"{key} must be more than 0 seconds")
    return value


def as_bool(settings: Mapping[str, str], key: str) -> bool:
    return asbool(settings.get(key, DEFAULTS.get(key, "false")))
