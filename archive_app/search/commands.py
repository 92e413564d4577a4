"""The search command: `archive reindex` rebuilds the index from the database and blobs.

cli.py imports this module only when its command runs (commands.LazyGroup), so its imports
cost the other commands nothing.
"""

from __future__ import annotations

import click

from ..bootstrap import open_app
from ..commands import reported_errors


@click.command()
@click.pass_obj
def reindex(config_uri):
    """Rebuild the search index from the database and blobs (into a new folder, swapped in)."""
    with reported_errors(), open_app(config_uri) as env:
        indexer = env["registry"]["archive.indexer"]
        count = indexer.rebuild(processes=env["registry"]["archive.reindex_processes"])
        indexer.flush()  # what was queued while it ran
    click.echo(f"search index rebuilt: {count} dossiers")
