"""What tests share besides fixtures: users, the test ini, the error-shape assertion."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
TESTING_INI = str(ROOT / "testing.ini")

USERS = {
    # name: (role, clearance)
    "archivist": ("archivist", "restricted"),
    "archivist_internal": ("archivist", "internal"),
    "auditor": ("auditor", "confidential"),
    "privacy": ("privacy_officer", "restricted"),
    "records": ("records_manager", "restricted"),
    "admin": ("admin", "restricted"),
}
PASSWORD = "correct-horse-battery"


def database_url(storage: Path) -> str:
    if os.environ.get("ARCHIVE_TEST_DATABASE") == "postgres":
        url = os.environ["ARCHIVE_TEST_POSTGRES_URL"]
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        return url
    return f"sqlite:///{storage}/archive.sqlite"


def assert_error(response, status: int, code: str, field: str | None = ...):
    """The contract's error shape, with its status, code and (if given) field."""
    assert response.status_int == status, response.text
    body = response.json
    assert set(body) >= {"error", "detail", "field"}, body
    assert body["error"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    if field is not ...:
        assert body["field"] == field, body
