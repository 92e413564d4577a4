"""Directory sign-in (LDAP, Active Directory): bind as the user with the password they typed,
read their groups, map the groups to a role and a clearance (`archive.ldap.groups`), and keep
the archive's account of them in step: provisioned at the first sign-in, role and clearance
updated at every sign-in, refused and deactivated once in no mapped group.

The directory password is never stored, nor any hash of it: a directory account's
`password_hash` is `DIRECTORY_PASSWORD_HASH`, which no password verifies.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ldap3 import BASE, NONE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn
from zope.interface import implementer

from ..clock import Clock
from ..errors import Conflict, DirectoryUnavailable
from ..interfaces import IAccessLog, IClock, IDatabase, IDirectorySignIn
from ..settings import SettingsError, as_bool, as_int
from .accesslog import Event
from .models import AccessOutcome, AccountSource, User
from .permissions import Level, Role
from .services import AccountService

log = logging.getLogger(__name__)

# Not an argon2 hash: argon2 refuses it (InvalidHashError), so a directory account never
# signs in with a local password, even when the directory settings are removed.
DIRECTORY_PASSWORD_HASH = "!directory"
# LDAP result codes that mean "these credentials do not sign in", not "the directory failed".
WRONG_CREDENTIALS = {
    49,  # invalidCredentials (also an unknown DN on OpenLDAP and Active Directory)
    50,  # insufficientAccessRights
    53,  # unwillingToPerform (a disabled account on some servers)
}


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


class LdapDirectory:
    """The directory over LDAP (ldap3): `verify` binds as the user and reads their groups."""

    def __init__(self, settings: DirectorySettings):
        self.settings = settings
        self.tls = Tls(validate=ssl.CERT_REQUIRED) if settings.start_tls else None

    def verify(self, username: str, password: str) -> DirectoryPerson | None:
        """The person, if `password` is theirs; None for unknown names and wrong passwords.
        Raises DirectoryUnavailable when the directory cannot answer."""
        if not password:
            # An empty password is an anonymous bind to LDAP, which "succeeds": never that.
            return None
        try:
            if self.settings.user_dn_template:
                dn = self.settings.user_dn_template.format(username=escape_rdn(username))
                with self._bound(dn, password) as connection:
                    if connection is None:
                        return None
                    return self._read(connection, dn)
            with self._service() as service:
                dn = self._find(service, username)
                if dn is None:
                    return None
                with self._bound(dn, password) as connection:
                    if connection is None:
                        return None
                return self._read(service, dn)
        except LDAPException as error:
            log.warning("directory sign-in for %r failed: %s", username, error)
            raise DirectoryUnavailable(
                f"the directory cannot be reached ({type(error).__name__}); try again later",
                field=None,
            ) from error

    def _connection(self, dn: str | None, password: str | None) -> Connection:
        # A Server of its own each time: ldap3's remembers an address that failed, and would
        # refuse to try it again for a while after the directory is back.
        server = Server(self.settings.url, connect_timeout=self.settings.timeout,
                        get_info=NONE, tls=self.tls)  # fmt: skip
        connection = Connection(server, user=dn, password=password, read_only=True,
                                receive_timeout=self.settings.timeout, auto_referrals=False,
                                raise_exceptions=False)  # fmt: skip
        try:
            connection.open()
        except LDAPException:
            if connection.socket is not None:  # ldap3 leaves a failed connect's socket open
                connection.socket.close()
            raise
        if self.settings.start_tls:
            try:
                if not connection.start_tls():
                    raise DirectoryUnavailable("the directory refused StartTLS", field=None)
            except BaseException:
                connection.unbind()
                raise
        return connection

    def _bound(self, dn: str, password: str) -> _Bound:
        connection = self._connection(dn, password)
        try:
            bound = connection.bind()
        except BaseException:  # a time-out: the socket is closed before the error goes on
            connection.unbind()
            raise
        if bound:
            return _Bound(connection)
        code = connection.result.get("result")
        connection.unbind()
        if code in WRONG_CREDENTIALS:
            return _Bound(None)
        why = connection.result.get("description")
        raise DirectoryUnavailable(f"the directory refused the sign-in ({why}); try again later",
                                   field=None)  # fmt: skip

    def _service(self) -> _Bound:
        """Bound as the service account (search mode), or anonymously when none is set."""
        settings = self.settings
        connection = self._connection(settings.bind_dn, settings.bind_password)
        if not connection.bind():
            connection.unbind()
            # The archive's own account failing is the archive's problem, never the user's.
            raise DirectoryUnavailable("the archive cannot sign in to the directory (check "
                                       "archive.ldap.bind_dn and its password)",
                                       field=None)  # fmt: skip
        return _Bound(connection)

    def _find(self, service: Connection, username: str) -> str | None:
        query = self.settings.user_filter.format(username=escape_filter_chars(username))
        self._search(service, self.settings.user_base, query, [])
        found = [e["dn"] for e in service.response or [] if e.get("type") == "searchResEntry"]
        # Two entries for one name: which is meant is not the archive's guess to make.
        return found[0] if len(found) == 1 else None

    def _read(self, connection: Connection, dn: str) -> DirectoryPerson:
        self._search(connection, dn, "(objectClass=*)", ["cn", "displayName"], scope=BASE)
        attributes = next((e["attributes"] for e in connection.response or []
                           if e.get("type") == "searchResEntry"), {})  # fmt: skip
        names = [*_values(attributes, "displayName"), *_values(attributes, "cn")]
        query = self.settings.group_filter.format(user_dn=escape_filter_chars(dn))
        self._search(connection, self.settings.group_base, query, ["cn"])
        groups = frozenset(
            name
            for entry in connection.response or []
            if entry.get("type") == "searchResEntry"
            for name in _values(entry["attributes"], "cn")
        )
        return DirectoryPerson(dn=dn, full_name=names[0] if names else None, groups=groups)

    def _search(self, connection, base, query, attributes, scope=SUBTREE) -> None:
        connection.search(base, query, search_scope=scope, attributes=attributes,
                          time_limit=self.settings.timeout)  # fmt: skip
        code = connection.result.get("result")
        if code not in (0, 32):  # success, noSuchObject (nothing there)
            why = connection.result.get("description")
            raise DirectoryUnavailable(f"the directory could not be searched ({why})", field=None)


def _values(attributes: Mapping, name: str) -> list[str]:
    value = attributes.get(name) or []
    return [value] if isinstance(value, str) else [str(v) for v in value if v]


class _Bound:
    """A bound connection (or None: the bind was refused) that unbinds when done."""

    def __init__(self, connection: Connection | None):
        self.connection = connection

    def __enter__(self) -> Connection | None:
        return self.connection

    def __exit__(self, *exc) -> None:
        if self.connection is not None:
            self.connection.unbind()


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
        directory = LdapDirectory(settings) if settings is not None else None
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
