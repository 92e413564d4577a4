"""The `archive report` group; each report's commands live in their own module, added here."""

from __future__ import annotations

import click

from .review_commands import report_review, report_verify


@click.group("report")
def report():
    """Reports: the ledger, quarterly and annual reviews."""


report.add_command(report_review)
report.add_command(report_verify)
