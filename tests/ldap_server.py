"""A real OpenLDAP server for the directory sign-in tests: Debian's `slapd`, started on a free
loopback port in a temporary folder, from a configuration and an LDIF of its own, and stopped
after. Nothing of the machine's own slapd (its configuration, its database, its service) is
used or touched.

The directory holds people under ou=people and groupOfNames groups (member DNs) under
ou=groups; `Slapd.add_member` / `remove_member` change a group as an admin of the directory
would, while the server runs.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from ldap3 import MODIFY_ADD, MODIFY_DELETE, Connection, Server

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"
SCHEMAS = Path("/etc/ldap/schema")
MODULES = Path("/usr/lib/ldap")

BASE = "dc=example,dc=com"
ROOT_DN = f"cn=admin,{BASE}"
ROOT_PASSWORD = "directory-admin-secret"
PEOPLE = f"ou=people,{BASE}"
GROUPS = f"ou=groups,{BASE}"
# Every person's directory password (never the archive's local PASSWORD: a directory user
# signs in with this one only).
DIRECTORY_PASSWORD = "directory-pass-4711"

# name: (display name, groups): each test uses people of its own, so tests can change
# their groups in any order.
PEOPLE_AND_GROUPS = {
    "ldap-alice": ("Alice Li", ["qa-archivists"]),
    "ldap-bob": ("Bob Wang", ["qa-auditors"]),
    "ldap-carol": ("Carol Zhang", ["qa-archivists"]),
    "ldap-dave": ("Dave Chen", ["qa-auditors", "qa-archivists"]),
    "ldap-erin": ("Erin Zhao", ["unmapped"]),
    "ldap-frank": ("Frank Liu", ["qa-auditors"]),
    "ldap-grace": ("Grace Sun", ["qa-archivists"]),
    "ldap-heidi": ("Heidi Wu", ["qa-archivists"]),
    "ldap-ivan": ("Ivan Zhou", ["qa-auditors"]),
    "ldap-judy": ("Judy Qian", ["qa-auditors"]),
    "ldap-leo": ("Leo Ma", ["qa-auditors"]),
    # The same name as the tests' local admin: the local account must win.
    "admin": ("Directory Impostor", ["qa-admins"]),
}
GROUP_NAMES = ("qa-archivists", "qa-auditors", "qa-admins", "unmapped")


def person_dn(name: str) -> str:
    return f"uid={name},{PEOPLE}"


def group_dn(name: str) -> str:
    return f"cn={name},{GROUPS}"


def slapd_conf(folder: Path) -> str:
    schemas = "\n".join(
        f"include {SCHEMAS / name}.schema" for name in ("core", "cosine", "inetorgperson", "nis")
    )
    return f"""{schemas}
pidfile {folder}/slapd.pid
argsfile {folder}/slapd.args
modulepath {MODULES}
moduleload back_mdb

database mdb
maxsize 10485760
suffix "{BASE}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PASSWORD}
directory {folder}/data
# People bind with their own password; signed-in people read the directory (their groups).
access to attrs=userPassword by self read by anonymous auth by * none
access to * by users read by * none
"""


def directory_ldif() -> str:
    entries = [
        f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example",
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people",
        f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups",
    ]
    for name, (display, _groups) in PEOPLE_AND_GROUPS.items():
        surname = display.split()[-1]
        entries.append(
            f"dn: {person_dn(name)}\nobjectClass: inetOrgPerson\nuid: {name}\ncn: {display}\n"
            f"sn: {surname}\ndisplayName: {display}\nuserPassword: {DIRECTORY_PASSWORD}"
        )
    for group in GROUP_NAMES:
        members = [person_dn(n) for n, (_d, groups) in PEOPLE_AND_GROUPS.items() if group in groups]
        lines = "\n".join(f"member: {dn}" for dn in members)
        entries.append(f"dn: {group_dn(group)}\nobjectClass: groupOfNames\ncn: {group}\n{lines}")
    return "\n\n".join(entries) + "\n"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Slapd:
    """One slapd process over a folder of its own."""

    def __init__(self, folder: Path):
        if not Path(SLAPADD).exists():
            raise RuntimeError("Debian's slapd is not installed: `make test-packages` installs it")
        self.folder = folder
        self.port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        (folder / "data").mkdir(parents=True)
        self.conf = folder / "slapd.conf"
        self.conf.write_text(slapd_conf(folder))
        (folder / "directory.ldif").write_text(directory_ldif())
        subprocess.run([SLAPADD, "-f", str(self.conf), "-l", str(folder / "directory.ldif")],
                       check=True, capture_output=True, timeout=60)  # fmt: skip

    def start(self) -> None:
        # -d 0: in the foreground (no fork), so that this process is the server and
        # stopping it is a signal to the child we hold.
        with (self.folder / "slapd.log").open("wb") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                [SLAPD, "-f", str(self.conf), "-h", f"{self.url}/", "-d", "0"],
                stdout=subprocess.DEVNULL, stderr=log,
            )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.folder / "slapd.log").read_text(errors="replace")
                raise RuntimeError(f"slapd stopped at start-up: {log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("slapd did not listen within 20 seconds")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def _change_group(self, group: str, change: str, name: str) -> None:
        """As the directory's admin (its rootdn), on a connection closed after."""
        connection = Connection(Server(self.url), ROOT_DN, ROOT_PASSWORD, auto_bind=True)
        try:
            changed = connection.modify(group_dn(group), {"member": [(change, [person_dn(name)])]})
            assert changed, connection.result
        finally:
            connection.unbind()

    def add_member(self, group: str, name: str) -> None:
        self._change_group(group, MODIFY_ADD, name)

    def remove_member(self, group: str, name: str) -> None:
        self._change_group(group, MODIFY_DELETE, name)
