"""Accounts: users with argon2 password hashes, roles and clearance; expiring bearer tokens."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import Clock
from ..errors import Conflict, Invalid
from .models import ApiToken, User
from .permissions import LEVELS, ROLES

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verifying against this keeps a login for an unknown user as slow as for a known one.
    Made on first use, not at import (an argon2 hash costs every command 0.15 s)."""
    return _hasher.hash("not-a-real-password")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class AccountService:
    def __init__(self, session: Session, clock: Clock, token_ttl: timedelta):
        self.session = session
        self.clock = clock
        self.token_ttl = token_ttl

    def add_user(self, username: str, role: str, password: str, clearance: str = "internal"):
        if not USERNAME.match(username or ""):
            raise Invalid("username must be 2-64 letters, digits, . _ -", field="username")
        if role not in ROLES:
            raise Invalid(f"role must be one of {', '.join(ROLES)}", field="role")
        if clearance not in LEVELS:
            raise Invalid(f"clearance must be one of {', '.join(LEVELS)}", field="clearance")
        if len(password or "") < MIN_PASSWORD_LENGTH:
            raise Invalid(
                f"password must have at least {MIN_PASSWORD_LENGTH} characters", field="password"
            )
        if self.find_user(username) is not None:
            raise Conflict(f"user {username} exists", field="username")
        user = User(
            username=username,
            role=role,
            clearance=clearance,
            password_hash=_hasher.hash(password),
            active=True,
            created_at=self.clock.now(),
        )
        self.session.add(user)
        self.session.flush()
        return user

    def change_user(self, user: User, *, role=None, clearance=None, active=None) -> list[str]:
        """Apply changes; returns what changed. Effective on the user's next request."""
        changes = []
        if role is not None and role != user.role:
            if role not in ROLES:
                raise Invalid(f"role must be one of {', '.join(ROLES)}", field="role")
            changes.append(f"role {user.role} -> {role}")
            user.role = role
        if clearance is not None and clearance != user.clearance:
            if clearance not in LEVELS:
                raise Invalid(f"clearance must be one of {', '.join(LEVELS)}", field="clearance")
            changes.append(f"clearance {user.clearance} -> {clearance}")
            user.clearance = clearance
        if active is not None and active != user.active:
            if not isinstance(active, bool):
                raise Invalid("active must be true or false", field="active")
            changes.append("activated" if active else "deactivated")
            user.active = active
        return changes

    def list_users(self) -> list[User]:
        return list(self.session.scalars(select(User).order_by(User.username)))

    def find_user(self, username: str) -> User | None:
        return self.session.scalar(select(User).where(User.username == username))

    def get_user(self, user_id: int) -> User | None:
        user = self.session.get(User, user_id)
        return user if user is not None and user.active else None

    def authenticate(self, username: str, password: str) -> User | None:
        user = self.find_user(username or "")
        if user is None or not user.active:
            try:
                _hasher.verify(_dummy_hash(), password or "")
            except VerificationError:
                pass
            return None
        try:
            _hasher.verify(user.password_hash, password or "")
        except (VerificationError, InvalidHashError):
            return None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        return user

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
