"""`archive users review`: the access review (access/access_review.py) printed, as the page
`/users/review` shows it. Signing off is done on the page or the API, under a signature."""

from __future__ import annotations

import click

from ..bootstrap import open_app
from ..commands import reported_errors
from ..interfaces import IAccessLog, IAccountService
from .access_review import dormant_days, fingerprint, review_body


@click.group()
def users():
    """Review the accounts."""


@users.command("review")
@click.pass_obj
def users_review(config_uri):
    """Every account (role, clearance, source, last sign-in, sessions), the dormant ones and
    the account changes since the last signed-off review."""
    with reported_errors(), open_app(config_uri) as env:
        request = env["request"]
        with request.tm:
            body = review_body(request.find_service(IAccountService),
                               request.find_service(IAccessLog),
                               dormant_days(request.registry.settings))  # fmt: skip
    previous = body["previous_review"]
    click.echo(
        f"access review as of {body['generated_at']} (dormant after "
        f"{body['dormant_days']} days); last review: "
        f"{previous['reviewed_at'] + ' by ' + previous['reviewer'] if previous else 'none'}"
    )
    click.echo("username\trole\tclearance\tsource\tactive\tlast_sign_in\tdormant\tsessions")
    for row in body["accounts"]:
        click.echo(
            "\t".join(
                [
                    row["username"],
                    row["role"],
                    row["clearance"],
                    row["source"],
                    "yes" if row["active"] else "no",
                    row["last_sign_in"] or "never",
                    "DORMANT" if row["dormant"] else "",
                    str(len(row["sessions"])),
                ]
            )
        )
    click.echo(f"dormant: {', '.join(body['dormant']) or 'none'}")
    click.echo(f"account changes since the last review: {body['changes_total']}")
    for change in body["changes"]:
        click.echo(f"  {change['at']}\t{change['by']}\t{change['action']}\t{change['detail']}")
    click.echo(f"fingerprint: {fingerprint(body)}")
