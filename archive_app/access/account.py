"""An account's own credentials: its password (changed by its owner, reset by an admin,
expiring), its second factor (TOTP enrolment, codes, one-time recovery codes), and the rules
that confine an account to /account until it complies (issue #15 items 2 and 3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session
from zope.interface import implementer

from ..clock import Clock
from ..errors import Invalid
from ..interfaces import IAccountRules, IClock, ICredentials, IFieldCipher
from ..settings import SettingsError, as_int
from . import second_factor
from .models import AccountSource, ApiToken, RecoveryCode, User, WebSession
from .password_policy import PasswordRefused, check_password
from .permissions import Role
from .services import hash_password, password_matches, token_digest

MAX_DAYS_SETTING = "archive.auth.password_max_days"
SECOND_FACTOR_SETTING = "archive.auth.require_second_factor"
ISSUER_SETTING = "archive.auth.totp_issuer"


class Confinement(StrEnum):
    """Why an account may reach only /account for now."""

    PASSWORD_CHANGE = "password_change"  # an admin reset the password
    PASSWORD_EXPIRED = "password_expired"  # older than archive.auth.password_max_days
    SECOND_FACTOR = "second_factor"  # the role must use a second factor; none enrolled


class SecondFactorUse(StrEnum):
    TOTP = "totp"
    RECOVERY = "recovery"


@implementer(IAccountRules)
@dataclass
class AccountRules:
    """The account rules of the settings, read once at start-up (zope's @implementer and a
    frozen dataclass do not mix: it sets an attribute on the instance's class)."""

    password_max_days: int = 0  # 0: passwords never expire
    second_factor_roles: frozenset[str] = frozenset()
    issuer: str = "complaint-archive"

    @classmethod
    def from_settings(cls, settings) -> AccountRules:
        max_days = as_int(settings, MAX_DAYS_SETTING, 0)
        named = (settings.get(SECOND_FACTOR_SETTING) or "").replace(",", " ").split()
        unknown = sorted(set(named) - set(Role))
        if unknown:
            raise SettingsError(f"{SECOND_FACTOR_SETTING}: unknown roles {', '.join(unknown)} "
                                f"(roles: {', '.join(Role)})")  # fmt: skip
        issuer = (settings.get(ISSUER_SETTING) or "").strip() or cls.issuer
        return cls(max_days, frozenset(named), issuer)

    def password_expires_at(self, user) -> datetime | None:
        if not self.password_max_days:
            return None
        changed = user.password_changed_at or user.created_at
        return changed + timedelta(days=self.password_max_days)

    def needs_second_factor(self, user) -> bool:
        return user.role in self.second_factor_roles

    def confinement(self, user, now: datetime) -> Confinement | None:
        # A directory account's password is the directory's: it expires and changes there.
        local = getattr(user, "source", AccountSource.LOCAL) == AccountSource.LOCAL
        if local and user.must_change_password:
            return Confinement.PASSWORD_CHANGE
        expires_at = self.password_expires_at(user) if local else None
        if expires_at is not None and expires_at <= now:
            return Confinement.PASSWORD_EXPIRED
        if self.needs_second_factor(user) and user.totp_secret is None:
            return Confinement.SECOND_FACTOR
        return None


def _secret_context(user_id: int) -> str:
    # Bound to the row: a sealed secret copied onto another account does not open.
    return f"user.totp_secret:{user_id}"


@implementer(ICredentials)
class CredentialService:
    """Passwords and second factors of accounts, over one database session."""

    def __init__(self, session: Session, clock: Clock, cipher: IFieldCipher, recovery_key: bytes,
                 rules: AccountRules):  # fmt: skip
        self.session = session
        self.clock = clock
        self.cipher = cipher
        self.recovery_key = recovery_key
        self.rules = rules

    def using(self, session: Session) -> CredentialService:
        """The same service over another session (a check that commits on its own)."""
        return CredentialService(session, self.clock, self.cipher, self.recovery_key, self.rules)

    def _row(self, user) -> User:
        """The user's row in this session (callers may hold a detached copy)."""
        return self.session.get(User, user.id)

    # -- passwords ------------------------------------------------------------------------

    def change_own_password(self, user, current: str, new: str, *, keep_session: str | None = None,
                            keep_token: str | None = None) -> None:  # fmt: skip
        """The owner's new password, `current` proving it is them. Every other token and web
        session of theirs ends; the one making the change (`keep_session` id or
        `keep_token`) goes on."""
        row = self._row(user)
        if not isinstance(current, str) or not password_matches(row.password_hash, current):
            raise Invalid("the current password is wrong", field="current")
        check_password(new, row.username, field="new")
        if new == current:
            raise PasswordRefused("must differ from the current password", "new", "same")
        self._set_password(row, new, must_change=False)
        self.end_others(row, keep_session=keep_session, keep_token=keep_token)

    def reset_password(self, user, new: str, *, must_change: bool = True) -> None:
        """An admin's reset (the pages, the API, the command line): the policy holds, every
        token and session of the user ends, and (unless not `must_change`) the user can
        reach only /account until they have chosen their own."""
        row = self._row(user)
        check_password(new, row.username, field="password")
        self._set_password(row, new, must_change=must_change)
        self.end_others(row)

    def _set_password(self, row: User, new: str, *, must_change: bool) -> None:
        row.password_hash = hash_password(new)
        row.password_changed_at = self.clock.now()
        row.must_change_password = must_change

    def end_others(self, user, *, keep_session: str | None = None,
                   keep_token: str | None = None) -> None:  # fmt: skip
        tokens = update(ApiToken).where(ApiToken.user_id == user.id,
                                        ApiToken.revoked_at.is_(None))  # fmt: skip
        if keep_token is not None:
            tokens = tokens.where(ApiToken.token_sha256 != token_digest(keep_token))
        self.session.execute(tokens.values(revoked_at=self.clock.now()))
        sessions = delete(WebSession).where(WebSession.user_id == user.id)
        if keep_session is not None:
            sessions = sessions.where(WebSession.sid_sha256 != token_digest(keep_session))
        self.session.execute(sessions)

    # -- the second factor ----------------------------------------------------------------

    def has_second_factor(self, user) -> bool:
        return self._row(user).totp_secret is not None

    def begin_enrolment(self, user) -> str:
        """A new secret awaiting its first code (any earlier unconfirmed one is dropped)."""
        row = self._row(user)
        if row.totp_secret is not None:
            raise Invalid("a second factor is enrolled already; remove it first", field="code")
        secret = second_factor.new_secret()
        row.totp_pending = self.cipher.encrypt(secret, context=_secret_context(row.id))
        return secret

    def pending_secret(self, user) -> str | None:
        row = self._row(user)
        return self.cipher.decrypt(row.totp_pending, context=_secret_context(row.id))

    def enrolment_uri(self, user, secret: str) -> str:
        return second_factor.enrolment_uri(secret, user.username, self.rules.issuer)

    def confirm_enrolment(self, user, code: str) -> list[str]:
        """The pending secret becomes the account's second factor once `code` is one of its
        codes; answers the ten recovery codes, in clear this once (only hashes are kept)."""
        row = self._row(user)
        secret = self.pending_secret(row)
        if secret is None:
            raise Invalid("start the enrolment first", field="code")
        step = second_factor.matching_step(secret, code, self.clock.now(), None)
        if step is None:
            raise Invalid("the code does not match; check the device's time and retry",
                          field="code")  # fmt: skip
        row.totp_secret, row.totp_pending, row.totp_last_step = row.totp_pending, None, step
        return self.new_recovery_codes(row)

    def new_recovery_codes(self, user) -> list[str]:
        """Ten fresh recovery codes; those issued before stop working."""
        self.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        codes = second_factor.new_recovery_codes()
        now = self.clock.now()
        for code in codes:
            self.session.add(RecoveryCode(
                user_id=user.id, code_hmac=second_factor.recovery_digest(self.recovery_key, code),
                created_at=now))  # fmt: skip
        self.session.flush()
        return codes

    def recovery_codes_left(self, user) -> int:
        return self.session.scalar(
            select(func.count()).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )  # fmt: skip
        )

    def verify_second_factor(self, user, code: str) -> SecondFactorUse | None:
        """A six-digit code of the account's TOTP secret (within one step either side, later
        than the last one accepted) or an unused recovery code: used up, and what it was;
        None if neither. Each is used up by one conditional UPDATE, so two requests racing
        with the same code cannot both pass."""
        row = self._row(user)
        if row.totp_secret is None or not isinstance(code, str):
            return None
        if second_factor.looks_like_totp(code):
            secret = self.cipher.decrypt(row.totp_secret, context=_secret_context(row.id))
            step = second_factor.matching_step(secret, code, self.clock.now(), row.totp_last_step)
            if step is None:
                return None
            taken = self.session.execute(
                update(User)
                .where(User.id == row.id,
                       or_(User.totp_last_step.is_(None), User.totp_last_step < step))
                .values(totp_last_step=step)
                .execution_options(synchronize_session="fetch")
            )  # fmt: skip
            return SecondFactorUse.TOTP if taken.rowcount == 1 else None
        digest = second_factor.recovery_digest(self.recovery_key, code)
        used = self.session.execute(
            update(RecoveryCode)
            .where(RecoveryCode.user_id == row.id, RecoveryCode.code_hmac == digest,
                   RecoveryCode.used_at.is_(None))
            .values(used_at=self.clock.now())
        )  # fmt: skip
        return SecondFactorUse.RECOVERY if used.rowcount == 1 else None

    def remove_second_factor(self, user) -> None:
        """No second factor any more (the owner turning it off, an admin for a lost device)."""
        row = self._row(user)
        row.totp_secret = row.totp_pending = row.totp_last_step = None
        self.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == row.id))


def credentials_for(request, session, recovery_key: bytes) -> CredentialService:
    return CredentialService(
        session,
        request.find_service(IClock),
        request.find_service(IFieldCipher),
        recovery_key,
        request.find_service(IAccountRules),
    )
