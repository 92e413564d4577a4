"""The directory over LDAP (ldap3), for directory sign-in (directory.py): bind as the user with
the password they typed, read their name and groups."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping

from ldap3 import BASE, NONE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

from ..errors import DirectoryUnavailable
from .directory import DirectoryPerson, DirectorySettings

log = logging.getLogger(__name__)

# LDAP result codes that mean "these credentials do not sign in", not "the directory failed".
WRONG_CREDENTIALS = {
    49,  # invalidCredentials (also an unknown DN on OpenLDAP and Active Directory)
    50,  # insufficientAccessRights
    53,  # unwillingToPerform (a disabled account on some servers)
}


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
