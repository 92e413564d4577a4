"""Accounts: users with argon2 password hashes, roles and clearance; expiring bearer tokens;
web sessions recorded on the server (the cookie only names one)."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from zope.interface import implementer

from ..clock import Clock
from ..errors import Conflict, Forbidden, Invalid
from ..interfaces import IAccountService
from .models import AccountSource, ApiToken, User, WebSession
from .password_policy import MIN_LENGTH, check_password
from .permissions import Level, Role

# Matched whole (fullmatch): `$` alone lets a trailing newline through (`admin\n`).
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,63}")
MIN_PASSWORD_LENGTH = MIN_LENGTH
FULL_NAME_LENGTH = 128

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verifying against this keeps a login for an unknown user as slow as for a known one.
    Made on first use, not at import (an argon2 hash costs every command 0.15 s)."""
    return _hasher.hash("not-a-real-password")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    """Whether `password` is the one hashed (argon2), without telling why not."""
    try:
        return _hasher.verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


def clean_full_name(full_name) -> str | None:
    """A person's name as signatures print it: trimmed, one line, at most 128 characters."""
    if full_name is None:
        return None
    if not isinstance(full_name, str) or not full_name.isprintable():
        raise Invalid("full_name must be text on one line", field="full_name")
    full_name = " ".join(full_name.split())
    if len(full_name) > FULL_NAME_LENGTH:
        raise Invalid(f"full_name must have at most {FULL_NAME_LENGTH} characters",
                      field="full_name")  # fmt: skip
    return full_name or None


@implementer(IAccountService)
class AccountService:
    def __init__(self, session: Session, clock: Clock, token_ttl: timedelta = timedelta(0), *,
                 session_idle: timedelta = timedelta(minutes=30),
                 session_lifetime: timedelta = timedelta(hours=12), directory=None,
                 later=None):  # fmt: skip
        self.session = session
        self.clock = clock
        self.token_ttl = token_ttl
        self.session_idle = session_idle
        self.session_lifetime = session_lifetime
        # Directory sign-in (access/directory.py), when `archive.ldap.url` is set, and how
        # to run something once the request's transaction has ended (its finished callbacks).
        self.directory = directory if directory is not None and directory.enabled else None
        self.later = later or (lambda work: work())
        # Why the last `authenticate` refused, for the access log's `login_failed` entry.
        self.refusal: str | None = None

    def add_user(self, username: str, role: str, password: str, clearance: str = Level.INTERNAL,
                 full_name: str | None = None):  # fmt: skip
        if not isinstance(username, str) or not USERNAME.fullmatch(username):
            raise Invalid("username must be 2-64 letters, digits, . _ - (no spaces or control "
                          "characters), starting with a letter or digit",
                          field="username")  # fmt: skip
        if role not in list(Role):
            raise Invalid(f"role must be one of {', '.join(Role)}", field="role")
        if clearance not in list(Level):
            raise Invalid(f"clearance must be one of {', '.join(Level)}", field="clearance")
        check_password(password, username, field="password")
        full_name = clean_full_name(full_name)
        existing = self.find_user(username)
        if existing is not None:
            raise Conflict(f"user {existing.username} exists (names are the same whatever "
                           "their letter case)", field="username")  # fmt: skip
        user = User(
            username=username,
            role=role,
            clearance=clearance,
            password_hash=_hasher.hash(password),
            active=True,
            created_at=self.clock.now(),
            password_changed_at=self.clock.now(),
            full_name=full_name,
        )
        self.session.add(user)
        self.session.flush()
        return user

    def change_user(self, user: User, *, by: User | None = None, role=None, clearance=None,
                    active=None, full_name=None) -> list[str]:  # fmt: skip
        """Apply changes made by `by` (None: the command line); returns what changed.
        Effective on the user's next request; deactivation ends every token and session."""
        changes = []
        if full_name is not None:
            full_name = clean_full_name(full_name)
            if full_name != user.full_name:
                changes.append(f"full name {user.full_name or '-'} -> {full_name or '-'}")
                user.full_name = full_name
        if role is not None and role != user.role:
            if role not in list(Role):
                raise Invalid(f"role must be one of {', '.join(Role)}", field="role")
            if by is not None and by.id == user.id:
                raise Forbidden("you cannot change your own role; another admin can",
                                field="role")  # fmt: skip
            if user.role == Role.ADMIN:
                self._keep_an_admin(user, "demoted", "role")
            changes.append(f"role {user.role} -> {role}")
            user.role = role
        if clearance is not None and clearance != user.clearance:
            if clearance not in list(Level):
                raise Invalid(f"clearance must be one of {', '.join(Level)}", field="clearance")
            changes.append(f"clearance {user.clearance} -> {clearance}")
            user.clearance = clearance
        if active is not None and active != user.active:
            if not isinstance(active, bool):
                raise Invalid("active must be true or false", field="active")
            if not active and by is not None and by.id == user.id:
                raise Forbidden("you cannot deactivate yourself; another admin can",
                                field="active")  # fmt: skip
            if not active and user.role == Role.ADMIN:
                self._keep_an_admin(user, "deactivated", "active")
            changes.append("activated" if active else "deactivated")
            user.active = active
            if not active:
                # For good: reactivating the user later revives none of these.
                self.end_everything_of(user)
        return changes

    def _keep_an_admin(self, user: User, what: str, field: str) -> None:
        if not user.active:
            return
        # Locked, so that two admins demoting each other at once cannot both pass the check.
        admins = self.session.scalars(
            select(User.id).where(User.role == Role.ADMIN, User.active.is_(True)).with_for_update()
        ).all()
        if set(admins) <= {user.id}:
            raise Conflict(f"{user.username} is the last active admin and cannot be {what}; "
                           "make another admin first", field=field)  # fmt: skip

    def end_everything_of(self, user: User) -> None:
        """Every token and web session of the user ends now (deactivation, a new password)."""
        self.session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=self.clock.now())
        )
        self.session.execute(delete(WebSession).where(WebSession.user_id == user.id))

    def list_users(self) -> list[User]:
        return list(self.session.scalars(select(User).order_by(User.username)))

    def find_user(self, username: str) -> User | None:
        """The user of that name whatever its letter case (names are unique that way)."""
        if not username.isascii():
            # Names are ASCII; and str.lower() would turn some other letters into ASCII ones
            # (the Kelvin sign into `k`) where the database's lower() does not.
            return None
        wanted = func.lower(User.username) == username.lower()
        return self.session.scalar(select(User).where(wanted))

    def active_with_role(self, username: str, role: str) -> User | None:
        """The active user of exactly that name holding `role` (a records manager named to
        approve a retention proposal), else None."""
        user = self.session.scalar(select(User).where(User.username == username[:64]))
        return user if user is not None and user.active and user.role == role else None

    def authenticate(self, username: str, password: str) -> User | None:
        """An existing local account signs in with its local password, even with a directory
        configured (the break-glass admin); any other name goes to the directory, if any."""
        self.refusal = None
        user = self.find_user(username or "")
        if self.directory is not None and (user is None or user.source == AccountSource.DIRECTORY):
            if not USERNAME.fullmatch(username or ""):
                self.refusal = "not a valid user name"
                return None
            return self.directory.sign_in(self, username, user, password, self.later)
        if user is None or not user.active:
            self.refusal = "unknown user" if user is None else "account deactivated"
            try:
                _hasher.verify(_dummy_hash(), password or "")
            except VerificationError:
                pass
            return None
        try:
            _hasher.verify(user.password_hash, password or "")
        except (VerificationError, InvalidHashError):
            directory_account = user.source == AccountSource.DIRECTORY
            self.refusal = ("directory account, and no directory is configured"
                            if directory_account else "wrong password")  # fmt: skip
            return None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        return user

    def verify_password(self, user: User, password: str) -> bool:
        """Whether `password` is the active user's, checked as `authenticate` checks it (the
        directory's for a directory account), without signing in: nothing is logged, no
        session or token is made. A signature's re-authentication (access/signatures.py)."""
        if not user.active or not isinstance(password, str) or not password:
            return False
        if user.source == AccountSource.DIRECTORY:
            if self.directory is None:
                return False
            return self.directory.directory.verify(user.username, password) is not None
        try:
            return _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def issue_token(self, user: User) -> tuple[str, datetime]:
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        expires_at = now + self.token_ttl
        self.session.add(
            ApiToken(
                user_id=user.id,
                token_sha256=token_digest(token),
                created_at=now,
                expires_at=expires_at,
            )
        )
        self.session.flush()
        return token, expires_at

    def user_for_token(self, token: str) -> User | None:
        row = self.session.scalar(
            select(ApiToken).where(ApiToken.token_sha256 == token_digest(token))
        )
        if row is None or row.revoked_at is not None or row.expires_at <= self.clock.now():
            return None
        return row.user if row.user.active else None

    def revoke_token(self, token: str) -> bool:
        row = self.session.scalar(
            select(ApiToken).where(ApiToken.token_sha256 == token_digest(token))
        )
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = self.clock.now()
        return True

    # -- web sessions ---------------------------------------------------------------------
    # The signed cookie holds a random session id; its row here is what makes it count.

    def open_session(self, user_id: int) -> str:
        now = self.clock.now()
        # Sessions past their lifetime are of no use to anyone: forget them at each sign-in.
        self.session.execute(
            delete(WebSession).where(WebSession.created_at <= now - self.session_lifetime)
        )
        sid = secrets.token_urlsafe(32)
        self.session.add(WebSession(user_id=user_id, sid_sha256=token_digest(sid),
                                    created_at=now, last_seen_at=now))  # fmt: skip
        self.session.flush()
        return sid

    def live_session(self, sid: str) -> WebSession | None:
        """The session's row while it lives: not signed out or ended, not idle past the
        idle timeout, not older than the absolute lifetime, its user active."""
        row = self.session.scalar(
            select(WebSession).where(WebSession.sid_sha256 == token_digest(sid))
        )
        now = self.clock.now()
        if row is None or row.created_at + self.session_lifetime <= now:
            return None
        if row.last_seen_at + self.session_idle <= now or not row.user.active:
            return None
        return row

    def touch_session(self, sid: str) -> None:
        now = self.clock.now()
        self.session.execute(
            update(WebSession)
            .where(WebSession.sid_sha256 == token_digest(sid), WebSession.last_seen_at < now)
            .values(last_seen_at=now)
        )

    def end_session(self, sid: str) -> None:
        self.session.execute(delete(WebSession).where(WebSession.sid_sha256 == token_digest(sid)))
