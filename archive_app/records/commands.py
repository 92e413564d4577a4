"""The records command: `archive import` files dossier folders from disk.

cli.py imports this module only when its command runs (commands.LazyGroup), so its imports
cost the other commands nothing.
"""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path

import click

from ..bootstrap import open_app
from ..commands import UsageProblem, progress, reported_errors
from ..interfaces import IIndexer
from .importer import (
    BATCH_SIZE,
    ImportStatus,
    dossier_folders,
    folders_without_listing,
    import_folders,
)


@click.command("import")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--batch", type=click.IntRange(min=1), default=BATCH_SIZE, show_default=True,
              help="Dossiers filed in one transaction at most (1: each on its own).")  # fmt: skip
@click.pass_obj
def import_(config_uri, directory, batch):
    """File every dossier folder under DIRECTORY (rerun-safe).

    \b
    DIRECTORY/<any>/dossier.json holds a dossier's metadata (as the API's `metadata` part)
    and "documents": [{"kind": "registration_form", "file": "登记表.pdf"}, ...], each file
    relative to that folder. Each folder gets one line: filed, skipped (already filed) or
    failed with the reason; a folder without dossier.json is reported as failed. Exit 1 if
    any folder failed.

    \b
    Folders are filed a batch to a transaction (at most 2 seconds open) and each line is
    printed once its batch has committed: a crash loses at most the batch in progress,
    whose lines were not printed, and a rerun files it."""
    if not directory.is_dir():
        raise UsageProblem(f"{directory} is not a readable folder")
    folders = dossier_folders(directory)
    if not folders:
        raise UsageProblem(f"no dossier.json under {directory}")
    failed = 0
    for report in folders_without_listing(directory, folders):
        failed += 1
        click.echo(report.line())
    with reported_errors(), open_app(config_uri) as env:
        indexer = env["registry"].queryUtility(IIndexer)  # a process without search: none
        # More than one batch: indexed by a process of its own meanwhile, on the other core.
        apart = indexer is not None and len(folders) > batch
        indexing = indexer.drained_apart(config_uri) if apart else nullcontext()
        filing = import_folders(env["request"], directory, folders, batch=batch)
        with indexing, progress(filing, "filing", length=len(folders)) as reports:
            for report in reports:
                failed += report.status == ImportStatus.FAILED
                reports.echo(report.line())
    sys.exit(1 if failed else 0)
