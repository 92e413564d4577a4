"""Every module imports on its own, first, as a command or a worker process would import it:
a circular import between features shows up here, not in production (the access-log export
once made `archive verify` fail while the test suite, which imports the app first, passed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import archive_app

PACKAGE = Path(archive_app.__file__).parent

# In one interpreter: each module imported with no module of the archive loaded before it
# (third-party libraries stay loaded, so this costs seconds, not a process per module).
EACH_FIRST = """
import importlib, json, sys, traceback
failed = {}
for name in json.loads(sys.argv[1]):
    for loaded in [m for m in sys.modules if m == "archive_app" or m.startswith("archive_app.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as error:
        failed[name] = f"{type(error).__name__}: {error}"
print(json.dumps(failed))
"""


def module_names() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if "migrations" in parts:
            continue  # Alembic loads these by path, with its own context
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_every_module_imports_first():
    names = module_names()
    assert len(names) > 50  # the walk found the package
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", EACH_FIRST, json.dumps(names)],
                            capture_output=True, text=True, timeout=300, check=True)  # fmt: skip
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {}
