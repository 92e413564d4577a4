"""Users, API tokens, web sessions and the hash-chained access log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, false, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UTCDateTime
from .permissions import Level


class AccountSource(StrEnum):
    """Where an account's password is checked: here (argon2) or by the directory (LDAP)."""

    LOCAL = "local"
    DIRECTORY = "directory"  # provisioned at the first directory sign-in, managed there


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    clearance: Mapped[str] = mapped_column(String(16), default=Level.INTERNAL)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(16), default=AccountSource.LOCAL,
                                        server_default=AccountSource.LOCAL)  # fmt: skip
    # The person's name as it is printed on signatures (access/account.py).
    full_name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # None for accounts made before passwords were dated: their age counts from created_at.
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Set by an admin's reset: until the user picks their own, only /account is open to them.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=false())  # fmt: skip
    # The TOTP secret sealed by the vault's field cipher (bound to the user's id); `pending`
    # while an enrolment awaits its first code, `secret` once confirmed.
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    totp_pending: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # The time step of the last code accepted: a code of that step or before is never again.
    totp_last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")


# One name whatever its letter case: `ADMIN` beside `admin` would look like one person in the
# access log and on signatures, and sign-in looks names up case-insensitively.
Index("uq_users_username_lower", func.lower(User.username), unique=True)


class RecoveryCode(Base):
    """A one-time recovery code of the second factor: only its keyed hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hmac: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ApiToken(Base):
    """A bearer token; only its SHA-256 is kept, so a database leak hands out no tokens."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship(back_populates="tokens")


class WebSession(Base):
    """A signed-in browser. The signed cookie carries a random id; only its SHA-256 is kept.
    A cookie counts only while its row lives, so signing out, deactivation (and anything else
    that deletes the row) ends it on the server, and a captured cookie dies with it."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    sid_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class AccessOutcome(StrEnum):
    """How a logged request ended (the access log's `outcome`)."""

    OK = "ok"
    DENIED = "denied"  # who may not: not signed in, a missing permission, a bad CSRF token
    REFUSED = "refused"  # bad input, guessed ids, conflicts
    FAILED = "failed"  # the archive could not (a damaged blob, a full disk)


class AccessLogEntry(Base):
    """One line of the access log; `mac` chains it to the line before (HMAC-SHA256)."""

    __tablename__ = "access_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    username: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    role: Mapped[str | None] = mapped_column(String(32), nullable=True)
    action: Mapped[str] = mapped_column(String(32), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    dossier_id: Mapped[str | None] = mapped_column(String(32), index=True, nullable=True)
    complaint_no: Mapped[str | None] = mapped_column(String(32), nullable=True)
    document_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(255), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    mac: Mapped[str] = mapped_column(String(64))


class AccessLogHead(Base):
    """The chain's head in one row: locking it serialises appends on every database."""

    __tablename__ = "access_log_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    mac: Mapped[str] = mapped_column(String(64), default="0" * 64)
