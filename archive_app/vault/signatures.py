"""Signed JSON documents (certificates, reviews): canonical JSON and the Ed25519 core.

The rules are the contract's (§6), so that anyone can check a document offline: canonical
JSON is the UTF-8 of `json.dumps(obj, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`; `signature` is the base64 Ed25519 signature over the canonical JSON of
the document without `signature`; `public_key` the base64 of the raw 32-byte key. Whose
document it is, is decided by the key alone (§7): the verifier passes the archive's keys.
"""

from __future__ import annotations

import base64
import binascii
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .keyring import fingerprint

SIGNATURE = "signature"
PUBLIC_KEY = "public_key"


def canonical_json(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def public_key_text(signing_key: Ed25519PrivateKey) -> str:
    """The base64 of the raw public half, as a signed document carries it."""
    raw = signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def sign_document(body: dict, signing_key: Ed25519PrivateKey) -> dict:
    """`body` (which carries its `public_key`) with its `signature` added."""
    signature = signing_key.sign(canonical_json(body))
    return body | {SIGNATURE: base64.b64encode(signature).decode("ascii")}


def raw_key(value) -> bytes | None:
    """The raw 32-byte key of a base64 text; None for anything else."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, TypeError, ValueError):
        return None
    return raw if len(raw) == 32 else None


def signature_problems(document: dict, trusted: set[bytes], what: str = "document") -> list[str]:
    """The signature of `document` (a dict with `public_key` and `signature`) under one of
    the `trusted` raw keys; an empty list when it holds."""
    public_key = raw_key(document.get(PUBLIC_KEY))
    try:
        signature = base64.b64decode(document.get(SIGNATURE), validate=True)
    except (binascii.Error, TypeError, ValueError):
        return ["signature is not base64."]
    if public_key is None:
        return ["public_key is not the base64 of a raw 32-byte Ed25519 key."]
    if public_key not in trusted:
        # Checked before the signature: a forger signs their own document with their own
        # key, and that signature verifies; only the key says whose document it is.
        return [
            f"The {what} is signed with key {fingerprint(public_key)}, "
            "which is not the archive's signing key."
        ]
    unsigned = {key: value for key, value in document.items() if key != SIGNATURE}
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, canonical_json(unsigned))
    except InvalidSignature:
        return [f"The signature does not match the {what}'s content."]
    return []
