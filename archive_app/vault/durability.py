"""Making a write, a rename or an unlink survive a crash: the one way files are replaced."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def fsync_directory(folder: Path) -> None:
    """Flush a folder's entries: without it a crash can forget a new or removed name."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes, *, exclusive: bool = False) -> bool:
    """Write `data` to `path` whole or not at all: a 0600 temporary file in the same folder,
    fsync'd, renamed over `path`, the folder fsync'd. A crash leaves the old file or the new
    one, never a part (a full disk raises, and the old file stays).

    With `exclusive`, an existing file wins and False is returned (nothing is overwritten).
    """
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            os.fchmod(tmp.fileno(), 0o600)
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        if exclusive:
            # link() fails if the target exists: no window where another creator is clobbered.
            try:
                os.link(tmp_name, path)
            except FileExistsError:
                return False
            except OSError:
                # File systems without hard links: fall back to a checked rename.
                if path.exists():
                    return False
                os.replace(tmp_name, path)
        else:
            os.replace(tmp_name, path)
        fsync_directory(folder)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
