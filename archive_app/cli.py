"""The `archive` command line: the group, its `-c/--config` option, and the two commands that
span every feature (`init`, `verify`). Each feature's commands live in its `commands.py` and
are loaded only when one of them runs (commands.LazyGroup), so a command starts without
importing the features it does not use.
"""

from __future__ import annotations

import os
import sys
import warnings
from datetime import timedelta
from pathlib import Path

import click

from . import STORAGE_UMASK
from .commands import LazyGroup, UsageProblem, progress, reported_errors
from .errors import ServiceUnavailable
from .interfaces import IAccessLog, IIndexer, IKeyring, IRecordsService, ISearchService
from .settings import as_int

# Pyramid 2.1 and Deform import pkg_resources (setuptools<81 is pinned for them); the
# deprecation notice would otherwise precede every command's one-line answer.
warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)

# Each feature's commands, by name: "module:attribute" of a click command or group.
FEATURE_COMMANDS = {
    # access: users, tokens, the access log
    "user": "archive_app.access.commands:user",
    "token": "archive_app.access.commands:token",
    "access-log": "archive_app.access.commands:access_log",
    "users": "archive_app.access.review_commands:users",  # the access review
    # records: filing from disk
    "import": "archive_app.records.commands:import_",
    # retention: runs, proposals, rule recomputation; certificates
    "retention": "archive_app.retention.commands:retention",
    "certificate": "archive_app.retention.commands:certificate",
    # search
    "reindex": "archive_app.search.commands:reindex",
    "index": "archive_app.search.commands:index",
    "calendar": "archive_app.workdays.commands:calendar",
    # reports: the ledger, quarterly and annual reviews
    "report": "archive_app.reports.commands:report",
}


@click.group(cls=LazyGroup, lazy_subcommands=FEATURE_COMMANDS)
@click.option("-c", "--config", "config_uri", default="development.ini", show_default=True,
              help="The ini file (resolved from the current folder).")  # fmt: skip
@click.pass_context
def main(ctx, config_uri):
    """The complaint-dossier archive."""
    # First: whatever a command creates under storage/ is 0600, its folders 0700.
    os.umask(STORAGE_UMASK)
    path = Path(config_uri)
    if not path.is_file():
        # `certificate verify --public-key` and `report verify --public-key` are for
        # verifiers who have no archive to configure.
        if ctx.invoked_subcommand not in ("certificate", "report"):
            raise UsageProblem(f"no configuration file at {config_uri}")
        ctx.obj = None
        return
    ctx.obj = str(path.resolve())


@main.group(cls=LazyGroup, lazy_subcommands={
    "rotate": "archive_app.vault.commands:rotate",
    # retention's: the new signing key is announced in a certificate
    "rotate-signing": "archive_app.retention.commands:rotate_signing",
})  # fmt: skip
def keys():
    """Manage encryption keys."""


@main.command()
@click.option("--demo", is_flag=True, help="Also load the demo archive and its users.")
@click.pass_obj
def init(config_uri, demo):
    """Create or upgrade the schema, keyring, index and blob folders (idempotent)."""
    from .bootstrap import initialise_storage, open_app  # start-up time: loads Pyramid

    with reported_errors():
        settings = initialise_storage(config_uri)
        with open_app(config_uri) as env:
            registry = env["registry"]
            search = registry.getUtility(ISearchService)
            try:
                present = search.exists()
            except ServiceUnavailable:  # its table of contents is damaged
                # The index is derived from the records: rebuilt, as a missing one is.
                click.echo("the search index could not be read: rebuilding it from the records")
                present = False
            if not present:
                registry.getUtility(IIndexer).rebuild()
            elif left := search.upgrade():
                click.echo(left)
        click.echo(f"storage ready at {settings['archive.storage_dir']}")
        if demo:
            from .demo.loading import load_demo  # only with --demo

            with open_app(config_uri) as env:
                for line in load_demo(env["request"]):
                    click.echo(line)


@main.command()
@click.option("--repair", is_flag=True, help="Remove orphan blobs older than the grace period "
              "and filing drafts unused for an hour.")  # fmt: skip
@click.pass_obj
def verify(config_uri, repair):
    """Authenticate every blob, check digests, the access-log chain and its signed
    checkpoints, and every stored certificate (signature under the archive's key, chain)."""
    # start-up time: every feature's services, only when verify runs
    from .bootstrap import open_app
    from .records.drafts import drafts_for
    from .records.verification import check_document, find_orphans, live_documents
    from .retention.exports import CertificateFiles
    from .search.drift import index_drift

    problems = 0
    with reported_errors(), open_app(config_uri) as env:
        request, registry = env["request"], env["registry"]
        # Dossiers committed but not indexed (a process died in between) are indexed first.
        registry.getUtility(IIndexer).flush()
        with request.tm:
            service = request.find_service(IRecordsService)
            documents = list(live_documents(request.dbsession))
            with progress(documents, "verifying") as items:
                for document in items:
                    problem = check_document(service, document)
                    if problem:
                        problems += 1
                        items.echo(problem)
            chain = request.find_service(IAccessLog).verify(request.dbsession)
            certificates = CertificateFiles.of(registry.settings)
            checks = (
                lambda: chain.problems,
                lambda: certificates.problems(request.dbsession, registry.getUtility(IKeyring)),
                lambda: index_drift(registry.getUtility(ISearchService), request.dbsession),
            )
            for check in checks:
                for line in check():
                    problems += 1
                    click.echo(line)
            grace = timedelta(hours=as_int(registry.settings, "archive.orphan_grace_hours", 0))
            for name in find_orphans(service, grace):
                if repair:
                    service.blobs.remove_orphan(name)
                    click.echo(f"orphan blob {name}: removed")
                else:
                    click.echo(f"orphan blob {name}: not referenced (verify --repair removes it)")
            if repair:  # files kept by the filing form (encrypted); the form purges them too
                purged = drafts_for(registry).purge()
                if purged:
                    click.echo(f"expired filing drafts: {purged} removed")
    click.echo(f"{len(documents)} documents, {chain.entries} access-log entries checked, "
               f"{problems} problem(s)")  # fmt: skip
    sys.exit(1 if problems else 0)
