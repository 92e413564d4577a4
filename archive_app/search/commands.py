"""The search commands: `archive reindex` rebuilds the index from the database and blobs;
`archive index serve` drains the index queue in a loop (docs/deployment.md's indexer unit).

cli.py imports this module only when its command runs (commands.LazyGroup), so its imports
cost the other commands nothing.
"""

from __future__ import annotations

import signal
import threading

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


@click.group()
def index():
    """The search index's queue."""


@index.command("serve")
@click.option("--interval", type=click.FloatRange(min=0.1), default=5.0, show_default=True,
              help="Seconds between looks at the queue.")  # fmt: skip
@click.pass_obj
def serve(config_uri, interval):
    """Drain the index queue in a loop until stopped (SIGTERM, SIGINT): a dedicated indexer
    beside the web nodes, which drain their own filings; one drain runs at a time across
    processes on PostgreSQL (the others skip), so it only picks up what nobody else did."""
    from .indexing import log_failure  # Whoosh and the readers: start-up time of the others

    stopping = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stopping.set())  # the drain running finishes first
    with reported_errors(), open_app(config_uri) as env:
        indexer = env["registry"].getUtility(IIndexer)
        click.echo(f"draining the index queue every {interval:g} s", err=True)
        while not stopping.is_set():
            try:
                indexer.drain()
            except Exception as error:  # the rows stay queued: the next look retries
                log_failure("index queue drain failed; the dossiers stay queued", error)
            stopping.wait(interval)
    click.echo("index queue drainer stopped", err=True)
