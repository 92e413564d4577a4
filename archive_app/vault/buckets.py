"""Retention-bucket keys: how destruction reaches backups.

Every data key (and a dossier's personal data) is sealed under a key derived from both the
key-encryption key and a *bucket key*: one bucket per destroy-after month ("2031-05"), and
one "hold" bucket for dossiers under legal hold. Bucket keys live in their own file beside
the keyring, never in the database. When a retention run has destroyed the last dossier of a
bucket, the bucket key is deleted, and from then on no copy of the database or the blobs,
however old, can be decrypted with the keyring as it is.

The file is changed under an exclusive `flock` and replaced atomically, so that web
processes filing into a new month and a retention run deleting an old one never lose each
other's change. A key handed out for wrapping records when (wall clock): a key used in the
last few minutes may belong to a filing transaction not yet committed, so it is not deleted.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from zope.interface import implementer

from ..interfaces import IBucketKeys
from .fields import FieldCipher
from .keyring import KEY_SIZE, KeyringError, _write_atomic

FORMAT = "archive-retention-keys"
HOLD_BUCKET = "hold"
_USE_STAMP_EVERY = 60.0  # seconds: how stale a "last used" stamp may get before rewriting


def bucket_for(destroy_after, held: bool) -> str:
    """The bucket a dossier's keys belong in."""
    return HOLD_BUCKET if held else destroy_after.strftime("%Y-%m")


def derive(key: bytes, bucket_key: bytes, bucket: str, purpose: str) -> bytes:
    """A key that needs both `key` (KEK or field key) and the bucket's key."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_SIZE,
        salt=bucket_key,
        info=f"archive bucket {purpose} v1\x00{bucket}".encode(),
    ).derive(key)


@implementer(IBucketKeys)
class BucketKeys:
    """The bucket-key file: `for_wrapping` creates keys, `key` reads, `destroy` deletes."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._cache: dict | None = None
        self._stamp = None

    # -- reading --------------------------------------------------------------------------

    def key(self, bucket: str) -> bytes:
        """The key of an existing bucket; a destroyed or unknown bucket raises KeyringError."""
        entry = self._read().get("buckets", {}).get(bucket)
        if entry is None:
            raise KeyringError(f"retention-bucket key {bucket!r} is destroyed or missing")
        return base64.b64decode(entry["key"])

    def names(self) -> set[str]:
        return set(self._read().get("buckets", {}))

    def destroyed(self) -> dict[str, str]:
        """Bucket name -> when its key was destroyed (names only: kept as evidence)."""
        return dict(self._read().get("destroyed", {}))

    # -- changing -------------------------------------------------------------------------

    def for_wrapping(self, bucket: str) -> bytes:
        """The key of `bucket`, created if new; stamps it as in use (see the module doc)."""
        entry = self._read().get("buckets", {}).get(bucket)
        now = time.time()
        if entry is not None and now - entry["used_at"] < _USE_STAMP_EVERY:
            return base64.b64decode(entry["key"])
        with self._locked() as document:
            buckets = document.setdefault("buckets", {})
            entry = buckets.get(bucket)
            if entry is None:
                entry = {"key": base64.b64encode(os.urandom(KEY_SIZE)).decode(), "created_at": now}
                buckets[bucket] = entry
                document.get("destroyed", {}).pop(bucket, None)
            entry["used_at"] = now
        return base64.b64decode(entry["key"])

    def destroy(self, buckets: set[str], idle_seconds: float) -> list[str]:
        """Delete the keys of `buckets` not used for `idle_seconds`; returns those deleted."""
        deleted = []
        with self._locked() as document:
            now = time.time()
            for bucket in sorted(buckets):
                entry = document.get("buckets", {}).get(bucket)
                if bucket == HOLD_BUCKET or entry is None:
                    continue
                if now - entry["used_at"] < idle_seconds:
                    continue
                del document["buckets"][bucket]
                document.setdefault("destroyed", {})[bucket] = time.strftime(
                    "%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)
                )
                deleted.append(bucket)
        return deleted

    # -- the file -------------------------------------------------------------------------

    def _read(self) -> dict:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return {}
        stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
        if stamp != self._stamp:
            self._cache, self._stamp = self._parse(self.path.read_bytes()), stamp
        return self._cache

    def _parse(self, data: bytes) -> dict:
        try:
            document = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            document = None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise KeyringError(f"retention-bucket key file {self.path} is not valid")
        return document

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict]:
        """The document, re-read under an exclusive lock and saved when the block ends."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                exists = self.path.exists()
                document = self._parse(self.path.read_bytes()) if exists else {"format": FORMAT}
                yield document
                _write_atomic(self.path, json.dumps(document, indent=1).encode(), exclusive=False)
                self._stamp = None  # re-read on next use
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


class Sealer:
    """The keys that seal one dossier's secrets: the KEK (data keys) and the field key
    (personal data), each bound to the dossier's bucket. A bucket of None is the plain key
    (rows written before buckets existed)."""

    def __init__(self, keyring, buckets: BucketKeys | None):
        self.keyring = keyring
        self.buckets = buckets

    def _bucket_key(self, bucket: str, new: bool) -> bytes:
        if self.buckets is None:
            raise KeyringError("no retention-bucket key file is configured")
        return self.buckets.for_wrapping(bucket) if new else self.buckets.key(bucket)

    def wrapping_key(self, kek_version: int, bucket: str | None, *, new: bool = False) -> bytes:
        kek = self.keyring.kek(kek_version)
        if bucket is None:
            return kek
        return derive(kek, self._bucket_key(bucket, new), bucket, "dek")

    def field_cipher(self, bucket: str | None, *, new: bool = False) -> FieldCipher:
        key = self.keyring.field_key()
        if bucket is not None:
            key = derive(key, self._bucket_key(bucket, new), bucket, "fields")
        return FieldCipher(key, self.keyring.hmac_key("lookup"))
