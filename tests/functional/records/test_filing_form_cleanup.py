"""`archive verify --repair` purges filing drafts unused for an hour, as the form's next use
does (records/drafts.py), and leaves fresh ones."""

from __future__ import annotations

import os
import time
from pathlib import Path

from support import make_cli_env, run_cli


def test_verify_repair_purges_expired_drafts(tmp_path_factory):
    env = make_cli_env(tmp_path_factory, "filing_drafts")
    drafts = Path(env["ARCHIVE_STORAGE_DIR"]) / "drafts"
    old, fresh = drafts / ("a" * 32), drafts / ("b" * 32)
    for folder in (old, fresh):
        folder.mkdir(parents=True, mode=0o700)
        (folder / "X.body").write_bytes(b"sealed")
    then = time.time() - 3700
    os.utime(old, (then, then))
    listed = run_cli(env, "verify")
    assert old.exists() and "drafts" not in listed.stdout  # only --repair removes
    repaired = run_cli(env, "verify", "--repair")
    assert "expired filing drafts: 1 removed" in repaired.stdout
    assert not old.exists() and fresh.exists()
