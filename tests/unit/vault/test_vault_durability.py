"""The one way the archive replaces a file: whole or not at all, private, never clobbering
when told not to (keyring, certificate exports, the index pointer)."""

from __future__ import annotations

import os
import stat

import pytest

from archive_app.vault import durability
from archive_app.vault.durability import write_atomically


def test_a_file_is_written_whole_and_private(tmp_path):
    target = tmp_path / "new" / "keyring.json"
    assert write_atomically(target, b"first") is True
    assert target.read_bytes() == b"first"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert write_atomically(target, b"second") is True
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["keyring.json"]  # no temp left


def test_exclusive_never_overwrites(tmp_path):
    target = tmp_path / "keyring.json"
    assert write_atomically(target, b"mine", exclusive=True) is True
    assert write_atomically(target, b"theirs", exclusive=True) is False
    assert target.read_bytes() == b"mine"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "CURRENT"
    write_atomically(target, b"gen-1")

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(durability.os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        write_atomically(target, b"gen-2")
    assert target.read_bytes() == b"gen-1"
    assert os.listdir(tmp_path) == ["CURRENT"]
