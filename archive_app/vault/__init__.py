"""Keys and encrypted storage: the keyring, the blob store and field-level encryption."""

from __future__ import annotations

import os

from ..interfaces import IBlobStore, IFieldCipher, IKeyring
from ..settings import keyring_path, storage_dir
from .blobstore import BlobStore
from .fields import FieldCipher
from .keyring import Keyring

KEYRING_ENVIRONMENT_VARIABLE = "ARCHIVE_KEYRING"


def load_keyring(settings) -> Keyring:
    """The keyring from `ARCHIVE_KEYRING` (production) or the keyring file."""
    text = os.environ.get(KEYRING_ENVIRONMENT_VARIABLE)
    if text:
        return Keyring.from_text(text)
    return Keyring.load(keyring_path(settings))


def blob_root(settings):
    return storage_dir(settings) / "blobs"


def field_cipher(keyring: Keyring) -> FieldCipher:
    return FieldCipher(keyring.field_key(), keyring.hmac_key("lookup"))


def includeme(config):
    settings = config.get_settings()
    keyring = load_keyring(settings)
    # Process-wide: other includes (sessions, the access log) need it at configuration time.
    config.registry["archive.keyring"] = keyring
    config.register_service(keyring, IKeyring)
    config.register_service(BlobStore(blob_root(settings)), IBlobStore)
    config.register_service(field_cipher(keyring), IFieldCipher)
