"""TOTP codes and recovery codes (access/second_factor.py) and the account rules read from
the settings (access/account.py), with fixed moments: RFC 6238's own test vector, the ±1
step window, no code accepted at or before the last step used."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from archive_app.access import second_factor
from archive_app.access.account import AccountRules, Confinement
from archive_app.settings import SettingsError

# RFC 6238 appendix B: the SHA-1 key "12345678901234567890", T = 59 s -> 94287082 (8 digits).
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
MOMENT = datetime(2026, 12, 1, 10, 0, 5, tzinfo=UTC)  # 5 s into a step


def test_codes_follow_rfc_6238():
    assert pyotp.TOTP(RFC_SECRET, digits=8).at(59) == "94287082"
    assert second_factor.code_at(RFC_SECRET, 1) == "287082"  # step 1 = seconds 30-59


def test_a_code_matches_within_one_step_either_side_only():
    secret = second_factor.new_secret()
    now = second_factor.step_at(MOMENT)
    for offset in (-1, 0, 1):
        code = second_factor.code_at(secret, now + offset)
        assert second_factor.matching_step(secret, code, MOMENT, None) == now + offset
    for offset in (-2, 2):
        code = second_factor.code_at(secret, now + offset)
        assert second_factor.matching_step(secret, code, MOMENT, None) is None
    late = MOMENT + timedelta(seconds=60)
    assert second_factor.matching_step(secret, second_factor.code_at(secret, now), late,
                                       None) is None  # fmt: skip


def test_a_step_once_used_and_every_earlier_one_is_refused():
    secret = second_factor.new_secret()
    now = second_factor.step_at(MOMENT)
    code = second_factor.code_at(secret, now)
    assert second_factor.matching_step(secret, code, MOMENT, last_used=now) is None
    earlier = second_factor.code_at(secret, now - 1)
    assert second_factor.matching_step(secret, earlier, MOMENT, last_used=now) is None
    later = second_factor.code_at(secret, now + 1)
    assert second_factor.matching_step(secret, later, MOMENT, last_used=now) == now + 1


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", None])
def test_what_is_not_six_digits_never_matches(code):
    assert second_factor.matching_step(RFC_SECRET, code, MOMENT, None) is None


def test_recovery_codes_are_ten_distinct_and_hashed_whatever_the_typing():
    codes = second_factor.new_recovery_codes()
    assert len(set(codes)) == 10 and all(len(code) == 11 and code[5] == "-" for code in codes)
    key = b"k" * 32
    digest = second_factor.recovery_digest(key, codes[0])
    assert second_factor.recovery_digest(key, codes[0].upper().replace("-", " ")) == digest
    assert second_factor.recovery_digest(b"j" * 32, codes[0]) != digest
    assert codes[0] not in digest


def test_the_qr_code_is_an_svg_element():
    svg = second_factor.qr_svg(second_factor.enrolment_uri(RFC_SECRET, "admin", "archive"))
    assert svg.startswith("<svg") and "<?xml" not in svg


class Account:
    def __init__(self, role="admin", must_change=False, enrolled=False, changed=MOMENT):
        self.role, self.must_change_password = role, must_change
        self.totp_secret = b"sealed" if enrolled else None
        self.password_changed_at, self.created_at = changed, MOMENT - timedelta(days=400)


def test_the_rules_confine_an_account_for_each_reason():
    rules = AccountRules.from_settings({"archive.auth.password_max_days": "30",
                                        "archive.auth.require_second_factor": "admin, "
                                        "privacy_officer"})  # fmt: skip
    assert rules.second_factor_roles == {"admin", "privacy_officer"}
    later = MOMENT + timedelta(days=29)
    assert rules.confinement(Account(enrolled=True), later) is None
    assert rules.confinement(Account(role="auditor"), later) is None
    assert rules.confinement(Account(), later) is Confinement.SECOND_FACTOR
    assert rules.confinement(Account(enrolled=True, must_change=True), later) is (
        Confinement.PASSWORD_CHANGE)  # fmt: skip
    expired = MOMENT + timedelta(days=30)
    assert rules.confinement(Account(enrolled=True), expired) is Confinement.PASSWORD_EXPIRED
    # Never dated: counted from the account's creation.
    assert rules.confinement(Account(enrolled=True, changed=None), later) is (
        Confinement.PASSWORD_EXPIRED)  # fmt: skip


def test_the_rules_refuse_an_unknown_role_at_start_up():
    with pytest.raises(SettingsError, match="auditors"):
        AccountRules.from_settings({"archive.auth.require_second_factor": "auditors"})
    assert AccountRules.from_settings({}).password_max_days == 0
