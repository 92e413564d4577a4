"""Wrapped data keys: round trip, and bound to their KEK version, dossier and document."""

from __future__ import annotations

import pytest

from archive_app.vault.envelope import (
    WRAPPED_SIZE,
    KeyUnwrapError,
    new_data_key,
    unwrap_data_key,
    wrap_data_key,
)

KEK = bytes(range(32))
ROW = {"kek_version": 1, "dossier_id": "d1", "document_id": "doc-a"}


def test_new_data_keys_are_random_256_bit():
    keys = {new_data_key() for _ in range(10)}
    assert len(keys) == 10 and all(len(k) == 32 for k in keys)


def test_round_trip():
    dek = new_data_key()
    wrapped = wrap_data_key(KEK, dek, **ROW)
    assert len(wrapped) == WRAPPED_SIZE and wrapped[0] == 1
    assert dek not in wrapped
    assert unwrap_data_key(KEK, wrapped, **ROW) == dek
    assert unwrap_data_key(KEK, memoryview(wrapped), **ROW) == dek


def test_wrapping_twice_differs():
    dek = new_data_key()
    assert wrap_data_key(KEK, dek, **ROW) != wrap_data_key(KEK, dek, **ROW)


def test_wrapped_key_swap_between_documents_is_detected():
    dek_a, dek_b = new_data_key(), new_data_key()
    row_a = ROW
    row_b = {**ROW, "document_id": "doc-b"}
    wrapped_a = wrap_data_key(KEK, dek_a, **row_a)
    wrapped_b = wrap_data_key(KEK, dek_b, **row_b)
    # An attacker with the database swaps the two rows' wrapped keys.
    with pytest.raises(KeyUnwrapError):
        unwrap_data_key(KEK, wrapped_b, **row_a)
    with pytest.raises(KeyUnwrapError):
        unwrap_data_key(KEK, wrapped_a, **row_b)


@pytest.mark.parametrize(
    "change",
    [
        {"kek_version": 2},
        {"dossier_id": "d2"},
        {"document_id": "doc-b"},
        # Length-prefixed AD: moving characters between the ids is not the same row.
        {"dossier_id": "d1d", "document_id": "oc-a"},
    ],
)
def test_any_other_row_fails(change):
    wrapped = wrap_data_key(KEK, new_data_key(), **ROW)
    with pytest.raises(KeyUnwrapError):
        unwrap_data_key(KEK, wrapped, **{**ROW, **change})


def test_wrong_kek_fails():
    wrapped = wrap_data_key(KEK, new_data_key(), **ROW)
    with pytest.raises(KeyUnwrapError):
        unwrap_data_key(bytes(32), wrapped, **ROW)


@pytest.mark.parametrize("position", range(WRAPPED_SIZE))
def test_any_byte_tamper_fails(position):
    wrapped = bytearray(wrap_data_key(KEK, new_data_key(), **ROW))
    wrapped[position] ^= 0x01
    with pytest.raises(KeyUnwrapError):
        unwrap_data_key(KEK, bytes(wrapped), **ROW)


@pytest.mark.parametrize("length", [0, 1, WRAPPED_SIZE - 1, WRAPPED_SIZE + 1])
def test_wrong_length_fails(length):
    wrapped = wrap_data_key(KEK, new_data_key(), **ROW)
    with pytest.raises(KeyUnwrapError):
        unwrap_data_key(KEK, (wrapped * 2)[:length], **ROW)


def test_bad_arguments():
    with pytest.raises(ValueError):
        wrap_data_key(b"short", new_data_key(), **ROW)
    with pytest.raises(ValueError):
        wrap_data_key(KEK, b"short", **ROW)
    with pytest.raises(ValueError):
        wrap_data_key(KEK, new_data_key(), **{**ROW, "kek_version": 0})
    with pytest.raises(TypeError):
        wrap_data_key(KEK, new_data_key(), **{**ROW, "kek_version": True})
