"""The search command: `archive reindex` rebuilds the index from the database and blobs.

cli.py imports this module only when its command runs (commands.LazyGroup), so its imports
cost the other commands nothing.
"""

from __future__ import annotations

import click

from ..bootstrap import open_app
from ..commands import reported_errors
from ..interfaces import IIndexer
from ..settings import as_int


@click.command()
@click.pass_obj
def reindex(config_uri):
    """Rebuild the search index from the database and blobs (into a new folder, swapped in)."""
    with reported_errors(), open_app(config_uri) as env:
        registry = env["registry"]
        indexer = registry.getUtility(IIndexer)
        processes = as_int(registry.settings, "archive.search.reindex_processes", 1)
        count = indexer.rebuild(processes=processes)
        indexer.flush()  # what was queued while it ran
    click.echo(f"search index rebuilt: {count} dossiers")
