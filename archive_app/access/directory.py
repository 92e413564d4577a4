"""Directory sign-in (LDAP, Active Directory): bind as the user with the password they typed,
read their groups, map the groups to a role and a clearance (`archive.ldap.groups`), and keep
the archive's account of them in step: provisioned at the first sign-in, role and clearance
updated at every sign-in, refused and deactivated once in no mapped group.
The LDAP conversation itself (ldap3) is `ldap.py`'s `LdapDirectory`.

The directory password is never stored, nor any hash of it: a directory account's
`password_hash` is `DIRECTORY_PASSWORD_HASH`, which no password verifies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from zope.interface import implementer

from ..clock import Clock
from ..errors import Conflict, DirectoryUnavailable
from ..interfaces import IAccessLog, IClock, IDatabase, IDirectorySignIn
from ..settings import SettingsError, as_bool, as_int
from .accesslog import Event
from .models import AccessOutcome, AccountSource, User
from .permissions import Level, Role
from .services import AccountService

# Not an argon2 hash: argon2 refuses it (InvalidHashError), so a directory account never
# signs in with a local password, even when the directory settings are removed.
DIRECTORY_PASSWORD_HASH = "!directory"


@dataclass(frozen=True)
class GroupMapping:
    """One line of `archive.ldap.groups`: `GROUP_CN = role clearance`."""

    group: str
    role: Role
    clearance: Level


def parse_group_mappings(text: str) -> tuple[GroupMapping, ...]:
    """The mapping lines, in order (the first line naming one of the user's groups wins)."""
    mappings = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        group, equals, rest = line.partition("=")
        words = rest.split()
        if not equals or not group.strip() or len(words) not in (1, 2):
            raise SettingsError(f"archive.ldap.groups line {number} must read "
                                f"'GROUP_CN = role [clearance]': {line!r}")  # fmt: skip
        role, clearance = words[0], words[1] if len(words) == 2 else Level.INTERNAL
        if role not in list(Role):
            raise SettingsError(f"archive.ldap.groups line {number}: role must be one of "
                                f"{', '.join(Role)}")  # fmt: skip
        if clearance not in list(Level):
            raise SettingsError(f"archive.ldap.groups line {number}: clearance must be one of "
                                f"{', '.join(Level)}")  # fmt: skip
        mappings.append(GroupMapping(group.strip(), Role(role), Level(clearance)))
    if not mappings:
        raise SettingsError("archive.ldap.groups must map at least one directory group")
    return tuple(mappings)


@dataclass(frozen=True)
class DirectorySettings:
    """The `archive.ldap.*` settings; `from_settings` gives None where no directory is set."""

    url: str
    group_base: str
    mappings: tuple[GroupMapping, ...]
    user_dn_template: str | None = None
    bind_dn: str | None = None
    bind_password: str | None = None
    user_base: str | None = None
    user_filter: str = "(uid={username})"
    group_filter: str = "(member={user_dn})"
    timeout: int = 5  # seconds (ldap3 wants whole ones for its socket timeout)
    start_tls: bool = False

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> DirectorySettings | None:
        url = (settings.get("archive.ldap.url") or "").strip()
        if not url:
            return None
        if not url.startswith(("ldap://", "ldaps://")):
            raise SettingsError("archive.ldap.url must start with ldap:// or ldaps://")

        def text(key: str) -> str | None:
            return (settings.get(key) or "").strip() or None

        template, user_base = text("archive.ldap.user_dn_template"), text("archive.ldap.user_base")
        if bool(template) == bool(user_base):
            raise SettingsError(
                "set either archive.ldap.user_dn_template (bind as the "
                "user's DN) or archive.ldap.user_base (search), not both"
            )
        if template and "{username}" not in template:
            raise SettingsError("archive.ldap.user_dn_template must contain {username}")
        group_base = text("archive.ldap.group_base")
        if not group_base:
            raise SettingsError("archive.ldap.group_base is not set (where the groups are)")
        timeout_key = "archive.ldap.timeout"
        chosen = cls(
            url=url,
            group_base=group_base,
            mappings=parse_group_mappings(settings.get("archive.ldap.groups") or ""),
            user_dn_template=template,
            bind_dn=text("archive.ldap.bind_dn"),
            # ARCHIVE_LDAP_BIND_PASSWORD overrides it (settings.py): no secret in the ini.
            bind_password=text("archive.ldap.bind_password"),
            user_base=user_base,
            user_filter=text("archive.ldap.user_filter") or cls.user_filter,
            group_filter=text("archive.ldap.group_filter") or cls.group_filter,
            timeout=as_int({timeout_key: "5", **settings}, timeout_key, minimum=1),
            start_tls=as_bool(settings, "archive.ldap.start_tls"),
        )
        chosen.check_templates()
        return chosen

    def check_templates(self) -> None:
        """A template with a placeholder other than its own stops the start, not a sign-in."""
        for key, template, name in (
            ("user_dn_template", self.user_dn_template, "username"),
            ("user_filter", self.user_filter, "username"),
            ("group_filter", self.group_filter, "user_dn"),
        ):
            try:
                (template or "").format(**{name: "x"})
            except (KeyError, IndexError, ValueError):
                raise SettingsError(f"archive.ldap.{key} may use only {{{name}}} between "
                                    "braces") from None  # fmt: skip

    def mapping_for(self, groups: set[str]) -> GroupMapping | None:
        """The first mapping line naming one of `groups` (CNs, any letter case), else None."""
        wanted = {group.lower() for group in groups}
        return next((m for m in self.mappings if m.group.lower() in wanted), None)


@dataclass(frozen=True)
class DirectoryPerson:
    """What the directory says about a user who has just bound with their password."""

    dn: str
    full_name: str | None
    groups: frozenset[str]  # the CNs of the groups listing them


@implementer(IDirectorySignIn)
class DirectorySignIn:
    """The archive's side of a directory sign-in: the account provisioned, kept in step with
    the groups, or refused and deactivated. One per process; `sign_in` is handed the request's
    account service."""

    def __init__(self, settings: DirectorySettings | None, directory, access_log, database,
                 clock: Clock):  # fmt: skip
        self.settings = settings
        self.enabled = settings is not None
        self.directory = directory
        self.access_log = access_log
        self.database = database
        self.clock = clock

    @classmethod
    def from_registry(cls, settings: DirectorySettings | None, registry) -> DirectorySignIn:
        directory = None
        if settings is not None:
            # Imported only with a directory configured: ldap3 costs every process that
            # starts the archive (each `archive` command) a tenth of a second.
            from .ldap import LdapDirectory

            directory = LdapDirectory(settings)
        return cls(settings, directory, registry.getUtility(IAccessLog),
                   registry.getUtility(IDatabase), registry.getUtility(IClock))  # fmt: skip

    def sign_in(self, accounts, username: str, user: User | None, password: str,
                later: Callable[[Callable[[], None]], None]) -> User | None:  # fmt: skip
        """The user signed in, or None with `accounts.refusal` saying why. `later(fn)` runs
        `fn` once the request's transaction has ended (a refusal rolls it back, yet the
        deactivation and the log entry must stay)."""
        try:
            person = self.directory.verify(username, password)
        except DirectoryUnavailable as error:
            event = Event(action="login_failed", outcome=AccessOutcome.FAILED, username=username,
                          detail=f"directory unavailable: {error.detail}")  # fmt: skip
            later(lambda: self.access_log.append_now(event))
            raise
        if person is None:
            accounts.refusal = "directory: wrong user name or password"
            return None
        mapping = self.settings.mapping_for(person.groups)
        if mapping is None:
            accounts.refusal = "directory: in no mapped group"
            if user is not None and user.active:
                accounts.refusal += "; account deactivated"
                later(lambda: self.deactivate(user.id, person.groups))
            return None
        if user is None:
            # One name whatever the letter case it was typed in (LDAP compares names so).
            return self._provision(accounts, username.lower(), person, mapping)
        if not user.active:
            # A deactivated account stays so until an admin reactivates it: the directory
            # grants access only together with the archive's own decision.
            accounts.refusal = "directory: account deactivated in the archive"
            return None
        try:
            self._update(accounts, user, person, mapping)
        except Conflict as error:  # the directory demotes the last active admin
            accounts.refusal = f"directory: {error.detail}"
            return None
        return user

    def _provision(self, accounts, username, person, mapping) -> User:
        user = User(username=username, role=mapping.role, clearance=mapping.clearance,
                    password_hash=DIRECTORY_PASSWORD_HASH, source=AccountSource.DIRECTORY,
                    active=True, created_at=self.clock.now())  # fmt: skip
        _set_full_name(user, person)
        accounts.session.add(user)
        accounts.session.flush()
        self._log(accounts.session, "user_add",
                  f"user {username} role {mapping.role} clearance {mapping.clearance} "
                  f"(directory group {mapping.group}, first sign-in)")  # fmt: skip
        return user

    def _update(self, accounts, user, person, mapping) -> None:
        _set_full_name(user, person)
        changes = accounts.change_user(user, role=mapping.role, clearance=mapping.clearance)
        if changes:
            self._log(accounts.session, "user_change", f"user {user.username}: "
                      f"{', '.join(changes)} (directory group {mapping.group})")  # fmt: skip

    def deactivate(self, user_id: int, groups) -> None:
        """In a transaction of its own, after the request's: through the account service's
        deactivation, so every token and session of the user ends with it."""
        listed = ", ".join(sorted(groups)) or "none"
        with self.database.write() as session, session.begin():
            user = session.get(User, user_id)
            if user is None or not user.active:
                return
            try:
                changes = AccountService(session, self.clock).change_user(user, active=False)
            except Conflict as error:  # the last active admin: refused, kept, said so
                detail = f"user {user.username} in no mapped directory group, not deactivated: "
                self._log(session, "user_change", detail + str(error.detail),
                          AccessOutcome.REFUSED)  # fmt: skip
                return
            self._log(session, "user_change", f"user {user.username}: {', '.join(changes)} "
                      f"(in no mapped directory group; its groups: {listed})")  # fmt: skip

    def _log(self, session, action, detail, outcome=AccessOutcome.OK) -> None:
        # Done by the directory's sign-in ("ldap"), as `archive user` commands log as "cli".
        self.access_log.append(session, Event(action=action, outcome=outcome,
                                              username="ldap", role="system",
                                              detail=detail))  # fmt: skip


def _set_full_name(user: User, person: DirectoryPerson) -> None:
    # Only where the accounts carry a full name (issue #15 item 2 adds the column).
    if person.full_name and hasattr(User, "full_name"):
        user.full_name = person.full_name[:200]
