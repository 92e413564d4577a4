"""Envelope encryption of data keys: a document's DEK wrapped under a KEK from the keyring.

The wrapped key is bound to its row (KEK version, dossier id, document id) by associated
data, so wrapped keys copied between rows do not unwrap.
"""

from __future__ import annotations

import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

WRAP_FORMAT_VERSION = 1
KEY_SIZE = 32
_NONCE_SIZE = 12
_TAG_SIZE = 16
WRAPPED_SIZE = 1 + _NONCE_SIZE + KEY_SIZE + _TAG_SIZE
_AD_LABEL = b"archive dek v1\x00"


class KeyUnwrapError(Exception):
    """A wrapped data key does not unwrap: wrong KEK, wrong row, or tampered bytes."""


def new_data_key() -> bytes:
    """A fresh random 256-bit data key (one per document)."""
    return os.urandom(KEY_SIZE)


def wrap_data_key(
    kek: bytes,
    dek: bytes,
    *,
    kek_version: int,
    dossier_id: str,
    document_id: str,
) -> bytes:
    """Seal `dek` under `kek` with AES-256-GCM: version byte ‖ nonce ‖ ciphertext+tag."""
    _check_key(kek, "key-encryption key")
    _check_key(dek, "data key")
    # A random 96-bit nonce is safe for far more wraps than one KEK will ever see
    # (the 2^32 message bound per key); rotation resets the count anyway.
    nonce = os.urandom(_NONCE_SIZE)
    ad = _associated_data(kek_version, dossier_id, document_id)
    return bytes([WRAP_FORMAT_VERSION]) + nonce + AESGCM(bytes(kek)).encrypt(nonce, bytes(dek), ad)


def unwrap_data_key(
    kek: bytes,
    wrapped: bytes,
    *,
    kek_version: int,
    dossier_id: str,
    document_id: str,
) -> bytes:
    """Open a wrapped key; any mismatch of key, row or bytes raises KeyUnwrapError."""
    _check_key(kek, "key-encryption key")
    wrapped = bytes(wrapped)  # database drivers may hand back memoryview
    if len(wrapped) != WRAPPED_SIZE:
        raise KeyUnwrapError("wrapped key has the wrong length")
    if wrapped[0] != WRAP_FORMAT_VERSION:
        raise KeyUnwrapError(f"unsupported wrapped key format {wrapped[0]}")
    nonce = wrapped[1 : 1 + _NONCE_SIZE]
    ad = _associated_data(kek_version, dossier_id, document_id)
    try:
        return AESGCM(bytes(kek)).decrypt(nonce, wrapped[1 + _NONCE_SIZE :], ad)
    except InvalidTag:
        raise KeyUnwrapError(
            f"wrapped key of document {document_id} does not unwrap under KEK v{kek_version}"
        ) from None


def _associated_data(kek_version: int, dossier_id: str, document_id: str) -> bytes:
    if isinstance(kek_version, bool) or not isinstance(kek_version, int):
        raise TypeError("kek_version must be an int")
    if not 1 <= kek_version < 2**32:
        raise ValueError("kek_version must be between 1 and 2**32 - 1")
    dossier = str(dossier_id).encode("utf-8")
    document = str(document_id).encode("utf-8")
    # Length prefixes keep the encoding injective: ("ab", "c") never collides with ("a", "bc").
    return (
        _AD_LABEL
        + struct.pack(">BI", WRAP_FORMAT_VERSION, kek_version)
        + struct.pack(">I", len(dossier))
        + dossier
        + struct.pack(">I", len(document))
        + document
    )


def _check_key(key: bytes, what: str) -> None:
    if not isinstance(key, bytes | bytearray) or len(key) != KEY_SIZE:
        raise ValueError(f"{what} must be {KEY_SIZE} bytes")
