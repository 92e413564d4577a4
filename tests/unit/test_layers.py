"""The layers contract of `make lint` (import-linter, pyproject.toml) holds for the package,
and breaks on an upward or a sideways import: tried on a copy, so the tree stays as it is."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import archive_app

PACKAGE = Path(archive_app.__file__).parent
PYPROJECT = PACKAGE.parent / "pyproject.toml"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_copy(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}  # the copy, not the installed package
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_the_contract_holds_and_an_upward_or_sideways_import_breaks_it(tmp_path):
    contracts = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]
    assert {contract["type"] for contract in contracts} == {"layers", "forbidden"}
    section = PYPROJECT.read_text().split("\n[tool.importlinter]\n", 1)[1]
    (tmp_path / "pyproject.toml").write_text("[tool.importlinter]\n" + section)
    shutil.copytree(PACKAGE, tmp_path / "archive_app",
                    ignore=shutil.ignore_patterns("__pycache__", "static", "locale"))  # fmt: skip
    kept = lint_copy(tmp_path)
    assert kept.returncode == 0, kept.stdout + kept.stderr

    copy = tmp_path / "archive_app"
    with open(copy / "records" / "masking.py", "a") as upward:
        upward.write("\nfrom ..retention import rules as _upward  # noqa: E402\n")
    with open(copy / "retention" / "exports.py", "a") as sideways:
        sideways.write("\nfrom ..search import engine as _sideways  # noqa: E402\n")
    broken = lint_copy(tmp_path)
    assert broken.returncode == 1
    assert "archive_app.records is not allowed to import archive_app.retention" in broken.stdout
    assert "archive_app.retention is not allowed to import archive_app.search" in broken.stdout
