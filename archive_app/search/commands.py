"""The search command: `archive reindex` rebuilds the index from the database and blobs.

cli.py imports this module only when its command runs (commands.LazyGroup), so its imports
cost the other commands nothing.
"""

from __future__ import annotations

import click
from sqlalchemy import func, select

from ..bootstrap import open_app
from ..commands import progress, reported_errors
from ..interfaces import IIndexer
from ..records.models import Dossier
from ..records.vocabulary import LIVING_STATES
from ..settings import as_int


@click.command()
@click.pass_obj
def reindex(config_uri):
    """Rebuild the search index from the database and blobs (into a new folder, swapped in).
    On a terminal, a progress bar on stderr counts the dossiers."""
    with reported_errors(), open_app(config_uri) as env:
        registry, request = env["registry"], env["request"]
        indexer = registry.getUtility(IIndexer)
        processes = as_int(registry.settings, "archive.search.reindex_processes", 1)
        with request.tm:  # the bar's length: what the rebuild will read
            living = request.dbsession.scalar(
                select(func.count()).where(Dossier.state.in_(LIVING_STATES)))  # fmt: skip
        with progress(label="indexing", length=living) as bar:
            count = indexer.rebuild(processes=processes, progress=bar.update)
        indexer.flush()  # what was queued while it ran
    click.echo(f"search index rebuilt: {count} dossiers")
