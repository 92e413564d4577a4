"""The `archive.ldap.*` settings: unset means local accounts only; a mistake stops the start
with a message naming the setting (never a sign-in that fails later)."""

from __future__ import annotations

import pytest

from archive_app.access.directory import DirectorySettings, GroupMapping, parse_group_mappings
from archive_app.settings import SettingsError, apply_overrides

BASE = {
    "archive.ldap.url": "ldaps://ldap.example.com",
    "archive.ldap.user_dn_template": "uid={username},ou=people,dc=example,dc=com",
    "archive.ldap.group_base": "ou=groups,dc=example,dc=com",
    "archive.ldap.groups": "qa-archivists = archivist confidential\nqa-auditors = auditor",
}


def test_no_url_means_no_directory():
    assert DirectorySettings.from_settings({}) is None
    assert DirectorySettings.from_settings({"archive.ldap.url": " "}) is None


def test_the_mapping_lines_keep_their_order_and_default_to_internal():
    chosen = DirectorySettings.from_settings(BASE)
    assert chosen.mappings == (
        GroupMapping("qa-archivists", "archivist", "confidential"),
        GroupMapping("qa-auditors", "auditor", "internal"),
    )
    # The first line naming one of the user's groups wins, whatever the letter case.
    assert chosen.mapping_for({"QA-Auditors", "qa-archivists"}).role == "archivist"
    assert chosen.mapping_for({"qa-auditors"}).role == "auditor"
    assert chosen.mapping_for({"others"}) is None
    assert (chosen.timeout, chosen.start_tls, chosen.user_filter) == (5, False, "(uid={username})")


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"archive.ldap.url": "http://ldap"}, "archive.ldap.url"),
        ({"archive.ldap.user_dn_template": ""}, "user_base"),
        ({"archive.ldap.user_base": "ou=people,dc=example,dc=com"}, "not both"),
        ({"archive.ldap.user_dn_template": "uid=x,dc=example"}, "{username}"),
        ({"archive.ldap.user_dn_template": "uid={user},dc=x{username}"}, "user_dn_template"),
        ({"archive.ldap.group_filter": "(member={dn})"}, "group_filter"),
        ({"archive.ldap.group_base": ""}, "group_base"),
        ({"archive.ldap.groups": ""}, "at least one"),
        ({"archive.ldap.groups": "qa = king"}, "role must be"),
        ({"archive.ldap.groups": "qa = auditor secret"}, "clearance must be"),
        ({"archive.ldap.groups": "qa auditor"}, "line 1"),
        ({"archive.ldap.timeout": "0"}, "archive.ldap.timeout"),
    ],
)
def test_a_wrong_setting_is_named(changes, named):
    with pytest.raises(SettingsError, match=named.replace("{", r"\{").replace("}", r"\}")):
        DirectorySettings.from_settings({**BASE, **changes})


def test_comments_and_blank_lines_are_skipped_in_the_mapping():
    assert parse_group_mappings("\n# who is who\n  qa-admins = admin restricted\n") == (
        GroupMapping("qa-admins", "admin", "restricted"),
    )


def test_the_bind_password_comes_from_the_environment():
    settings = apply_overrides({**BASE, "archive.ldap.bind_password": "in-the-ini"},
                               {"ARCHIVE_LDAP_BIND_PASSWORD": "from-env"})  # fmt: skip
    assert DirectorySettings.from_settings(settings).bind_password == "from-env"
