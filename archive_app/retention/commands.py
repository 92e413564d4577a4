"""The retention commands: `archive retention due|run|approve|reject|recompute`, `archive
certificate verify|key` and `archive keys rotate-signing` (the new key is announced in a
certificate).

`certificate verify` and `certificate key` serve verifiers without a database: they must
answer at once, so what only the other commands use (Pyramid's bootstrap, the destroyer, the
services, the database layer) is imported inside those commands.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
from pathlib import Path

import click

from ..access.permissions import Role
from ..commands import (
    UsageProblem,
    in_transaction,
    on_terminal,
    parse_cli_date,
    progress,
    read_only_transaction,
    reported_errors,
)
from ..interfaces import IAccessLog, IAccountService, IClock, IRecordsService
from ..settings import SettingsError, keyring_path
from ..vault import load_keyring
from ..vault.keyring import Keyring, KeyringError, fingerprint


def base64_text(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


# -- retention ---------------------------------------------------------------------------


@click.group()
def retention():
    """List what is due and run scheduled destruction."""


@retention.command("due")
@click.option("--as-of", "as_of", help="The day to judge by (default: today).")
@click.pass_obj
def retention_due(config_uri, as_of):
    """List dossiers whose destroy-after date has passed, with holds."""
    from ..bootstrap import open_app  # start-up time (module docstring)
    from ..records.clearance import SYSTEM
    from .services import due_dossiers

    day = parse_cli_date(as_of, "--as-of")
    with reported_errors(), open_app(config_uri) as env:
        request = env["request"]
        day = day or env["registry"].getUtility(IClock).today()
        with request.tm:
            rows = due_dossiers(request.dbsession, day, SYSTEM)
            for dossier, held in rows:
                status = "held" if held else "due"
                click.echo(
                    f"{dossier.complaint_no}\t{dossier.destroy_after}\t{status}\t{dossier.id}"
                )
    click.echo(f"{len(rows)} dossier(s) due as of {day}", err=True)


def report_run(env, result, dry_run: bool) -> None:
    """A run's (or an approval's) lines on stdout, its summary on stderr, and the certificates
    it issued exported; exit 1 when one could not be written (the next run writes it)."""
    for number in result.destroyed:
        click.echo(f"{'would destroy' if dry_run else 'destroyed'} {number}")
    for number in result.skipped_held:
        click.echo(f"held {number}")
    if result.proposed:  # approval mode's run (an approval proposes nothing)
        for number in result.proposed:
            click.echo(f"proposed {number}")
        click.echo(f"proposal {result.proposal_id} waits for a second records manager")
    # A dry run issues no certificate, and prints none: an earlier run's, still waiting to be
    # written, would read as this run's (the next real run writes it).
    exported = dry_run or export_pending_certificates(env)
    click.echo(f"run {result.id}: {len(result.destroyed)} {'due' if dry_run else 'destroyed'}, "
               f"{len(result.skipped_held)} held", err=True)  # fmt: skip
    if not exported:
        sys.exit(1)


@retention.command("run")
@click.option("--as-of", "as_of", help="The day to judge by (default: today).")
@click.option("--dry-run", is_flag=True, help="List what would be destroyed; destroy nothing.")
@click.pass_obj
def retention_run(config_uri, as_of, dry_run):
    """Destroy what is due (never a held dossier); print the certificate id and path."""
    from ..bootstrap import open_app  # start-up time (module docstring)
    from ..records.clearance import SYSTEM
    from .services import due_dossiers

    day = parse_cli_date(as_of, "--as-of")
    with reported_errors(), open_app(config_uri) as env:
        request = env["request"]
        # The scheduled run is the archive's own: every level (records/clearance.py).
        destroyer = command_destroyer(env, SYSTEM)
        if on_terminal(sys.stderr) and not dry_run:  # the bar's length, only for a bar
            with request.tm:
                due = len(due_dossiers(request.dbsession, day or destroyer.clock.today(),
                                       SYSTEM))  # fmt: skip
            with progress(label="destroying", length=due) as bar:
                result = destroyer.run(day, dry_run, "cli", progress=lambda _number: bar.update(1))
        else:
            result = destroyer.run(day, dry_run, "cli")
        report_run(env, result, dry_run)


@retention.command("approve")
@click.argument("proposal_id")
@click.option("--as", "username", required=True, help="The approving records manager.")
@click.pass_obj
def retention_approve(config_uri, proposal_id, username):
    """Approval mode: approve a proposal (not your own) and destroy what it lists."""
    from ..bootstrap import open_app  # start-up time (module docstring)

    with reported_errors(), open_app(config_uri) as env:
        request = env["request"]
        approver = records_manager(request, username)  # their clearance bounds what goes
        result = command_destroyer(env, approver).approve(proposal_id, approver.username)
        report_run(env, result, dry_run=False)


@retention.command("reject")
@click.argument("proposal_id")
@click.option("--as", "username", required=True, help="The rejecting records manager.")
@click.pass_obj
def retention_reject(config_uri, proposal_id, username):
    """Approval mode: reject a proposal; nothing is destroyed."""
    from ..bootstrap import open_app  # start-up time (module docstring)

    with reported_errors(), open_app(config_uri) as env:
        request = env["request"]
        by = records_manager(request, username)
        command_destroyer(env, by).reject(proposal_id, by.username)
    click.echo(f"proposal {proposal_id} rejected")


@retention.command("recompute")
@click.option("--preview", is_flag=True,
              help="List the dossiers whose destroy-after date or rule would change, and how "
              "(as recompute would print them); change nothing.")  # fmt: skip
@click.pass_obj
def retention_recompute(config_uri, preview):
    """Apply the configured rule set to every living dossier again (after changing
    archive.retention.rule); each changed date is kept as a correction and logged."""
    from ..access.accesslog import Event  # start-up time (module docstring)
    from ..bootstrap import open_app
    from ..records.clearance import SYSTEM
    from .corrections import preview_all, recomputable_ids, recompute_all

    with reported_errors(), open_app(config_uri) as env:
        request, clock = env["request"], env["registry"].getUtility(IClock)
        transaction = read_only_transaction(request) if preview else in_transaction(request)
        # The scheduled command is the archive's own: every level (records/clearance.py).
        ids = transaction(lambda session: recomputable_ids(session, SYSTEM))
        log = request.find_service(IAccessLog)

        def records_for(_session):
            return request.find_service(IRecordsService)

        def log_event(session, **fields):
            log.append(session, Event(username="cli", role="system", **fields))

        changed = 0
        with progress(label="previewing" if preview else "recomputing", length=len(ids)) as bar:
            if preview:
                changes = preview_all(ids, transaction, records_for, bar.update)
            else:
                changes = recompute_all(ids, transaction, records_for, clock, "cli", log_event,
                                        bar.update)  # fmt: skip
            for number, detail in changes:
                changed += 1
                bar.echo(f"{number}\t{detail}")
    if preview:
        click.echo(f"{changed} of {len(ids)} dossier(s) would change (preview: nothing changed)",
                   err=True)  # fmt: skip
    else:
        click.echo(f"{changed} of {len(ids)} dossier(s) changed", err=True)


def command_destroyer(env, identity):
    """The same Destroyer the API builds, for a command's request, acting as `identity`."""
    from .api import purge_index  # start-up time (module docstring)
    from .runner import destroyer_for

    return destroyer_for(env["request"], identity, purge_index(env["request"]))


def records_manager(request, username: str):
    """The named active records manager (as an identity, with their clearance), or a usage
    error."""
    from ..records.clearance import identity_of  # start-up time (module docstring)

    with request.tm:
        user = request.find_service(IAccountService).active_with_role(
            username, Role.RECORDS_MANAGER
        )
        identity = identity_of(user) if user is not None else None
    if identity is None:
        raise UsageProblem(f"{username} is not an active records manager")
    return identity


def export_pending_certificates(env) -> bool:
    """Write this run's certificate, and any an earlier run issued but did not get to write,
    to storage/certificates. False (said on stderr) when the disk is full: the destruction
    and the certificate in the database stand, and the next run writes the files."""
    from .exports import CertificateFiles  # start-up time (module docstring)

    files = CertificateFiles.of(env["registry"].settings)
    for certificate_id, path in files.export_pending(in_transaction(env["request"])):
        if path is None:
            click.echo(f"certificate {certificate_id} is issued, but its files could not be "
                       "written: the storage is full; the next `archive retention run` "
                       "writes them", err=True)  # fmt: skip
            return False
        click.echo(f"certificate {certificate_id} {path}")
    return True


# -- keys --------------------------------------------------------------------------------


@click.command("rotate-signing")
@click.pass_obj
def rotate_signing(config_uri):
    """New Ed25519 signing key; the old public key is kept as retired, and a certificate
    signed by the old key announces the new one (chained like every certificate)."""
    from ..bootstrap import open_app  # start-up time (module docstring)
    from ..vault.commands import refuse_environment_keyring
    from .certificates import announce_signing_key

    refuse_environment_keyring()
    with reported_errors(), open_app(config_uri) as env:
        request = env["request"]
        clock = request.find_service(IClock)
        path = keyring_path(env["registry"].settings)
        keyring = Keyring.load(path)  # the file as it is now, not a copy cached in memory
        before = keyring.to_text()
        old_key = keyring.rotate_signing_key(clock.now())
        new_key = keyring.public_key_bytes()
        try:
            with request.tm:
                body = announce_signing_key(request.dbsession, old_key=old_key,
                                            new_public_key=new_key, now=clock.now(),
                                            today=clock.today(), operator="cli")  # fmt: skip
                # Saved before the announcement commits: a failed commit puts the old keyring
                # back, so no key signs that the chain has not announced, and none is lost.
                keyring.save(path)
        except BaseException:
            Keyring.from_text(before).save(path)
            raise
        export_pending_certificates(env)
    click.echo(f"signing key rotated: {base64_text(new_key)} "
               f"(fingerprint {fingerprint(new_key)}), announced in certificate "
               f"{body['certificate_id']}")  # fmt: skip


# -- certificates ------------------------------------------------------------------------


@click.group()
def certificate():
    """Destruction certificates."""


@certificate.command("verify")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--previous", type=click.Path(path_type=Path), help="The previous certificate.")
@click.option(
    "--public-key",
    "public_key",
    metavar="B64",
    help="The archive's signing key, base64 of the raw 32 bytes (as printed by "
    "`archive certificate key`): for verifiers without the keyring.",
)
@click.pass_obj
def certificate_verify(config_uri, path, previous, public_key):
    """Check that a certificate is signed by the archive's key (the keyring's, current or
    retired, or --public-key), and its chain given the previous one; offline."""
    from .certificates import announced_key, verify_certificate  # start-up time (docstring)

    def load(file: Path):
        try:
            return json.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise UsageProblem(f"{file} is not a readable certificate: {error}") from None

    trusted = trusted_signing_keys(config_uri, public_key)
    certificate = load(path)
    problems = verify_certificate(certificate, trusted, load(previous) if previous else None)
    for problem in problems:
        click.echo(problem)
    if problems:
        sys.exit(1)
    announced = announced_key(certificate)
    if announced is not None:
        click.echo(f"certificate valid; it announces the new signing key {base64_text(announced)} "
                   f"(fingerprint {fingerprint(announced)})")  # fmt: skip
    else:
        click.echo("certificate valid")


@certificate.command("key")
@click.pass_obj
def certificate_key(config_uri):
    """Print the archive's signing public key (base64 of the raw 32-byte Ed25519 key) on
    stdout, and on stderr its fingerprint: the hex SHA-256 of the raw key in groups of four,
    as the certificate PDF prints it."""
    keyring = configured_keyring(config_uri)
    raw = keyring.public_key_bytes()
    click.echo(base64_text(raw))
    click.echo(f"fingerprint (SHA-256 of the raw key): {fingerprint(raw)}", err=True)


def configured_keyring(config_uri: str | None):
    """The keyring of the configured archive (the file, or ARCHIVE_KEYRING), no database."""
    if config_uri is None:
        raise UsageProblem("no configuration file: give -c with the archive's ini file, "
                           "or --public-key")  # fmt: skip
    from ..bootstrap import read_settings  # only with a configuration: start-up time

    try:
        return load_keyring(read_settings(config_uri))
    except (KeyringError, SettingsError) as error:
        raise UsageProblem(f"no signing key to trust: {error}; give --public-key") from None


def trusted_signing_keys(config_uri: str | None, public_key: str | None) -> tuple[bytes, ...]:
    if public_key is None:
        return configured_keyring(config_uri).trusted_public_keys()
    try:
        raw = base64.b64decode(public_key, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise UsageProblem("--public-key must be the base64 of a raw 32-byte Ed25519 key")
    return (raw,)
