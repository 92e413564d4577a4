"""The records command: `archive import` files dossier folders from disk.

cli.py imports this module only when its command runs (commands.LazyGroup), so its imports
cost the other commands nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..bootstrap import open_app
from ..commands import UsageProblem, progress, reported_errors
from .importer import ImportStatus, dossier_folders, import_folders


@click.command("import")
@click.argument("directory", type=click.Path(path_type=Path))
@click.pass_obj
def import_(config_uri, directory):
    """File every dossier folder under DIRECTORY (rerun-safe)."""
    if not directory.is_dir():
        raise UsageProblem(f"{directory} is not a readable folder")
    folders = dossier_folders(directory)
    if not folders:
        raise UsageProblem(f"no dossier.json under {directory}")
    failed = 0
    with reported_errors(), open_app(config_uri) as env:
        with progress(import_folders(env["request"], directory, folders), "filing",
                      length=len(folders)) as reports:  # fmt: skip
            for report in reports:
                failed += report.status == ImportStatus.FAILED
                click.echo(report.line())
    sys.exit(1 if failed else 0)
