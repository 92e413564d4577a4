"""`archive keys rotate`: a new key-encryption key, and every data key re-wrapped under it.

Bodies are never re-encrypted. The new key is saved before any row changes, rows are
re-wrapped in committed batches, and a rerun picks up whatever still names an older key.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..faults import crash_point
from ..interfaces import IWrappedKeys
from .buckets import BucketKeys, Sealer
from .envelope import unwrap_data_key, wrap_data_key
from .keyring import Keyring


def rotate_keys(keyring: Keyring, keyring_file: Path, run_batches: Callable,
                buckets: BucketKeys, *, rows: IWrappedKeys,
                batch_size: int = 500) -> tuple[int, int]:  # fmt: skip
    """Returns (new version, documents re-wrapped). `run_batches(fn)` runs fn(session)
    in a fresh transaction and returns its result; `rows` are records' (IWrappedKeys)."""
    new_version = keyring.rotate()  # the previous key is retired: it only unwraps from now on
    keyring.save(keyring_file)  # saved before any row names the new version
    crash_point("rotation_saved")
    rewrapped = 0
    sealer = Sealer(keyring, buckets)
    while True:
        count = run_batches(lambda session: _rewrap_batch(session, sealer, rows, batch_size))
        rewrapped += count
        crash_point("rotation_batch")
        if count < batch_size:
            break
    return new_version, rewrapped


def pending_count(session, keyring: Keyring, rows: IWrappedKeys) -> int:
    return rows.pending(session, keyring.current_kek_version)


def _rewrap_batch(session, sealer: Sealer, rows: IWrappedKeys, batch_size: int) -> int:
    """Each data key stays in its retention bucket; only the KEK under it changes."""
    current = sealer.keyring.current_kek_version
    documents = rows.batch(session, current, batch_size)
    for document in documents:
        ids = {"dossier_id": document.dossier_id, "document_id": document.id}
        old_key = sealer.wrapping_key(document.kek_version, document.key_bucket)
        data_key = unwrap_data_key(old_key, document.wrapped_key,
                                   kek_version=document.kek_version, **ids)  # fmt: skip
        new_key = sealer.wrapping_key(current, document.key_bucket, new=True)
        document.wrapped_key = wrap_data_key(new_key, data_key, kek_version=current, **ids)
        document.kek_version = current
    return len(documents)
