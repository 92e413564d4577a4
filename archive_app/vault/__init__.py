"""Keys and encrypted storage: the keyring, the blob store and field-level encryption."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from zope.interface import implementer

from ..interfaces import IBlobStore, IBucketKeys, IFieldCipher, IKeyring
from ..settings import bucket_keys_path, keyring_path, storage_dir
from .blobstore import BlobStore
from .buckets import BucketKeys
from .fields import FieldCipher
from .keyring import Keyring, KeyringError

KEYRING_ENVIRONMENT_VARIABLE = "ARCHIVE_KEYRING"
log = logging.getLogger(__name__)


@implementer(IKeyring)
class ReloadingKeyring:
    """The keyring file as it is now: re-read when the file changes, so that web processes
    pick up a key-encryption key that `archive keys rotate` added in another process."""

    def __init__(self, path: Path):
        self.path = path
        self._keyring = Keyring.load(path)  # a missing or bad file: KeyringError, said clearly
        self._stamp = self._stat()

    def _stat(self):
        info = self.path.stat()
        return (info.st_mtime_ns, info.st_size, info.st_ino)

    def _current(self) -> Keyring:
        try:
            stamp = self._stat()
        except OSError:
            return self._keyring  # a missing file now: keep serving with the keys in memory
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._keyring = Keyring.load(self.path)
            except KeyringError as error:
                # Damaged while running: the keys in memory still open everything; say so
                # loudly (the message names the file, never a key) and keep serving.
                log.error("%s; serving with the keyring loaded before", error)
        return self._keyring

    def __getattr__(self, name):
        return getattr(self._current(), name)

    def __repr__(self) -> str:
        return f"<ReloadingKeyring {self.path}>"


def load_keyring(settings) -> Keyring | ReloadingKeyring:
    """The keyring from `ARCHIVE_KEYRING` (production) or the keyring file."""
    text = os.environ.get(KEYRING_ENVIRONMENT_VARIABLE)
    if text:
        return Keyring.from_text(text)
    return ReloadingKeyring(keyring_path(settings))


def blob_root(settings):
    return storage_dir(settings) / "blobs"


def field_cipher(keyring: Keyring) -> FieldCipher:
    return FieldCipher(keyring.field_key(), keyring.hmac_key("lookup"))


def includeme(config):
    settings = config.get_settings()
    keyring = load_keyring(settings)
    # Process-wide: other includes (sessions, the access log) need it at configuration time.
    config.register_process_service(keyring, IKeyring)
    config.register_process_service(BlobStore(blob_root(settings)), IBlobStore)
    config.register_process_service(field_cipher(keyring), IFieldCipher)
    config.register_process_service(BucketKeys(bucket_keys_path(settings)), IBucketKeys)
