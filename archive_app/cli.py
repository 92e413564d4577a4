"""The `archive` command line: set-up, users and tokens, import, verification, key rotation."""

from __future__ import annotations

import base64
import os
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

import click

from .errors import ArchiveError, storage_full
from .settings import SettingsError

# Pyramid 2.1 and Deform import pkg_resources (setuptools<81 is pinned for them); the
# deprecation notice would otherwise precede every command's one-line answer.
warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)


class UsageProblem(click.ClickException):
    """Bad usage or bad input: one line on stderr, exit 2 (contract §2)."""

    exit_code = 2

    def show(self, file=None):
        click.echo(f"archive: {self.format_message()}", err=True)


def progress(items, label: str, length: int | None = None):
    """A progress bar on a terminal, nothing when stdout is not one (contract §2)."""
    if sys.stdout.isatty():
        return click.progressbar(items, label=label, length=length, file=sys.stderr)
    return _Quiet(items)


class _Quiet:
    def __init__(self, items):
        self.items = items

    def __enter__(self):
        return self.items

    def __exit__(self, *exc):
        return False


@contextmanager
def reported_errors():
    """Domain and configuration errors become one line and exit 2, never a traceback."""
    from .vault.keyring import KeyringError

    try:
        yield
    except ArchiveError as error:
        field = f" ({error.field})" if error.field else ""
        raise UsageProblem(f"{error.detail}{field}") from None
    except (SettingsError, KeyringError) as error:
        raise UsageProblem(str(error)) from None
    except Exception as error:  # out of space: one clear line, not a traceback
        full = storage_full(error)
        if full is None:
            raise
        raise UsageProblem(full.detail) from None


def read_password_stdin() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise UsageProblem("no password on standard input")
    return password


@click.group()
@click.option("-c", "--config", "config_uri", default="development.ini", show_default=True,
              help="The ini file (resolved from the current folder).")  # fmt: skip
@click.pass_context
def main(ctx, config_uri):
    """The complaint-dossier archive."""
    from . import STORAGE_UMASK

    # First: whatever a command creates under storage/ is 0600, its folders 0700.
    os.umask(STORAGE_UMASK)
    path = Path(config_uri)
    if not path.is_file():
        # `certificate verify --public-key` is for verifiers who have no archive to configure.
        if ctx.invoked_subcommand != "certificate":
            raise UsageProblem(f"no configuration file at {config_uri}")
        ctx.obj = None
        return
    ctx.obj = str(path.resolve())


# -- set-up ------------------------------------------------------------------------------


@main.command()
@click.option("--demo", is_flag=True, help="Also load the demo archive and its users.")
@click.pass_obj
def init(config_uri, demo):
    """Create or upgrade the schema, keyring, index and blob folders (idempotent)."""
    from .bootstrap import initialise_storage, open_app

    with reported_errors():
        settings = initialise_storage(config_uri)
        with open_app(config_uri) as env:
            index = env["registry"]["archive.search_index"]
            if not index.exists():
                env["registry"]["archive.indexer"].rebuild()
        click.echo(f"storage ready at {settings['archive.storage_dir']}")
        if demo:
            from .demo.loading import load_demo

            with open_app(config_uri) as env:
                for line in load_demo(env["request"]):
                    click.echo(line)


# -- users and tokens --------------------------------------------------------------------


@main.group()
def user():
    """Manage users."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, help="archivist, auditor, privacy_officer, "
              "records_manager or admin")  # fmt: skip
@click.option("--clearance", default="internal", show_default=True,
              help="internal, confidential or restricted")  # fmt: skip
@click.option("--password-stdin", is_flag=True, required=True,
              help="Read the password from standard input.")  # fmt: skip
@click.pass_obj
def user_add(config_uri, name, role, clearance, password_stdin):
    """Create a user."""
    from .access.accesslog import Event
    from .bootstrap import open_app
    from .interfaces import IAccessLog, IAccountService

    password = read_password_stdin()
    with reported_errors(), open_app(config_uri) as env:
        request = env["request"]
        with request.tm:
            created = request.find_service(IAccountService).add_user(name, role, password,
                                                                     clearance)  # fmt: skip
            request.find_service(IAccessLog).append(request.dbsession, Event(
                action="user_add", username="cli", role="system",
                detail=f"user {created.username} role {role} clearance {clearance}"))  # fmt: skip
    click.echo(f"user {name} added ({role}, {clearance})")


@main.command()
@click.argument("name")
@click.option("--password-stdin", is_flag=True, required=True)
@click.pass_obj
def token(config_uri, name, password_stdin):
    """Print an API token for the user."""
    from .access.accesslog import Event
    from .bootstrap import open_app
    from .interfaces import IAccessLog, IAccountService

    password = read_password_stdin()
    with reported_errors(), open_app(config_uri) as env:
        request = env["request"]
        with request.tm:
            accounts = request.find_service(IAccountService)
            found = accounts.authenticate(name, password)
            if found is None:
                raise UsageProblem("wrong username or password")
            issued, _expires_at = accounts.issue_token(found)
            request.find_service(IAccessLog).append(request.dbsession, Event(
                action="login", username=found.username, role=found.role,
                detail="api token issued (cli)"))  # fmt: skip
    click.echo(issued)


# -- records -----------------------------------------------------------------------------


@main.command("import")
@click.argument("directory", type=click.Path(path_type=Path))
@click.pass_obj
def import_(config_uri, directory):
    """File every dossier folder under DIRECTORY (rerun-safe)."""
    from .bootstrap import open_app
    from .records.importer import dossier_folders, import_folders

    if not directory.is_dir():
        raise UsageProblem(f"{directory} is not a readable folder")
    folders = dossier_folders(directory)
    if not folders:
        raise UsageProblem(f"no dossier.json under {directory}")
    failed = 0
    with reported_errors(), open_app(config_uri) as env:
        with progress(import_folders(env["request"], directory, folders), "filing",
                      length=len(folders)) as reports:  # fmt: skip
            for report in reports:
                failed += report.status == "failed"
                click.echo(report.line())
    sys.exit(1 if failed else 0)


@main.command()
@click.option("--repair", is_flag=True, help="Remove orphan blobs older than the grace period.")
@click.pass_obj
def verify(config_uri, repair):
    """Authenticate every blob, check digests, the access-log chain and its signed
    checkpoints, and every stored certificate (signature under the archive's key, chain)."""
    from datetime import timedelta

    from .bootstrap import open_app
    from .interfaces import IAccessLog, IRecordsService
    from .records.verification import check_document, find_orphans, live_documents
    from .settings import as_int

    problems = 0
    with reported_errors(), open_app(config_uri) as env:
        request = env["request"]
        # Dossiers committed but not indexed (a process died in between) are indexed first.
        env["registry"]["archive.indexer"].flush()
        with request.tm:
            service = request.find_service(IRecordsService)
            documents = list(live_documents(request.dbsession))
            with progress(documents, "verifying") as items:
                for document in items:
                    problem = check_document(service, document)
                    if problem:
                        problems += 1
                        click.echo(problem)
            chain = request.find_service(IAccessLog).verify(request.dbsession)
            for line in chain.problems:
                problems += 1
                click.echo(line)
            for line in certificate_problems(env["registry"], request.dbsession):
                problems += 1
                click.echo(line)
            for line in index_drift(env["registry"], request.dbsession):
                problems += 1
                click.echo(line)
            grace = timedelta(hours=as_int(env["registry"].settings,
                                           "archive.orphan_grace_hours", 0))  # fmt: skip
            for name in find_orphans(service, grace):
                if repair:
                    service.blobs.remove_orphan(name)
                    click.echo(f"orphan blob {name}: removed")
                else:
                    click.echo(f"orphan blob {name}: not referenced (verify --repair removes it)")
    click.echo(f"{len(documents)} documents, {chain.entries} access-log entries checked, "
               f"{problems} problem(s)")  # fmt: skip
    sys.exit(1 if problems else 0)


def certificate_problems(registry, session) -> list[str]:
    """Every stored certificate checked under the keyring's keys, and its exported file."""
    from sqlalchemy import select

    from .retention.certificates import check_stored_chain
    from .retention.models import Certificate

    folder = Path(registry.settings["archive.storage_dir"]) / "certificates"
    keyring = registry["archive.keyring"]

    def exported(certificate_id: str) -> str | None:
        try:
            return (folder / f"{certificate_id}.json").read_text(encoding="utf-8")
        except FileNotFoundError:
            return None  # not written yet: the next retention run writes it
        except (OSError, UnicodeDecodeError) as error:
            return f"unreadable: {error}"

    columns = (Certificate.id, Certificate.position, Certificate.sha256, Certificate.body)
    rows = session.execute(select(*columns).order_by(Certificate.position))
    known: set[str] = set()

    def remembered(rows):
        for row in rows:
            known.add(row[0])
            yield row

    lines = check_stored_chain(remembered(rows), keyring.trusted_public_keys(),
                               keyring.public_key_bytes(), exported)  # fmt: skip
    if folder.is_dir():
        lines += [f"certificate {file.stem}: {file.name} has no certificate in the database"
                  for file in sorted(folder.glob("*.json")) if file.stem not in known]  # fmt: skip
    return lines


# -- keys --------------------------------------------------------------------------------


@main.group()
def keys():
    """Manage encryption keys."""


@keys.command("rotate")
@click.pass_obj
def keys_rotate(config_uri):
    """New key-encryption key; re-wrap every data key; the old key is retired."""
    from .bootstrap import open_app, read_settings
    from .settings import keyring_path
    from .vault import KEYRING_ENVIRONMENT_VARIABLE
    from .vault.rotation import rotate_keys

    if os.environ.get(KEYRING_ENVIRONMENT_VARIABLE):
        raise UsageProblem(f"the keyring comes from {KEYRING_ENVIRONMENT_VARIABLE}; "
                           "rotate with a keyring file, then update the variable")  # fmt: skip
    with reported_errors(), open_app(config_uri) as env:
        request = env["request"]
        keyring = env["registry"]["archive.keyring"]

        def in_transaction(work):
            with request.tm:
                return work(request.dbsession)

        buckets = env["registry"]["archive.bucket_keys"]
        version, count = rotate_keys(keyring, keyring_path(read_settings(config_uri)),
                                     in_transaction, buckets)  # fmt: skip
    click.echo(f"key-encryption key v{version} is current; {count} data key(s) re-wrapped")


@keys.command("rotate-signing")
@click.pass_obj
def keys_rotate_signing(config_uri):
    """New Ed25519 signing key; the old public key is kept as retired, and a certificate
    signed by the old key announces the new one (chained like every certificate)."""
    from .bootstrap import open_app
    from .interfaces import IClock
    from .retention.certificates import announce_signing_key
    from .settings import keyring_path
    from .vault import KEYRING_ENVIRONMENT_VARIABLE
    from .vault.keyring import Keyring, fingerprint

    if os.environ.get(KEYRING_ENVIRONMENT_VARIABLE):
        raise UsageProblem(f"the keyring comes from {KEYRING_ENVIRONMENT_VARIABLE}; "
                           "rotate with a keyring file, then update the variable")  # fmt: skip
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


def base64_text(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


# -- access log --------------------------------------------------------------------------


@main.group("access-log")
def access_log_group():
    """Export the access log and checkpoint its chain."""


@access_log_group.command("export")
@click.option("--from", "start", help="First day (YYYY-MM-DD) or ISO datetime.")
@click.option("--to", "end", help="Last day (YYYY-MM-DD, inclusive) or ISO datetime.")
@click.pass_obj
def access_log_export(config_uri, start, end):
    """The access log as CSV on stdout (the export itself is logged)."""
    from .access.accesslog import Event
    from .access.review import LogFilter, csv_rows, iter_entries
    from .bootstrap import open_app
    from .interfaces import IAccessLog, IClock
    from .records.clearance import SYSTEM

    with reported_errors(), open_app(config_uri) as env:
        request = env["request"]
        access_log = request.find_service(IAccessLog)
        chosen = LogFilter.from_params({"from": start, "to": end},
                                       request.find_service(IClock).zone,
                                       identity=SYSTEM)  # fmt: skip
        access_log.append_now(Event(action="export", username="cli", role="system",
                                    detail=f"access log CSV from {start} to {end}"))  # fmt: skip
        with request.tm:
            for row in csv_rows(iter_entries(request.dbsession, chosen), access_log.as_json):
                sys.stdout.write(row)


@access_log_group.command("checkpoint")
@click.pass_obj
def access_log_checkpoint(config_uri):
    """Sign the chain's head into the checkpoint file beside the keyring."""
    from .bootstrap import open_app
    from .interfaces import IAccessLog

    with reported_errors(), open_app(config_uri) as env:
        request = env["request"]
        with request.tm:
            checkpoint = request.find_service(IAccessLog).write_checkpoint(request.dbsession)
    if checkpoint is None:
        click.echo("the access log is empty: nothing to checkpoint")
    else:
        click.echo(f"checkpoint at access-log seq {checkpoint.seq}")


# -- retention ---------------------------------------------------------------------------


def parse_cli_date(value: str | None, option: str):
    from datetime import date

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageProblem(f"{option} must be a date as YYYY-MM-DD") from None


@main.group()
def retention():
    """List what is due and run scheduled destruction."""


@retention.command("due")
@click.option("--as-of", "as_of", help="The day to judge by (default: today).")
@click.pass_obj
def retention_due(config_uri, as_of):
    """List dossiers whose destroy-after date has passed, with holds."""
    from .bootstrap import open_app
    from .records.clearance import SYSTEM
    from .retention.services import due_dossiers

    day = parse_cli_date(as_of, "--as-of")
    with reported_errors(), open_app(config_uri) as env:
        request = env["request"]
        day = day or env["registry"]["archive.clock"].today()
        with request.tm:
            rows = due_dossiers(request.dbsession, day, SYSTEM)
            for dossier, held in rows:
                status = "held" if held else "due"
                click.echo(
                    f"{dossier.complaint_no}\t{dossier.destroy_after}\t{status}\t{dossier.id}"
                )
    click.echo(f"{len(rows)} dossier(s) due as of {day}", err=True)


@retention.command("run")
@click.option("--as-of", "as_of", help="The day to judge by (default: today).")
@click.option("--dry-run", is_flag=True, help="List what would be destroyed; destroy nothing.")
@click.pass_obj
def retention_run(config_uri, as_of, dry_run):
    """Destroy what is due (never a held dossier); print the certificate id and path."""
    from .bootstrap import open_app
    from .records.clearance import SYSTEM

    day = parse_cli_date(as_of, "--as-of")
    with reported_errors(), open_app(config_uri) as env:
        request = env["request"]
        # The scheduled run is the archive's own: every level (records/clearance.py).
        destroyer = command_destroyer(env, SYSTEM)
        if sys.stdout.isatty() and not dry_run:
            from .retention.services import due_dossiers

            with request.tm:
                due = len(due_dossiers(request.dbsession, day or destroyer.clock.today(),
                                       SYSTEM))  # fmt: skip
            with click.progressbar(length=due, label="destroying", file=sys.stderr) as bar:
                result = destroyer.run(day, dry_run, "cli", progress=lambda _number: bar.update(1))
        else:
            result = destroyer.run(day, dry_run, "cli")
        for number in result.destroyed:
            click.echo(f"{'would destroy' if dry_run else 'destroyed'} {number}")
        for number in result.skipped_held:
            click.echo(f"held {number}")
        if result.proposal_id:
            for number in result.proposed:
                click.echo(f"proposed {number}")
            click.echo(f"proposal {result.proposal_id} waits for a second records manager")
        exported = export_pending_certificates(env)
    click.echo(f"run {result.id}: {len(result.destroyed)} {'due' if dry_run else 'destroyed'}, "
               f"{len(result.skipped_held)} held", err=True)  # fmt: skip
    if not exported:
        sys.exit(1)


@retention.command("approve")
@click.argument("proposal_id")
@click.option("--as", "username", required=True, help="The approving records manager.")
@click.pass_obj
def retention_approve(config_uri, proposal_id, username):
    """Approval mode: approve a proposal (not your own) and destroy what it lists."""
    from .bootstrap import open_app

    with reported_errors(), open_app(config_uri) as env:
        request = env["request"]
        approver = records_manager(request, username)  # their clearance bounds what goes
        result = command_destroyer(env, approver).approve(proposal_id, approver.username)
        for number in result.destroyed:
            click.echo(f"destroyed {number}")
        for number in result.skipped_held:
            click.echo(f"held {number}")
        exported = export_pending_certificates(env)
    click.echo(f"run {result.id}: {len(result.destroyed)} destroyed, "
               f"{len(result.skipped_held)} held", err=True)  # fmt: skip
    if not exported:
        sys.exit(1)


@retention.command("reject")
@click.argument("proposal_id")
@click.option("--as", "username", required=True, help="The rejecting records manager.")
@click.pass_obj
def retention_reject(config_uri, proposal_id, username):
    """Approval mode: reject a proposal; nothing is destroyed."""
    from .bootstrap import open_app

    with reported_errors(), open_app(config_uri) as env:
        request = env["request"]
        by = records_manager(request, username)
        command_destroyer(env, by).reject(proposal_id, by.username)
    click.echo(f"proposal {proposal_id} rejected")


def command_destroyer(env, identity):
    """The same Destroyer the API builds, for a command's request, acting as `identity`."""
    from .retention.runner import destroyer_for

    purge = getattr(env["registry"], "purge_search_index", lambda ids: None)
    return destroyer_for(env["request"], identity, purge)


def records_manager(request, username: str):
    """The named active records manager (as an identity, with their clearance), or a usage
    error."""
    from sqlalchemy import select

    from .access.models import User
    from .records.clearance import identity_of

    with request.tm:
        user = request.dbsession.scalar(select(User).where(User.username == username[:64]))
        ok = user is not None and user.active and user.role == "records_manager"
        identity = identity_of(user) if ok else None
    if not ok:
        raise UsageProblem(f"{username} is not an active records manager")
    return identity


@retention.command("recompute")
@click.pass_obj
def retention_recompute(config_uri):
    """Apply the configured rule set to every living dossier again (after changing
    archive.retention.rule); each changed date is kept as a correction and logged."""
    from sqlalchemy import select

    from .access.accesslog import Event
    from .bootstrap import open_app
    from .interfaces import IAccessLog, IRecordsService
    from .records.clearance import SYSTEM, readable
    from .records.models import Dossier
    from .retention.corrections import describe_changes, recompute

    with reported_errors(), open_app(config_uri) as env:
        request, clock = env["request"], env["registry"]["archive.clock"]
        with request.tm:
            ids = request.dbsession.scalars(readable(select(Dossier.id).where(
                Dossier.state.in_(("archived", "held"))).order_by(Dossier.id),
                SYSTEM)).all()  # fmt: skip
        changed = 0
        for start in range(0, len(ids), 200):  # committed in batches: resumable, bounded
            with request.tm:
                records = request.find_service(IRecordsService)
                log = request.find_service(IAccessLog)
                for dossier_id in ids[start:start + 200]:
                    dossier = records.get(dossier_id)
                    correction = recompute(records, dossier, "cli", clock.now())
                    if correction is None:
                        continue
                    changed += 1
                    detail = describe_changes(correction.changes)
                    log.append(request.dbsession, Event(
                        username="cli", role="system", action="correct", dossier_id=dossier.id,
                        complaint_no=dossier.complaint_no, detail=detail))  # fmt: skip
                    click.echo(f"{dossier.complaint_no}\t{detail}")
    click.echo(f"{changed} of {len(ids)} dossier(s) changed", err=True)


def export_pending_certificates(env) -> bool:
    """Write this run's certificate, and any an earlier run issued but did not get to write,
    to storage/certificates. False (said on stderr) when the disk is full: the destruction
    and the certificate in the database stand, and the next run writes the files."""
    request = env["request"]
    folder = Path(env["registry"].settings["archive.storage_dir"]) / "certificates"
    for certificate_id in unexported_certificates(request, folder):
        try:
            path = export_certificate(request, certificate_id, folder)
        except OSError as error:
            if storage_full(error) is None:
                raise
            click.echo(f"certificate {certificate_id} is issued, but its files could not be "
                       "written: the storage is full; the next `archive retention run` "
                       "writes them", err=True)  # fmt: skip
            return False
        click.echo(f"certificate {certificate_id} {path}")
    return True


def unexported_certificates(request, folder: Path) -> list[str]:
    from sqlalchemy import select

    from .retention.models import Certificate

    with request.tm:
        ids = request.dbsession.scalars(select(Certificate.id).order_by(Certificate.position)).all()
    return [cid for cid in ids if not (folder / f"{cid}.json").exists()]


def export_certificate(request, certificate_id: str, folder: Path) -> Path:
    """Write the certificate's JSON (and PDF beside it) for filing outside the archive."""
    from .retention.certificates import render_pdf
    from .retention.models import Certificate

    with request.tm:
        body = request.dbsession.get(Certificate, certificate_id).body
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{certificate_id}.json"
    import json

    # The PDF first and the JSON last, each complete or absent: the JSON's presence is what
    # says "exported" (`unexported_certificates`).
    _write_whole(folder / f"{certificate_id}.pdf", render_pdf(json.loads(body)))
    _write_whole(path, body.encode("utf-8"))
    return path


def _write_whole(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


@main.group()
def certificate():
    """Destruction certificates."""


@certificate.command("verify")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--previous", type=click.Path(path_type=Path), help="The previous certificate.")
@click.option("--public-key", "public_key", metavar="B64",
              help="The archive's signing key, base64 of the raw 32 bytes (as printed by "
                   "`archive certificate key`): for verifiers without the keyring.")
@click.pass_obj
def certificate_verify(config_uri, path, previous, public_key):
    """Check that a certificate is signed by the archive's key (the keyring's, current or
    retired, or --public-key), and its chain given the previous one; offline."""
    import json

    from .retention.certificates import announced_key, verify_certificate
    from .vault.keyring import fingerprint

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
    from .vault.keyring import fingerprint

    keyring = configured_keyring(config_uri)
    raw = keyring.public_key_bytes()
    click.echo(base64_text(raw))
    click.echo(f"fingerprint (SHA-256 of the raw key): {fingerprint(raw)}", err=True)


def configured_keyring(config_uri: str | None):
    """The keyring of the configured archive (the file, or ARCHIVE_KEYRING), no database."""
    from .bootstrap import read_settings
    from .vault import load_keyring
    from .vault.keyring import KeyringError

    if config_uri is None:
        raise UsageProblem("no configuration file: give -c with the archive's ini file, "
                           "or --public-key")  # fmt: skip
    try:
        return load_keyring(read_settings(config_uri))
    except (KeyringError, SettingsError) as error:
        raise UsageProblem(f"no signing key to trust: {error}; give --public-key") from None


def trusted_signing_keys(config_uri: str | None, public_key: str | None) -> tuple[bytes, ...]:
    import binascii

    if public_key is None:
        return configured_keyring(config_uri).trusted_public_keys()
    try:
        raw = base64.b64decode(public_key, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise UsageProblem("--public-key must be the base64 of a raw 32-byte Ed25519 key")
    return (raw,)


def index_drift(registry, session) -> list[str]:
    """Dossiers the index lacks or should not have (`archive reindex` repairs both)."""
    from sqlalchemy import select

    from .records.models import Dossier
    from .search.engine import IndexUnavailable

    states = dict(session.execute(select(Dossier.id, Dossier.state)).all())
    living = {i for i, state in states.items() if state not in ("destroyed", "destroying")}
    # A dossier a killed retention run left "destroying" may or may not be indexed still:
    # the next run purges it either way, so it is not drift.
    dying = {i for i, state in states.items() if state == "destroying"}
    try:
        indexed = registry["archive.search_index"].ids()
    except IndexUnavailable:
        return ["search index: missing or unreadable (archive reindex rebuilds it)"]
    lines = [f"search index: dossier {i} is not indexed" for i in sorted(living - indexed)]
    lines += [f"search index: dossier {i} is indexed but not living"
              for i in sorted(indexed - living - dying)]  # fmt: skip
    return lines


# -- search ------------------------------------------------------------------------------


@main.command()
@click.pass_obj
def reindex(config_uri):
    """Rebuild the search index from the database and blobs (into a new folder, swapped in)."""
    from .bootstrap import open_app

    with reported_errors(), open_app(config_uri) as env:
        indexer = env["registry"]["archive.indexer"]
        count = indexer.rebuild(processes=env["registry"]["archive.reindex_processes"])
        indexer.flush()  # what was queued while it ran
    click.echo(f"search index rebuilt: {count} dossiers")
