"""Files chosen on the filing form, kept between a refused submit and the next one: each
encrypted under a key derived from the vault for this draft and this user (never plaintext
on disk), one folder per draft under `storage/drafts/`, purged an hour after last use.

A draft is Deform's `FileUploadTempStore` for the form's upload widgets: a fresh upload stays
in memory (its request's spooled file) until `keep()` seals it to disk; a kept file is found
again by its widget's `uid` and copied out only while the dossier is filed."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import shutil
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from deform.widget import filedict

from ..interfaces import IClock, IKeyring
from ..settings import storage_dir
from ..vault.streams import BlobIntegrityError, decrypt_stream, encrypt_stream

DRAFT_TTL_SECONDS = 3600
TOKEN = re.compile(r"^[0-9a-f]{32}$")
UID = re.compile(r"^[A-Za-z0-9]{1,32}$")  # Deform's random_id: ten upper-case letters/digits
_KEY_PURPOSE = "filing-drafts"


class FilingDraft:
    """One draft's kept files (Deform's temp store interface: `get`, `in`, `[]`, `[]=`)."""

    def __init__(self, folder: Path, key: bytes):
        self.folder = folder
        self.token = folder.name
        self._key = key
        self._entries: dict[str, filedict] = {}

    # -- Deform's FileUploadTempStore ---------------------------------------------------

    def get(self, uid, default=None):
        if uid in self._entries:
            return self._entries[uid]
        kept = self._read_kept(uid)
        if kept is None:
            return default
        self._entries[uid] = kept
        return kept

    def __contains__(self, uid) -> bool:
        return self.get(uid) is not None

    def __getitem__(self, uid):
        value = self.get(uid)
        if value is None:
            raise KeyError(uid)
        return value

    def __setitem__(self, uid, value) -> None:
        if not isinstance(uid, str) or not UID.match(uid):
            raise KeyError(uid)
        self._entries[uid] = value

    def preview_url(self, uid):
        return None  # kept files are never served back

    # -- keeping and reading ------------------------------------------------------------

    def keep(self, uid: str) -> bool:
        """Seal a fresh upload to disk (a kept one stays as it is); False if there is none."""
        data = self._entries.get(uid)
        if data is None or not UID.match(uid):
            return False
        if data.get("kept"):
            self._touch()
            return True
        handle = data.get("fp")
        if handle is None:
            return False
        self._make_folder()
        handle.seek(0)
        self._seal(self._path(uid, "body"), handle, f"body:{uid}")
        meta = {"filename": data.get("filename") or "", "mimetype": data.get("mimetype"),
                "size": data.get("size")}  # fmt: skip
        self._seal(self._path(uid, "meta"), io.BytesIO(json.dumps(meta).encode()), f"meta:{uid}")
        data["kept"] = True
        return True

    def forget(self, uid: str) -> None:
        """Drop one file (a refused one the person must choose again)."""
        self._entries.pop(uid, None)
        if UID.match(uid or ""):
            for part in ("body", "meta"):
                self._path(uid, part).unlink(missing_ok=True)

    def copy_to(self, uid: str, out: BinaryIO) -> int:
        """The kept file's plaintext written to `out` (a request's spool file); its size."""
        size = 0
        with open(self._path(uid, "body"), "rb") as source:
            for chunk in decrypt_stream(source, self._key, f"body:{uid}"):
                out.write(chunk)
                size += len(chunk)
        return size

    def discard(self) -> None:
        """The dossier is filed (or abandoned): every kept file goes."""
        self._entries.clear()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _read_kept(self, uid) -> filedict | None:
        if not isinstance(uid, str) or not UID.match(uid):
            return None
        try:
            with open(self._path(uid, "meta"), "rb") as source:
                meta = json.loads(b"".join(decrypt_stream(source, self._key, f"meta:{uid}")))
        except (OSError, ValueError, BlobIntegrityError):
            return None  # gone, expired, or another user's draft: not kept
        return filedict(
            uid=uid, filename=meta.get("filename") or "", fp=None, kept=True,
            mimetype=meta.get("mimetype"), size=meta.get("size"), preview_url=None,
        )  # fmt: skip

    def _seal(self, path: Path, source: BinaryIO, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            encrypt_stream(source, out, self._key, name)

    def _path(self, uid: str, part: str) -> Path:
        return self.folder / f"{uid}.{part}"

    def _make_folder(self) -> None:
        self.folder.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.folder.mkdir(mode=0o700, exist_ok=True)
        self._touch()

    def _touch(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.utime(self.folder)  # last use: the hour of grace starts again


class FilingDrafts:
    """Where drafts live, how their keys are made, and when they expire."""

    def __init__(self, root: Path, master_key: bytes, clock, ttl_seconds: int = DRAFT_TTL_SECONDS):
        self.root = Path(root)
        self._master = master_key
        self.clock = clock
        self.ttl_seconds = ttl_seconds

    def open(self, token: str | None, owner: str) -> FilingDraft:
        """The draft named by `token` (a new one if it is missing or malformed); expired
        drafts are purged first, so an old token finds nothing."""
        self.purge()
        if not isinstance(token, str) or not TOKEN.match(token):
            token = secrets.token_hex(16)
        return FilingDraft(self.root / token, self._key(token, owner))

    def purge(self, now: datetime | None = None) -> int:
        """Remove drafts unused for longer than the time to live; how many went."""
        if not self.root.is_dir():
            return 0
        limit = (now or self.clock.now()).timestamp() - self.ttl_seconds
        purged = 0
        for folder in self.root.iterdir():
            try:
                stale = folder.stat().st_mtime < limit
            except FileNotFoundError:
                continue
            if stale:
                shutil.rmtree(folder, ignore_errors=True)
                purged += 1
        return purged

    def _key(self, token: str, owner: str) -> bytes:
        # A key per draft and user: a token copied into another user's form opens nothing.
        message = f"{token}\x00{owner}".encode()
        return hmac.new(self._master, message, hashlib.sha256).digest()


def drafts_for(registry) -> FilingDrafts:
    return FilingDrafts(
        storage_dir(registry.settings) / "drafts",
        registry.getUtility(IKeyring).hmac_key(_KEY_PURPOSE),
        registry.getUtility(IClock),
    )
