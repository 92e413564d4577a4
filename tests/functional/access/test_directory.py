"""Directory sign-in against a real OpenLDAP server (tests/ldap_server.py): provisioning with
the mapped role and clearance, group changes at the next sign-in, removal refused and
deactivated, wrong passwords logged, the break-glass local admin, a directory that is down.

The archive here is the tests' shared one (its storage and its local users) opened a second
time with the `archive.ldap.*` settings, as an admin would set them in the ini.
"""

from __future__ import annotations

import os
import socket
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import webtest
from ldap_server import DIRECTORY_PASSWORD, ROOT_DN, ROOT_PASSWORD, Slapd, free_port
from plaster import get_settings
from sqlalchemy import select
from support import PASSWORD, TESTING_INI, assert_error, run_cli

from archive_app import main
from archive_app.access.directory import DIRECTORY_PASSWORD_HASH
from archive_app.access.models import User
from archive_app.interfaces import IDatabase

DN_TEMPLATE = "uid={username},ou=people,dc=example,dc=com"
GROUPS_DN = "ou=groups,dc=example,dc=com"
GROUPS = """
    qa-archivists = archivist confidential
    qa-auditors = auditor internal
    qa-admins = admin restricted
"""


@pytest.fixture(scope="module")
def slapd(tmp_path_factory):
    server = Slapd(tmp_path_factory.mktemp("slapd"))
    server.start()
    yield server
    server.stop()


@contextmanager
def directory_app(url: str, **ldap):
    """The shared archive (call after the `users` fixture made its local accounts) opened with
    `archive.ldap.*` settings: these, over a DN template and the test directory's groups."""
    chosen = {"url": url, "groups": GROUPS, "group_base": GROUPS_DN, "timeout": "5", **ldap}
    if "user_base" not in chosen:
        chosen["user_dn_template"] = DN_TEMPLATE
    settings = dict(get_settings(TESTING_INI, "app:main"))
    settings.update({f"archive.ldap.{key}": value for key, value in chosen.items()})
    app = webtest.TestApp(main({"__file__": TESTING_INI}, **settings),
                          extra_environ={"REMOTE_ADDR": "192.0.2.30"})  # fmt: skip
    try:
        yield app
    finally:
        app.app.registry.getUtility(IDatabase).dispose()


@pytest.fixture(scope="module")
def ldap_app(slapd, users):
    with directory_app(slapd.url) as app:
        yield app


def token(app, username, password=DIRECTORY_PASSWORD, status=200):
    return app.post_json("/api/v1/auth/token", {"username": username, "password": password},
                         status=status)  # fmt: skip


def web_sign_in(app, username, password=DIRECTORY_PASSWORD, status=303):
    browser = webtest.TestApp(app.app, extra_environ=app.extra_environ)
    form = browser.get("/login").forms[0]
    form["username"], form["password"] = username, password
    return browser, form.submit(status=status)


def account(app, username) -> User | None:
    with app.app.registry.getUtility(IDatabase).read() as session:
        return session.scalar(select(User).where(User.username == username))


def log_details(api, action, text):
    entries = api.get(f"/api/v1/access-log?action={action}", "privacy").json["entries"]
    return [entry for entry in entries if text in (entry["detail"] or "")]


def test_a_directory_user_signs_in_and_is_provisioned_with_the_mapped_role(ldap_app, api):
    assert account(ldap_app, "ldap-alice") is None
    browser, answer = web_sign_in(ldap_app, "ldap-alice")
    assert answer.headers["Location"].endswith("/")
    assert browser.get("/").status_int == 200
    alice = account(ldap_app, "ldap-alice")
    assert (alice.role, alice.clearance, alice.source, alice.active) == (
        "archivist", "confidential", "directory", True)  # fmt: skip
    # No password of theirs is kept, nor anything a password verifies.
    assert alice.password_hash == DIRECTORY_PASSWORD_HASH
    assert DIRECTORY_PASSWORD not in alice.password_hash
    [added] = log_details(api, "user_add", "user ldap-alice role archivist")
    assert "clearance confidential" in added["detail"] and "qa-archivists" in added["detail"]
    logins = api.get("/api/v1/access-log?action=login&user=ldap-alice", "privacy").json
    assert logins["total"] == 1 and logins["entries"][0]["role"] == "archivist"
    # The second sign-in finds the account: nothing provisioned twice.
    web_sign_in(ldap_app, "LDAP-Alice")
    assert len(log_details(api, "user_add", "user ldap-alice ")) == 1


def test_a_name_typed_in_capitals_is_provisioned_in_lower_case(ldap_app):
    token(ldap_app, "LDAP-Heidi")
    assert account(ldap_app, "ldap-heidi").source == "directory"
    token(ldap_app, "ldap-heidi")  # the same account


def test_the_first_mapping_line_wins_for_a_user_in_several_groups(ldap_app):
    # ldap-dave is in qa-auditors and qa-archivists; qa-archivists is the first line.
    token(ldap_app, "ldap-dave")
    dave = account(ldap_app, "ldap-dave")
    assert (dave.role, dave.clearance) == ("archivist", "confidential")


def test_a_group_change_takes_effect_at_the_next_sign_in(ldap_app, slapd, api):
    first = token(ldap_app, "ldap-bob").json["token"]
    assert account(ldap_app, "ldap-bob").role == "auditor"
    headers = {"Authorization": f"Bearer {first}"}
    ldap_app.get("/api/v1/search", headers=headers, status=200)
    slapd.remove_member("qa-auditors", "ldap-bob")
    slapd.add_member("qa-archivists", "ldap-bob")
    assert account(ldap_app, "ldap-bob").role == "auditor"  # not before the next sign-in
    token(ldap_app, "ldap-bob")
    bob = account(ldap_app, "ldap-bob")
    assert (bob.role, bob.clearance) == ("archivist", "confidential")
    [change] = log_details(api, "user_change", "user ldap-bob: role auditor -> archivist")
    assert "clearance internal -> confidential" in change["detail"]
    assert change["user"] == "ldap"


def test_a_user_removed_from_the_groups_is_refused_and_deactivated(ldap_app, slapd, api):
    issued = token(ldap_app, "ldap-carol").json["token"]
    browser, _ = web_sign_in(ldap_app, "ldap-carol")
    headers = {"Authorization": f"Bearer {issued}"}
    ldap_app.get("/api/v1/search", headers=headers, status=200)
    slapd.remove_member("qa-archivists", "ldap-carol")

    refused = token(ldap_app, "ldap-carol", status=401)
    assert_error(refused, 401, "unauthorized", None)
    carol = account(ldap_app, "ldap-carol")
    assert carol.active is False
    # Their token and their web session ended with the deactivation.
    ldap_app.get("/api/v1/search", headers=headers, status=401)
    assert browser.get("/", status=303).headers["Location"].split("?")[0].endswith("/login")
    [failed] = log_details(api, "login_failed", "directory: in no mapped group")
    assert failed["user"] == "ldap-carol" and "deactivated" in failed["detail"]
    assert log_details(api, "user_change", "user ldap-carol: deactivated")

    # Back in a group, the account stays deactivated until an admin reactivates it.
    slapd.add_member("qa-archivists", "ldap-carol")
    token(ldap_app, "ldap-carol", status=401)
    assert log_details(api, "login_failed", "directory: account deactivated in the archive")
    api.app.patch_json("/api/v1/users/ldap-carol", {"active": True},
                       headers=api.headers("admin"), status=200)  # fmt: skip
    token(ldap_app, "ldap-carol")
    ldap_app.get("/api/v1/search", headers=headers, status=401)  # the old token stays dead


def test_a_wrong_password_is_refused_and_logged(ldap_app, api):
    assert_error(token(ldap_app, "ldap-grace", "not-her-password", status=401), 401,
                 "unauthorized", None)  # fmt: skip
    # An empty password would be an anonymous bind, which LDAP lets through: never here.
    token(ldap_app, "ldap-grace", "", status=400)
    web_sign_in(ldap_app, "ldap-grace", "", status=400)
    _, page = web_sign_in(ldap_app, "ldap-grace", "not-her-password", status=400)
    assert "Wrong username or password" in page.text or "用户名或密码错误" in page.text
    # The archive's local test password is no directory password either.
    token(ldap_app, "ldap-grace", PASSWORD, status=401)
    assert account(ldap_app, "ldap-grace") is None  # nothing provisioned
    failures = api.get("/api/v1/access-log?action=login_failed&user=ldap-grace", "privacy").json
    assert failures["total"] == 4
    assert all("directory: wrong user name or password" in entry["detail"]
               for entry in failures["entries"])  # fmt: skip


def test_a_user_in_no_mapped_group_is_refused_and_not_provisioned(ldap_app, api):
    token(ldap_app, "ldap-erin", status=401)
    assert account(ldap_app, "ldap-erin") is None
    failed = api.get("/api/v1/access-log?action=login_failed&user=ldap-erin", "privacy").json
    [entry] = failed["entries"]
    assert entry["detail"] == "api token: directory: in no mapped group"


def test_throttling_applies_to_directory_users_as_to_local_ones(ldap_app):
    for _ in range(5):
        token(ldap_app, "ldap-judy", "not-her-password", status=401)
    blocked = token(ldap_app, "ldap-judy", status=429)  # the right password: still refused
    assert_error(blocked, 429, "too_many_attempts", None)
    assert account(ldap_app, "ldap-judy") is None  # the directory was not even asked


def test_the_break_glass_local_admin_signs_in_with_the_directory_configured(ldap_app):
    # A local account signs in with its local password, and the directory's own `admin`
    # (in qa-admins) cannot take it over: an existing local account never asks the directory.
    issued = token(ldap_app, "admin", PASSWORD).json["token"]
    ldap_app.get("/api/v1/users", headers={"Authorization": f"Bearer {issued}"}, status=200)
    web_sign_in(ldap_app, "admin", PASSWORD)
    token(ldap_app, "admin", DIRECTORY_PASSWORD, status=401)
    assert account(ldap_app, "admin").source == "local"
    token(ldap_app, "ldap-alice")
    listed = ldap_app.get("/api/v1/users", headers={"Authorization": f"Bearer {issued}"}).json
    sources = {user["username"]: user["source"] for user in listed["results"]}
    assert sources["admin"] == "local" and sources["ldap-alice"] == "directory"


def test_the_api_token_path_works_for_directory_users(ldap_app):
    issued = token(ldap_app, "ldap-frank").json
    assert issued["expires_at"]
    headers = {"Authorization": f"Bearer {issued['token']}"}
    assert "results" in ldap_app.get("/api/v1/search", headers=headers, status=200).json
    # An auditor's token: no filing, no user management.
    ldap_app.get("/api/v1/users", headers=headers, status=403)


def test_the_search_configuration_finds_the_user_with_a_service_account(slapd, users):
    search = {"bind_dn": ROOT_DN, "bind_password": ROOT_PASSWORD,
              "user_base": "ou=people,dc=example,dc=com",
              "user_filter": "(&(objectClass=inetOrgPerson)(uid={username}))"}  # fmt: skip
    with directory_app(slapd.url, **search) as app:
        token(app, "ldap-ivan")
        assert account(app, "ldap-ivan").role == "auditor"
        token(app, "ldap-ivan", "wrong-password", status=401)
        token(app, "ldap-nobody", status=401)  # no such entry


def test_a_directory_that_is_down_lets_nobody_in_and_says_so(users, api):
    # Nothing listens on this port: the directory is down.
    with directory_app(f"ldap://127.0.0.1:{free_port()}", timeout="2") as app:
        down = token(app, "ldap-kim", status=503)
        assert_error(down, 503, "directory_unavailable", None)
        browser, page = web_sign_in(app, "ldap-kim", status=503)
        assert "目录服务器无法连接" in page.text
        assert browser.get("/", status=303).headers["Location"].split("?")[0].endswith("/login")
        english = webtest.TestApp(app.app).get("/login?_LOCALE_=en").forms[0]
        english["username"], english["password"] = "ldap-kim", DIRECTORY_PASSWORD
        assert "The directory cannot be reached" in english.submit(status=503).text
        assert account(app, "ldap-kim") is None
        failed = api.get("/api/v1/access-log?action=login_failed&user=ldap-kim", "privacy").json
        assert failed["entries"] and all(entry["outcome"] == "failed" and "directory "
                                         "unavailable" in entry["detail"]
                                         for entry in failed["entries"])  # fmt: skip
        # A directory account the archive knows is not let in either.
        assert_error(token(app, "ldap-alice", status=503), 503, "directory_unavailable", None)
        # The break-glass local admin still signs in.
        token(app, "admin", PASSWORD)


def test_a_directory_account_never_signs_in_locally_without_the_directory(ldap_app, app, api):
    token(ldap_app, "ldap-alice")  # provisioned (if no test before did)
    # The shared archive has no `archive.ldap.*` settings: no password opens the account.
    for password in (DIRECTORY_PASSWORD, PASSWORD, DIRECTORY_PASSWORD_HASH):
        token(app, "ldap-alice", password, status=401)
    entries = log_details(api, "login_failed", "directory account, and no directory is configured")
    assert entries and entries[0]["user"] == "ldap-alice"


def test_a_directory_that_does_not_answer_is_given_up_after_the_timeout(users):
    # Connections are taken (the backlog) but never answered: a hung directory.
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)
        with directory_app(f"ldap://127.0.0.1:{hung.getsockname()[1]}", timeout="1") as app:
            started = time.monotonic()
            assert_error(token(app, "ldap-kim", status=503), 503, "directory_unavailable", None)
            assert time.monotonic() - started < 10


def test_archive_token_prints_a_token_for_a_directory_user(slapd, ldap_app, tmp_path):
    # The ini as an admin writes it: the mapping on continuation lines.
    lines = (f"archive.ldap.url = {slapd.url}\narchive.ldap.user_dn_template = {DN_TEMPLATE}\n"
             f"archive.ldap.group_base = {GROUPS_DN}\narchive.ldap.groups ={GROUPS}")  # fmt: skip
    ini = tmp_path / "directory.ini"
    ini.write_text(
        Path(TESTING_INI).read_text().replace("[app:main]\n", f"[app:main]\n{lines}\n", 1)
    )
    refused = run_cli(dict(os.environ), "token", "ldap-leo", "--password-stdin",
                      stdin="wrong-password\n", config=str(ini))  # fmt: skip
    assert refused.returncode == 2 and "wrong username or password" in refused.stderr
    result = run_cli(dict(os.environ), "token", "ldap-leo", "--password-stdin",
                     stdin=f"{DIRECTORY_PASSWORD}\n", config=str(ini))  # fmt: skip
    assert result.returncode == 0, result.stderr
    headers = {"Authorization": f"Bearer {result.stdout.strip()}"}
    ldap_app.get("/api/v1/search", headers=headers, status=200)
    assert account(ldap_app, "ldap-leo").role == "auditor"
