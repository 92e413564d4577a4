"""`archive report ledger [--from DATE] [--to DATE] [--class C] [--product P] --xlsx FILE`:
the ledger's workbook under the API's filters, as the command line's SYSTEM identity reads
it (every level, personal data masked: a file leaves the archive), the export written to the
access log."""

from __future__ import annotations

from pathlib import Path

import click

from ..commands import UsageProblem, parse_cli_date, reported_errors


@click.command()
@click.option("--from", "start", help="Received on or after (YYYY-MM-DD).")
@click.option("--to", "end", help="Received on or before (YYYY-MM-DD).")
@click.option("--class", "complaint_class", type=click.Choice(["I", "II", "III"]),
              help="Only this complaint class.")  # fmt: skip
@click.option("--product", help="Only dossiers naming a product whose name contains this.")
@click.option("--xlsx", "target", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The workbook to write.")  # fmt: skip
@click.pass_obj
def ledger(config_uri, start, end, complaint_class, product, target):
    """Write the complaint ledger (台账) as an Excel workbook."""
    # start-up time: Pyramid, the database and the records layer, only when this runs
    from ..access.accesslog import Event
    from ..bootstrap import open_app
    from ..interfaces import IAccessLog, IRecordsService
    from ..records.clearance import SYSTEM
    from .ledger_rows import Ledger, LedgerFilter
    from .ledger_workbook import write_ledger

    received_from, received_to = parse_cli_date(start, "--from"), parse_cli_date(end, "--to")
    if received_from and received_to and received_from > received_to:
        raise UsageProblem("--from is later than --to")
    if not target.parent.is_dir():
        raise UsageProblem(f"no folder {target.parent} for {target.name}")
    chosen = LedgerFilter(received_from=received_from, received_to=received_to,
                          complaint_class=complaint_class, product=product or None)  # fmt: skip
    with reported_errors(), open_app(config_uri) as env:
        request = env["request"]
        # Logged first, as every export is: no entry, no file.
        request.find_service(IAccessLog).append_now(Event(
            action="export", username="cli", role="system",
            detail=f"ledger workbook {chosen.describe()} to {target}"))  # fmt: skip
        with request.tm:
            records = request.find_service(IRecordsService)
            rows = Ledger(request.dbsession, SYSTEM, records.customer, unmasked=False)
            count = write_ledger(target, rows.rows(chosen))
    click.echo(f"{count} dossiers written to {target}")
