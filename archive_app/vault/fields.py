"""Field-level encryption of personal data in database columns, and keyed lookup hashes.

Owns the column format (version byte ‖ nonce ‖ ciphertext+tag, context as associated data)
and the normalisation that makes exact-match lookups by HMAC work.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from zope.interface import implementer

from ..interfaces import IFieldCipher

FIELD_FORMAT_VERSION = 1
KEY_SIZE = 32
_NONCE_SIZE = 12
_TAG_SIZE = 16
_AD_LABEL = b"archive field v1\x00"
_WHITESPACE = re.compile(r"\s+")


class FieldDecryptError(Exception):
    """A column value does not decrypt: wrong key, wrong context, or tampered bytes."""


@implementer(IFieldCipher)
class FieldCipher:
    """Seals short texts for one column each (`context`, e.g. "customer.name")."""

    def __init__(self, key: bytes, hmac_key: bytes):
        if not isinstance(key, bytes) or len(key) != KEY_SIZE:
            raise ValueError(f"field key must be {KEY_SIZE} bytes")
        if not isinstance(hmac_key, bytes) or len(hmac_key) < KEY_SIZE:
            raise ValueError(f"HMAC key must be at least {KEY_SIZE} bytes")
        self._aead = AESGCM(key)
        self._hmac_key = hmac_key

    def __repr__(self) -> str:
        return "<FieldCipher>"

    def encrypt(self, text: str | None, *, context: str) -> bytes | None:
        """Encrypt `text` for column `context`; None stays None (an empty string does not)."""
        if text is None:
            return None
        if not isinstance(text, str):
            raise TypeError("only text is encrypted at field level")
        nonce = os.urandom(_NONCE_SIZE)
        sealed = self._aead.encrypt(nonce, text.encode("utf-8"), _associated_data(context))
        return bytes([FIELD_FORMAT_VERSION]) + nonce + sealed

    def decrypt(self, data: bytes | None, *, context: str) -> str | None:
        """The text sealed for `context`; a value moved from another column fails."""
        if data is None:
            return None
        data = bytes(data)  # database drivers may hand back memoryview
        if len(data) < 1 + _NONCE_SIZE + _TAG_SIZE:
            raise FieldDecryptError(f"{context}: value too short")
        if data[0] != FIELD_FORMAT_VERSION:
            raise FieldDecryptError(f"{context}: unsupported format {data[0]}")
        nonce, sealed = data[1 : 1 + _NONCE_SIZE], data[1 + _NONCE_SIZE :]
        try:
            plain = self._aead.decrypt(nonce, sealed, _associated_data(context))
        except InvalidTag:
            raise FieldDecryptError(f"{context}: value does not authenticate") from None
        try:
            return plain.decode("utf-8")
        except UnicodeDecodeError:
            raise FieldDecryptError(f"{context}: value is not UTF-8") from None

    def lookup_hash(self, text: str | None) -> str | None:
        """Hex HMAC-SHA256 of the normalised value, for exact-match lookups; None if blank."""
        if text is None:
            return None
        normalised = normalise_for_lookup(text)
        if not normalised:
            return None
        return hmac.new(self._hmac_key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()


def normalise_for_lookup(text: str) -> str:
    """NFKC (full-width forms fold to ASCII), trimmed, inner whitespace runs as one space,
    casefolded, NFKC again (casefolding can leave a string unnormalised)."""
    folded = _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text).strip()).casefold()
    return unicodedata.normalize("NFKC", folded)


def _associated_data(context: str) -> bytes:
    if not isinstance(context, str) or not context:
        raise ValueError("context must be a non-empty string")
    return _AD_LABEL + bytes([FIELD_FORMAT_VERSION]) + context.encode("utf-8")
