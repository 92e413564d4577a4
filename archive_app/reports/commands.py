"""`archive report …`: the reports' commands, each in a module of its own, loaded only when
it runs (commands.LazyGroup)."""

from __future__ import annotations

import click

from ..commands import LazyGroup


@click.group(cls=LazyGroup, lazy_subcommands={
    "ledger": "archive_app.reports.ledger_commands:ledger",
    "review": "archive_app.reports.review_commands:report_review",
    "verify": "archive_app.reports.review_commands:report_verify",
})  # fmt: skip
def report():
    """Reports: the complaint ledger (台账), quarterly and annual reviews."""
