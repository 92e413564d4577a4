"""The keyring: every long-lived secret of the archive, kept outside the database and blobs.

Owns the key-encryption keys (versioned, one current), the field-encryption key, the master
secret for purpose-bound HMAC keys, the Ed25519 signing key (with the public halves of the
signing keys it replaced, still trusted for what they signed), and their file format.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from zope.interface import implementer

from ..interfaces import IKeyring
from .durability import write_atomically

FORMAT = "archive-keyring"
FORMAT_VERSION = 1
KEY_SIZE = 32
CURRENT = "current"
RETIRED = "retired"
_HMAC_INFO = b"archive hmac v1\x00"

log = logging.getLogger(__name__)


class KeyringError(Exception):
    """The keyring cannot be used as asked. Messages name paths and fields, never key bytes."""


@dataclass(frozen=True)
class _Kek:
    version: int
    key: bytes = field(repr=False)
    status: str
    created_at: datetime


@dataclass(frozen=True)
class RetiredSigningKey:
    """A signing key rotated away: only its public half is kept, to verify what it signed."""

    public_key: bytes
    retired_at: datetime


def fingerprint(public_key: bytes) -> str:
    """Hex SHA-256 of a raw public key in groups of four, for people to compare by eye."""
    digest = hashlib.sha256(public_key).hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


@implementer(IKeyring)
class Keyring:
    """The archive's secrets. Build with `generate`, `load`, `from_text` or `create_or_load`."""

    def __init__(
        self,
        *,
        keks: list[_Kek],
        field_key: bytes,
        hmac_master: bytes,
        signing_key: bytes,
        retired_signing_keys: tuple[RetiredSigningKey, ...] = (),
    ):
        if len({kek.version for kek in keks}) != len(keks):
            raise KeyringError("duplicate KEK versions")
        self._keks = {kek.version: kek for kek in keks}
        self._field_key = field_key
        self._hmac_master = hmac_master
        self._signing_key = signing_key
        self._retired_signing_keys = tuple(retired_signing_keys)
        self._check_invariants()

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def generate(cls, now: datetime | None = None) -> Keyring:
        """A new keyring of fresh random keys, KEK version 1 current."""
        return cls(
            keks=[_Kek(1, os.urandom(KEY_SIZE), CURRENT, now or datetime.now(UTC))],
            field_key=os.urandom(KEY_SIZE),
            hmac_master=os.urandom(KEY_SIZE),
            signing_key=Ed25519PrivateKey.generate().private_bytes_raw(),
        )

    @classmethod
    def create_or_load(cls, path: Path) -> Keyring:
        """Load the keyring at `path`, creating it (mode 0600) first if there is none.

        Creation is exclusive, so two processes racing here end up with the same keyring.
        """
        path = Path(path)
        if not path.exists():
            keyring = cls.generate()
            if _write_atomic(path, keyring.to_text().encode("utf-8"), exclusive=True):
                return keyring
        return cls.load(path)

    @classmethod
    def load(cls, path: Path) -> Keyring:
        path = Path(path)
        try:
            data = path.read_bytes()
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise KeyringError(f"keyring file not found: {path}") from None
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise KeyringError(f"keyring file unreadable: {path} ({reason})") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("keyring file %s is accessible to group or others; chmod 600 it", path)
        text = _decode_utf8(data)
        if text is None:
            raise KeyringError(f"keyring file {path} is not valid: not UTF-8 text")
        return cls._parse(text, source=f"keyring file {path}")

    @classmethod
    def from_text(cls, text: str) -> Keyring:
        """The same JSON document as the file, given as text (production: an env variable)."""
        if not isinstance(text, str) or not text.strip():
            raise KeyringError("keyring text is empty")
        return cls._parse(text, source="keyring text")

    def to_text(self) -> str:
        """The keyring as its JSON document (what `save` writes and `from_text` reads)."""
        doc = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "keks": [
                {
                    "version": kek.version,
                    "key": _b64(kek.key),
                    "status": kek.status,
                    "created_at": kek.created_at.isoformat(),
                }
                for kek in sorted(self._keks.values(), key=lambda k: k.version)
            ],
            "field_key": _b64(self._field_key),
            "hmac_master": _b64(self._hmac_master),
            "signing_key": _b64(self._signing_key),
        }
        if self._retired_signing_keys:
            # Only once a signing key was rotated: keyrings that never were stay byte for byte
            # what older versions wrote, and older versions ignore the field.
            doc["retired_signing_keys"] = [
                {"public_key": _b64(k.public_key), "retired_at": k.retired_at.isoformat()}
                for k in self._retired_signing_keys
            ]
        return json.dumps(doc, indent=2) + "\n"

    def save(self, path: Path) -> None:
        """Replace the file at `path` atomically and durably, mode 0600."""
        _write_atomic(Path(path), self.to_text().encode("utf-8"), exclusive=False)

    # -- key-encryption keys ---------------------------------------------------------------

    @property
    def current_kek_version(self) -> int:
        return next(k.version for k in self._keks.values() if k.status == CURRENT)

    @property
    def kek_versions(self) -> tuple[int, ...]:
        return tuple(sorted(self._keks))

    @property
    def retired_versions(self) -> tuple[int, ...]:
        return tuple(sorted(v for v, k in self._keks.items() if k.status == RETIRED))

    def kek(self, version: int) -> bytes:
        """The KEK of `version`, current or retired (retired ones still unwrap)."""
        valid = isinstance(version, int) and not isinstance(version, bool)
        kek = self._keks.get(version) if valid else None
        if kek is None:
            raise KeyringError(f"unknown key-encryption key version {version!r}")
        return kek.key

    def rotate(self, now: datetime | None = None) -> int:
        """Add a new current KEK and retire the previous one; return its version.

        The caller saves the keyring, then re-wraps data keys (`archive keys rotate`).
        """
        version = max(self._keks) + 1
        self._keks = {v: replace(k, status=RETIRED) for v, k in self._keks.items()}
        self._keks[version] = _Kek(version, os.urandom(KEY_SIZE), CURRENT, now or datetime.now(UTC))
        return version

    def retire(self, version: int) -> None:
        """Mark a KEK retired (kept for unwrapping). The current one must be rotated away."""
        self.kek(version)
        if self._keks[version].status == CURRENT:
            raise KeyringError(f"KEK v{version} is current; rotate before retiring it")
        self._keks[version] = replace(self._keks[version], status=RETIRED)

    # -- other keys ------------------------------------------------------------------------

    def field_key(self) -> bytes:
        """The AES-256-GCM key for personal data in database columns."""
        return self._field_key

    def hmac_key(self, purpose: str) -> bytes:
        """A 256-bit HMAC key for one purpose ("lookup", "access-log", ...).

        Derived, not stored: one master secret, and keys of different purposes are
        independent, so a key leaked from one use says nothing about another.
        """
        if not isinstance(purpose, str) or not purpose:
            raise ValueError("purpose must be a non-empty string")
        return HKDF(
            algorithm=hashes.SHA256(),
            length=KEY_SIZE,
            salt=None,
            info=_HMAC_INFO + purpose.encode("utf-8"),
        ).derive(self._hmac_master)

    def signing_key(self) -> Ed25519PrivateKey:
        """The Ed25519 key that signs certificates and log checkpoints."""
        return Ed25519PrivateKey.from_private_bytes(self._signing_key)

    def public_key_bytes(self) -> bytes:
        """The raw 32-byte Ed25519 public key, for publishing with signed artefacts."""
        return self.signing_key().public_key().public_bytes_raw()

    @property
    def retired_signing_keys(self) -> tuple[RetiredSigningKey, ...]:
        return self._retired_signing_keys

    def trusted_public_keys(self) -> tuple[bytes, ...]:
        """The archive's signing keys, current first, then those it replaced (newest first):
        what the archive signed with any of them is the archive's."""
        retired = [k.public_key for k in reversed(self._retired_signing_keys)]
        return (self.public_key_bytes(), *retired)

    def rotate_signing_key(self, now: datetime | None = None) -> Ed25519PrivateKey:
        """A new current signing key; the old one's public half is kept as retired.

        Returns the OLD private key, for the caller to sign the announcement of the new one
        (`archive keys rotate-signing`); it is not kept. The caller saves the keyring.
        """
        old = self.signing_key()
        retired = RetiredSigningKey(old.public_key().public_bytes_raw(), now or datetime.now(UTC))
        self._retired_signing_keys = (*self._retired_signing_keys, retired)
        self._signing_key = Ed25519PrivateKey.generate().private_bytes_raw()
        return old

    def __repr__(self) -> str:
        return (
            f"<Keyring keks={list(self.kek_versions)} current={self.current_kek_version} "
            f"retired={list(self.retired_versions)}>"
        )

    # -- parsing ---------------------------------------------------------------------------

    @classmethod
    def _parse(cls, text: str, *, source: str) -> Keyring:
        # Parse errors are turned into KeyringError outside the `except` blocks so that no
        # exception carrying the document (JSONDecodeError.doc) is chained to the error.
        doc = _json_or_none(text)
        if not isinstance(doc, dict):
            raise KeyringError(f"{source} is not valid: not a JSON object (truncated or garbage)")

        def bad(what: str) -> KeyringError:
            return KeyringError(f"{source} is not valid: {what}")

        if doc.get("format") != FORMAT:
            raise bad(f'"format" must be "{FORMAT}"')
        if doc.get("version") != FORMAT_VERSION:
            raise bad(f'unsupported "version" (expected {FORMAT_VERSION})')
        entries = doc.get("keks")
        if not isinstance(entries, list) or not entries:
            raise bad('"keks" must be a non-empty list')
        keks = []
        for index, entry in enumerate(entries):
            where = f"keks[{index}]"
            if not isinstance(entry, dict):
                raise bad(f"{where} must be an object")
            version = entry.get("version")
            if isinstance(version, bool) or not isinstance(version, int) or version < 1:
                raise bad(f"{where}.version must be an integer >= 1")
            status = entry.get("status")
            if status not in (CURRENT, RETIRED):
                raise bad(f'{where}.status must be "{CURRENT}" or "{RETIRED}"')
            created_at = _datetime_or_none(entry.get("created_at"))
            if created_at is None:
                raise bad(f"{where}.created_at must be an ISO 8601 date-time")
            keks.append(
                _Kek(version, _key(entry.get("key"), f"{where}.key", bad), status, created_at)
            )
        field_key = _key(doc.get("field_key"), "field_key", bad)
        hmac_master = _key(doc.get("hmac_master"), "hmac_master", bad)
        signing_key = _key(doc.get("signing_key"), "signing_key", bad)
        retired_signing_keys = _retired_signing_keys(doc.get("retired_signing_keys", []), bad)
        try:
            return cls(
                keks=keks, field_key=field_key, hmac_master=hmac_master, signing_key=signing_key,
                retired_signing_keys=retired_signing_keys,
            )  # fmt: skip
        except KeyringError as error:
            raise bad(str(error)) from None

    def _check_invariants(self) -> None:
        if not self._keks:
            raise KeyringError("no key-encryption keys")
        current = [k for k in self._keks.values() if k.status == CURRENT]
        if len(current) != 1:
            raise KeyringError(f"exactly one KEK must be current, found {len(current)}")
        for name, key in (
            ("field_key", self._field_key),
            ("hmac_master", self._hmac_master),
            ("signing_key", self._signing_key),
            *((f"KEK v{k.version}", k.key) for k in self._keks.values()),
        ):
            if not isinstance(key, bytes) or len(key) != KEY_SIZE:
                raise KeyringError(f"{name} must be {KEY_SIZE} bytes")


def _retired_signing_keys(entries: Any, bad: Callable[[str], KeyringError]):
    if not isinstance(entries, list):
        raise bad('"retired_signing_keys" must be a list')
    retired = []
    for index, entry in enumerate(entries):
        where = f"retired_signing_keys[{index}]"
        if not isinstance(entry, dict):
            raise bad(f"{where} must be an object")
        retired_at = _datetime_or_none(entry.get("retired_at"))
        if retired_at is None:
            raise bad(f"{where}.retired_at must be an ISO 8601 date-time")
        retired.append(RetiredSigningKey(_key(entry.get("public_key"), f"{where}.public_key", bad),
                                         retired_at))  # fmt: skip
    return tuple(retired)


def _key(value: Any, name: str, bad: Callable[[str], KeyringError]) -> bytes:
    raw = _b64decode_or_none(value) if isinstance(value, str) else None
    if raw is None:
        raise bad(f"{name} is missing or not base64")
    if len(raw) != KEY_SIZE:
        raise bad(f"{name} must decode to {KEY_SIZE} bytes")
    return raw


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _b64decode_or_none(value: str) -> bytes | None:
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _decode_utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _datetime_or_none(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _write_atomic(path: Path, data: bytes, *, exclusive: bool) -> bool:
    return write_atomically(path, data, exclusive=exclusive)
