"""The blob store: encrypted document bodies as files under one root, written durably.

Owns storage names (random, generated here), the durable write order, streaming reads,
fixity checks and finding orphans; knows nothing of the database.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from zope.interface import implementer

from ..interfaces import IBlobStore
from .durability import fsync_directory
from .streams import DEFAULT_CHUNK, StreamDigest, decrypt_stream, encrypt_stream, verify_stream
from .syncing import SyncBatch

# ab/cd/abcd<28 more hex>.blob: the two folder levels are the name's first four hex digits.
_NAME = re.compile(r"(?P<a>[0-9a-f]{2})/(?P<b>[0-9a-f]{2})/(?P=a)(?P=b)[0-9a-f]{28}\.blob")
_TMP_FOLDER = "tmp"
_READ_SIZE = 1024 * 1024


@implementer(IBlobStore)
class BlobStore:
    """Blobs at `root/<2 hex>/<2 hex>/<32 hex>.blob`; writes in progress under `root/tmp/`."""

    def __init__(self, root: Path, chunk_size: int = DEFAULT_CHUNK):
        self.root = Path(root)
        self.chunk_size = chunk_size

    def __repr__(self) -> str:
        return f"<BlobStore {self.root}>"

    # -- writing ---------------------------------------------------------------------------

    def write(self, src: BinaryIO, dek: bytes, document_id: str, *,
              batch: SyncBatch | None = None) -> tuple[str, StreamDigest]:  # fmt: skip
        """Encrypt `src` into a new blob; return its storage name and digests.

        Order: temp file, fsync, rename, fsync the folder. Once this returns the blob
        survives a crash; if it raises, no temp file is left behind.

        With `batch` (the writes of an import's batch), the file's fsync, its folder's and
        those of the parents of folders made for it are left to the batch, which runs them
        on its threads: the blob survives a crash only once `batch.sync()` has returned,
        which the caller does once for the whole batch before it commits the rows naming
        the blobs. A crash before that leaves, at worst, an unreferenced blob that may be
        incomplete: an orphan, which `verify --repair` removes as any other.
        """
        tmp_folder = self.root / _TMP_FOLDER
        self._make_folders(tmp_folder, batch)
        tmp_path = tmp_folder / f"{secrets.token_hex(16)}.tmp"
        # O_EXCL: never write into (or, below, delete) a file someone else created.
        fd = os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as dst:
                digest = encrypt_stream(src, dst, dek, document_id, self.chunk_size)
                dst.flush()
                if batch is None:
                    os.fsync(dst.fileno())
                else:  # its own descriptor: this one closes now, the batch's after the fsync
                    batch.sync_file(os.dup(dst.fileno()))
            name, final_path = self._new_name()
            self._make_folders(final_path.parent, batch)
            os.replace(tmp_path, final_path)
            if batch is None:
                # Should this fsync fail, the blob is left as an orphan for `verify --repair`.
                fsync_directory(final_path.parent)
            else:
                batch.add_folder(final_path.parent)
            return name, digest
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_path)

    def _new_name(self) -> tuple[str, Path]:
        # 128 random bits never collide in practice; the check costs one stat.
        while True:
            token = secrets.token_hex(16)
            name = f"{token[:2]}/{token[2:4]}/{token}.blob"
            path = self.root / name
            if not path.exists():
                return name, path

    def _make_folders(self, folder: Path, batch: SyncBatch | None = None) -> None:
        """Create `folder` and missing parents, fsyncing each new entry's parent (or, with
        `batch`, leaving the parent to the batch to fsync once)."""
        missing = []
        current = folder
        while not current.exists():
            missing.append(current)
            if current.parent == current:
                break
            current = current.parent
        for path in reversed(missing):
            with contextlib.suppress(FileExistsError):
                path.mkdir(mode=0o700)
            if batch is None:
                fsync_directory(path.parent)
            else:
                batch.add_folder(path.parent)

    # -- reading ---------------------------------------------------------------------------

    def open_plaintext(self, name: str, dek: bytes, document_id: str) -> Iterator[bytes]:
        """The plaintext chunk by chunk, each only after it authenticates.

        The name is checked and the file's presence confirmed now (FileNotFoundError), so a
        caller can fail before starting a response; the file is opened on first iteration
        and closed when the iterator ends or is closed.
        """
        path = self.path_of(name)
        if not path.is_file():
            raise FileNotFoundError(f"blob not found: {name}")
        return self._stream(path, dek, document_id)

    @staticmethod
    def _stream(path: Path, dek: bytes, document_id: str) -> Iterator[bytes]:
        with open(path, "rb") as src:
            yield from decrypt_stream(src, dek, document_id)

    def verify(self, name: str, dek: bytes, document_id: str) -> StreamDigest:
        """Decrypt and authenticate the whole blob without keeping the plaintext."""
        with open(self.path_of(name), "rb") as src:
            return verify_stream(src, dek, document_id)

    def cipher_sha256(self, name: str) -> str:
        """SHA-256 of the stored bytes: fixity checkable without any key."""
        digest = hashlib.sha256()
        with open(self.path_of(name), "rb") as src:
            while piece := src.read(_READ_SIZE):
                digest.update(piece)
        return digest.hexdigest()

    def exists(self, name: str) -> bool:
        return self.path_of(name).is_file()

    def path_of(self, name: str) -> Path:
        """The file of a storage name; anything but a generated name raises ValueError."""
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValueError("not a blob storage name")
        return self.root / name

    def iter_names(self) -> Iterator[str]:
        """Every blob name present, sorted (temp files excluded)."""
        if not self.root.is_dir():
            return
        for first in sorted(self.root.iterdir()):
            if first.name == _TMP_FOLDER or not first.is_dir():
                continue
            for second in sorted(first.iterdir()):
                if not second.is_dir():
                    continue
                for blob in sorted(second.iterdir()):
                    name = f"{first.name}/{second.name}/{blob.name}"
                    if _NAME.fullmatch(name) and blob.is_file():
                        yield name

    # -- removal ---------------------------------------------------------------------------

    def remove(self, name: str) -> None:
        """Delete a blob durably; absent is fine (destruction may be re-run)."""
        path = self.path_of(name)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        if path.parent.is_dir():
            fsync_directory(path.parent)

    def orphans(
        self,
        known: set[str],
        older_than: datetime | timedelta,
        now: datetime | None = None,
    ) -> list[str]:
        """Blobs not in `known`, and stale temp files (as `tmp/<file>`), last modified
        before the cutoff.

        `older_than` is the cutoff itself (aware datetime) or a grace period counted back
        from `now` (default: the current time). The grace period protects blobs written by
        a transaction that has not committed yet.
        """
        if isinstance(older_than, timedelta):
            cutoff = (now or datetime.now(UTC)) - older_than
        else:
            cutoff = older_than
        if cutoff.tzinfo is None:
            raise ValueError("the cutoff must be timezone-aware")
        limit = cutoff.timestamp()
        found = [
            name
            for name in self.iter_names()
            if name not in known and _mtime(self.root / name, default=limit) < limit
        ]
        tmp_folder = self.root / _TMP_FOLDER
        if tmp_folder.is_dir():
            for entry in sorted(tmp_folder.iterdir()):
                if entry.is_file() and _mtime(entry, default=limit) < limit:
                    found.append(f"{_TMP_FOLDER}/{entry.name}")
        return found

    def remove_orphan(self, name: str) -> None:
        """Remove a name returned by `orphans` (a blob or `tmp/<file>`)."""
        if isinstance(name, str) and name.startswith(f"{_TMP_FOLDER}/"):
            entry = name[len(_TMP_FOLDER) + 1 :]
            if not entry or entry in (".", "..") or "/" in entry or "\\" in entry or "\0" in entry:
                raise ValueError("not a temp file name")
            path = self.root / _TMP_FOLDER / entry
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            if path.parent.is_dir():
                fsync_directory(path.parent)
            return
        self.remove(name)


def _mtime(path: Path, *, default: float) -> float:
    # A file removed while we look is nobody's orphan: report it as not old enough.
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return default
