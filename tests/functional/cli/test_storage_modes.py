"""Files under storage/ are 0600 and folders 0700 (contract §7), whatever the umask the
commands are started with, and `archive init` makes a world-readable tree private again."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from support import make_cli_env, run_cli
from test_cli_retention import write_old_dossier


@pytest.fixture
def loose_umask():
    """The usual login umask (world-readable files) for the commands this test starts."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def not_private(root: Path) -> list[str]:
    """Every file not 0600 and folder not 0700 under root (root included)."""
    wrong = []
    for path in [root, *root.rglob("*")]:
        info = path.lstat()
        expected = 0o700 if stat.S_ISDIR(info.st_mode) else 0o600
        if stat.S_IMODE(info.st_mode) != expected:
            wrong.append(f"{path.relative_to(root)} {stat.S_IMODE(info.st_mode):o}")
    return wrong


def test_everything_the_archive_writes_is_private(tmp_path_factory, tmp_path, loose_umask):
    env = make_cli_env(tmp_path_factory, "storage_modes")
    root = Path(env["ARCHIVE_ROOT"])
    number = write_old_dossier(tmp_path)
    imported = run_cli(env, "import", str(tmp_path))
    assert imported.returncode == 0, imported.stderr
    assert any((root / "blobs").rglob("*")) and any((root / "index").rglob("*"))
    run = run_cli(env, "retention", "run", "--as-of", "2021-01-01")
    assert run.returncode == 0 and f"destroyed {number}" in run.stdout, run.stderr
    assert list((root / "certificates").glob("*.json"))
    assert (root / "keyring" / "keyring.json").is_file()
    assert not_private(root) == []


def test_init_makes_a_world_readable_tree_private(tmp_path_factory, tmp_path, loose_umask):
    env = make_cli_env(tmp_path_factory, "storage_modes_fixed")
    root = Path(env["ARCHIVE_ROOT"])
    write_old_dossier(tmp_path)
    assert run_cli(env, "import", str(tmp_path)).returncode == 0
    for path in [root, *root.rglob("*")]:  # as a careless restore or `chmod -R a+rX` leaves it
        path.chmod(0o755 if path.is_dir() else 0o644)
    assert not_private(root)
    initialised = run_cli(env, "init")
    assert initialised.returncode == 0, initialised.stderr
    assert not_private(root) == []
