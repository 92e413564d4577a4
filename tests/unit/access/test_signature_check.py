"""The signature check (access/signatures.py) on its own: the meaning, the password, the
second-factor seam, whether one is required; and the hash rule (contract §6's canonical JSON)."""

from __future__ import annotations

import hashlib
import json
from types import SimpleNamespace

import pytest

from archive_app.access.signatures import (
    SignatureMeaning,
    SignatureRequest,
    check_signature,
    content_sha256,
    second_factor_ok,
    signer_name,
)
from archive_app.errors import SignatureRequired


class Accounts:
    def verify_password(self, user, password):
        return password == "right-password"


USER = SimpleNamespace(username="wang5")
RELEASE = SignatureMeaning.RELEASE_HOLD


def given(meaning=RELEASE, password="right-password", otp=None) -> SignatureRequest:
    return SignatureRequest(password, otp, meaning)


def test_a_valid_signature_passes_and_none_passes_only_where_not_required():
    assert check_signature(Accounts(), USER, given(), RELEASE, required=True) == given()
    assert check_signature(Accounts(), USER, None, RELEASE, required=False) is None
    with pytest.raises(SignatureRequired) as refused:
        check_signature(Accounts(), USER, None, RELEASE, required=True)
    assert (refused.value.status, refused.value.code) == (401, "signature_required")


@pytest.mark.parametrize(("signature", "field"), [
    (given(meaning=SignatureMeaning.APPROVE_DESTRUCTION), "signature.meaning"),
    (given(password="wrong"), "signature.password"),
])  # fmt: skip
def test_a_wrong_meaning_or_password_is_refused_even_where_optional(signature, field):
    with pytest.raises(SignatureRequired) as refused:
        check_signature(Accounts(), USER, signature, RELEASE, required=False)
    assert refused.value.field == field


class Credentials:
    """The account's second factor as access/account.py's CredentialService answers."""

    def __init__(self, enrolled: bool, good: str = "246810"):
        self.enrolled, self.good = enrolled, good

    def has_second_factor(self, user):
        return self.enrolled

    def verify_second_factor(self, user, code):
        return "totp" if self.enrolled and code == self.good else None


def test_the_second_factor_is_asked_of_an_enrolled_signer_only():
    assert second_factor_ok(None, USER, None) is None
    assert second_factor_ok(Credentials(enrolled=False), USER, "123456") is None
    assert second_factor_ok(Credentials(enrolled=True), USER, "246810") is True
    assert second_factor_ok(Credentials(enrolled=True), USER, None) is False
    enrolled = Credentials(enrolled=True)
    with pytest.raises(SignatureRequired) as refused:
        check_signature(Accounts(), USER, given(), RELEASE, required=True, credentials=enrolled)
    assert refused.value.field == "signature.otp"
    with_code = SignatureRequest(password=given().password, otp="246810", meaning=RELEASE)
    assert check_signature(Accounts(), USER, with_code, RELEASE, required=True,
                           credentials=enrolled) == with_code  # fmt: skip


def test_the_signer_is_named_by_full_name_else_user_name():
    assert signer_name(USER) == "wang5"
    assert signer_name(SimpleNamespace(username="wang5", full_name="王五")) == "王五"


def test_the_hash_is_of_the_canonical_json():
    content = {"b": "解除", "a": [1, 2]}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert content_sha256(content) == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert content_sha256(content) != content_sha256(content | {"b": "改"})
