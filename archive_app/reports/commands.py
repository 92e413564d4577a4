"""`archive report …`: the reports' commands, each in a module of its own, loaded only when
it runs (commands.LazyGroup)."""

from __future__ import annotations

import click

from ..commands import LazyGroup


@click.group(cls=LazyGroup, lazy_subcommands={
    "ledger": "archive_app.reports.ledger_commands:ledger",
})  # fmt: skip
def report():
    """The complaint ledger (台账) and the reviews."""
