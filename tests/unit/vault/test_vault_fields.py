"""Field-level encryption of personal data and the keyed lookup hash."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive_app.vault.fields import FieldCipher, FieldDecryptError

KEY = bytes(range(32))
HMAC_KEY = bytes(range(32, 64))


@pytest.fixture
def cipher():
    return FieldCipher(KEY, HMAC_KEY)


@pytest.mark.parametrize("text", ["张三", "", "Müller GmbH, 上海市浦东新区 1号", "13800138000"])
def test_round_trip(cipher, text):
    sealed = cipher.encrypt(text, context="customer.name")
    assert isinstance(sealed, bytes) and sealed[0] == 1
    assert text.encode() not in sealed or text == ""
    assert cipher.decrypt(sealed, context="customer.name") == text
    assert cipher.decrypt(memoryview(sealed), context="customer.name") == text


@given(st.text())
def test_round_trip_property(text):
    cipher = FieldCipher(KEY, HMAC_KEY)
    assert cipher.decrypt(cipher.encrypt(text, context="c"), context="c") == text


def test_none_stays_none(cipher):
    assert cipher.encrypt(None, context="customer.name") is None
    assert cipher.decrypt(None, context="customer.name") is None


def test_encryption_is_randomised(cipher):
    assert cipher.encrypt("张三", context="c") != cipher.encrypt("张三", context="c")


def test_wrong_context_fails(cipher):
    sealed = cipher.encrypt("张三", context="customer.name")
    with pytest.raises(FieldDecryptError):
        cipher.decrypt(sealed, context="customer.phone")


def test_wrong_key_fails(cipher):
    sealed = cipher.encrypt("张三", context="c")
    with pytest.raises(FieldDecryptError):
        FieldCipher(bytes(32), HMAC_KEY).decrypt(sealed, context="c")


@pytest.mark.parametrize("position", [0, 1, 13, -1])
def test_tampering_fails(cipher, position):
    sealed = bytearray(cipher.encrypt("张三", context="c"))
    sealed[position] ^= 1
    with pytest.raises(FieldDecryptError):
        cipher.decrypt(bytes(sealed), context="c")


def test_too_short_fails(cipher):
    with pytest.raises(FieldDecryptError):
        cipher.decrypt(b"\x01" + bytes(20), context="c")


def test_context_is_required(cipher):
    with pytest.raises(ValueError):
        cipher.encrypt("x", context="")


def test_errors_do_not_echo_values(cipher):
    sealed = cipher.encrypt("张三", context="customer.name")
    with pytest.raises(FieldDecryptError) as info:
        cipher.decrypt(sealed, context="customer.phone")
    assert "张三" not in str(info.value)
    assert KEY.hex() not in repr(cipher) and HMAC_KEY.hex() not in repr(cipher)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("  张三 ", "张三"),
        ("\u3000张三\t\n", "张三"),  # ideographic space
        ("ＡＢＣ　Ｃｏ．", "abc co."),  # full-width forms
        ("Straße", "STRASSE"),
        ("John   Smith", "john smith"),
        ("１３８００１３８０００", "13800138000"),
    ],
)
def test_lookup_hash_normalises(cipher, a, b):
    assert cipher.lookup_hash(a) == cipher.lookup_hash(b)
    assert len(cipher.lookup_hash(a)) == 64


def test_lookup_hash_distinguishes_values(cipher):
    assert cipher.lookup_hash("张三") != cipher.lookup_hash("张四")


@pytest.mark.parametrize("blank", [None, "", "   ", "\u3000"])
def test_lookup_hash_of_blank_is_none(cipher, blank):
    assert cipher.lookup_hash(blank) is None


def test_lookup_hash_is_keyed(cipher):
    assert FieldCipher(KEY, bytes(32)).lookup_hash("张三") != cipher.lookup_hash("张三")


def test_key_sizes():
    with pytest.raises(ValueError):
        FieldCipher(b"short", HMAC_KEY)
    with pytest.raises(ValueError):
        FieldCipher(KEY, b"short")
