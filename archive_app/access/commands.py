"""The access commands: `archive user add`, `archive user passwd`, `archive token`,
`archive access-log export` and `archive access-log checkpoint`.

cli.py imports this module only when one of its commands runs (commands.LazyGroup), so its
imports cost the other commands nothing.
"""

from __future__ import annotations

import sys

import click

from ..bootstrap import open_app
from ..commands import UsageProblem, read_password_stdin, reported_errors
from ..interfaces import IAccessLog, IAccountService, IClock, ICredentials, IDossierClearance
from .accesslog import Event
from .account import SecondFactorUse
from .identities import SYSTEM
from .models import AccessOutcome
from .permissions import Level
from .review import LogFilter, csv_rows, iter_entries


@click.group()
def user():
    """Manage users."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, help="archivist, auditor, privacy_officer, "
              "records_manager or admin")  # fmt: skip
@click.option("--clearance", default=Level.INTERNAL, show_default=True,
              help="internal, confidential or restricted")  # fmt: skip
@click.option("--full-name", default=None,
              help="The person's name, as signatures print it.")  # fmt: skip
@click.option("--password-stdin", is_flag=True, required=True,
              help="Read the password from standard input.")  # fmt: skip
@click.pass_obj
def user_add(config_uri, name, role, clearance, full_name, password_stdin):
    """Create a user."""
    password = read_password_stdin()
    with reported_errors(), open_app(config_uri) as env:
        request = env["request"]
        with request.tm:
            created = request.find_service(IAccountService).add_user(
                name, role, password, clearance, full_name=full_name
            )
            request.find_service(IAccessLog).append(request.dbsession, Event(
                action="user_add", username="cli", role="system",
                detail=f"user {created.username} role {role} clearance {clearance}"))  # fmt: skip
    click.echo(f"user {name} added ({role}, {clearance})")


@user.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, required=True,
              help="Read the new password from standard input.")  # fmt: skip
@click.option("--must-change/--no-must-change", default=True, show_default=True,
              help="The user must choose their own password at the next sign-in.")  # fmt: skip
@click.pass_obj
def user_passwd(config_uri, name, password_stdin, must_change):
    """Reset a user's password (every token and session of theirs ends)."""
    password = read_password_stdin()
    with reported_errors(), open_app(config_uri) as env:
        request = env["request"]
        with request.tm:
            found = request.find_service(IAccountService).find_user(name)
            if found is None:
                raise UsageProblem(f"no user {name}")
            request.find_service(ICredentials).reset_password(found, password,
                                                              must_change=must_change)  # fmt: skip
            request.find_service(IAccessLog).append(request.dbsession, Event(
                action="password_reset", username="cli", role="system",
                detail=f"user {found.username}: password reset"
                       f"{', change required' if must_change else ''} (cli)"))  # fmt: skip
    click.echo(f"password of {found.username} reset"
               f"{'; a new one is due at the next sign-in' if must_change else ''}")  # fmt: skip


@click.command()
@click.argument("name")
@click.option("--password-stdin", is_flag=True, required=True)
@click.option("--otp", default=None, help="The second factor's code (or a recovery code), "
              "for an account that has one.")  # fmt: skip
@click.pass_obj
def token(config_uri, name, password_stdin, otp):
    """Print an API token for the user."""
    password = read_password_stdin()
    with reported_errors(), open_app(config_uri) as env:
        request = env["request"]
        try:
            with request.tm:
                accounts = request.find_service(IAccountService)
                found = accounts.authenticate(name, password)
                if found is None:
                    raise UsageProblem("wrong username or password")
                check_cli_otp(request, found, otp)
                issued, _expires_at = accounts.issue_token(found)
                request.find_service(IAccessLog).append(request.dbsession, Event(
                    action="login", username=found.username, role=found.role,
                    detail="api token issued (cli)"))  # fmt: skip
        except WrongCode as wrong:
            # Logged once the transaction (which held the write lock) has rolled back.
            request.find_service(IAccessLog).append_now(Event(
                action="login_failed", outcome=AccessOutcome.DENIED, username=wrong.username,
                detail="api token (cli): wrong second-factor code"))  # fmt: skip
            raise UsageProblem("wrong or used second-factor code") from None
    click.echo(issued)


class WrongCode(Exception):
    def __init__(self, username: str):
        super().__init__(username)
        self.username = username


def check_cli_otp(request, user, otp: str | None) -> None:
    """The rule of POST /api/v1/auth/token: no token without the second factor's code."""
    credentials = request.find_service(ICredentials)
    if not credentials.has_second_factor(user):
        return
    if not otp:
        raise UsageProblem("this account has a second factor: give --otp CODE")
    used = credentials.verify_second_factor(user, otp[:64])
    if used is None:
        raise WrongCode(user.username)
    if used is SecondFactorUse.RECOVERY:
        request.find_service(IAccessLog).append(request.dbsession, Event(
            action="otp_recovery", username=user.username, role=user.role,
            detail="recovery code used (cli token)"))  # fmt: skip


@click.group("access-log")
def access_log():
    """Export the access log and checkpoint its chain."""


@access_log.command("export")
@click.option("--from", "start", help="First day (YYYY-MM-DD) or ISO datetime.")
@click.option("--to", "end", help="Last day (YYYY-MM-DD, inclusive) or ISO datetime.")
@click.pass_obj
def access_log_export(config_uri, start, end):
    """The access log as CSV on stdout (the export itself is logged)."""
    with reported_errors(), open_app(config_uri) as env:
        request = env["request"]
        access_log = request.find_service(IAccessLog)
        chosen = LogFilter.from_params(
            {"from": start, "to": end}, request.find_service(IClock).zone,
            identity=SYSTEM, clearance=request.find_service(IDossierClearance),
        )  # fmt: skip
        access_log.append_now(Event(action="export", username="cli", role="system",
                                    detail=f"access log CSV from {start} to {end}"))  # fmt: skip
        with request.tm, iter_entries(request.dbsession, chosen) as entries:
            for row in csv_rows(entries, access_log.as_json):
                sys.stdout.write(row)


@access_log.command("checkpoint")
@click.pass_obj
def access_log_checkpoint(config_uri):
    """Sign the chain's head into the checkpoint file beside the keyring."""
    with reported_errors(), open_app(config_uri) as env:
        request = env["request"]
        with request.tm:
            checkpoint = request.find_service(IAccessLog).write_checkpoint(request.dbsession)
    if checkpoint is None:
        click.echo("the access log is empty: nothing to checkpoint")
    else:
        click.echo(f"checkpoint at access-log seq {checkpoint.seq}")
