"""`archive report review PERIOD --as USER` and `archive report verify FILE.json`.

A review counts what its author may read (contract §8: the scope is the author's clearance),
so the command names its author: an active archivist, whose clearance is the review's scope.
There is no system author: a review "as the archive" would count every level and could be
read by restricted readers only. `verify` serves verifiers without a database: what only
`review` uses is imported inside it.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
from pathlib import Path

import click

from ..access.permissions import Role
from ..commands import UsageProblem, reported_errors
from ..interfaces import IAccessLog, IAccountService, IClock, IKeyring
from ..settings import SettingsError, storage_dir


@click.command("review")
@click.argument("period")
@click.option(
    "--as",
    "username",
    required=True,
    help="The archivist who issues it; their clearance is the review's scope.",
)
@click.pass_obj
def report_review(config_uri, period, username):
    """Issue the signed review of PERIOD (2026 or 2026Q3, ended); print its id and the paths
    of its JSON, PDF and workbook (storage/reviews/)."""
    # start-up time (module docstring): Pyramid, the services, ReportLab, matplotlib
    from ..access.accesslog import Event
    from ..bootstrap import open_app
    from ..records.clearance import identity_of
    from ..vault.durability import write_atomically
    from .review_pdf import render_review_pdf
    from .review_periods import Period
    from .review_service import issue_review
    from .review_timeliness import reply_judge
    from .review_workbook import review_workbook
    from .reviews import review_settings

    if config_uri is None:  # `report` runs without an ini only for `verify --public-key`
        raise UsageProblem("no configuration file: give -c with the archive's ini file")
    with reported_errors(), open_app(config_uri) as env:
        request, registry = env["request"], env["registry"]
        clock = registry.getUtility(IClock)
        wanted = Period.parse(period)
        with request.tm:
            user = request.find_service(IAccountService).active_with_role(username, Role.ARCHIVIST)
            if user is None:
                raise UsageProblem(f"{username} is not an active archivist")
            identity = identity_of(user)
            review = issue_review(
                request.dbsession, identity, wanted, now=clock.now(), today=clock.today(),
                signing_key=registry.getUtility(IKeyring).signing_key(),
                settings=review_settings(registry.settings),
                met=reply_judge(registry, wanted.start),
            )  # fmt: skip
            registry.getUtility(IAccessLog).append(request.dbsession, Event(
                action="report_issue", username=identity.username, role=identity.role,
                detail=f"review {review['review_id']} of {wanted} (command line)"))  # fmt: skip
        folder = storage_dir(registry.settings) / "reviews"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        stem = folder / f"review-{review['period']}-{review['review_id']}"
        files = {".json": json.dumps(review, sort_keys=True, ensure_ascii=False).encode(),
                 ".pdf": render_review_pdf(review, clock.zone),
                 ".xlsx": review_workbook(review)}  # fmt: skip
        for suffix, content in files.items():
            write_atomically(stem.with_suffix(suffix), content)
    click.echo(f"review {review['review_id']}")
    for suffix in files:
        click.echo(str(stem.with_suffix(suffix)))


@click.command("verify")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--public-key", "public_key", metavar="B64",
              help="The archive's signing key, base64 of the raw 32 bytes (as printed by "
              "`archive certificate key`): for verifiers without the keyring.")  # fmt: skip
@click.pass_obj
def report_verify(config_uri, path, public_key):
    """Check that a review is whole and signed by the archive's key (the keyring's, current
    or retired, or --public-key); offline. Exit 1 if not."""
    from .review_service import verify_review  # start-up time (module docstring)

    try:
        review = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageProblem(f"{path} is not a readable review: {error}") from None
    problems = verify_review(review, trusted_keys(config_uri, public_key))
    for problem in problems:
        click.echo(problem)
    if problems:
        sys.exit(1)
    click.echo(f"review {review['review_id']} of {review['period']} valid")


def trusted_keys(config_uri: str | None, public_key: str | None) -> tuple[bytes, ...]:
    """The archive's signing keys (§7): the one given with --public-key, else the keyring's,
    current and retired. Never the key the review carries."""
    if public_key is not None:
        try:
            raw = base64.b64decode(public_key, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise UsageProblem("--public-key must be the base64 of a raw 32-byte Ed25519 key")
        return (raw,)
    if config_uri is None:
        raise UsageProblem("no configuration file: give -c with the archive's ini file, "
                           "or --public-key")  # fmt: skip
    from ..bootstrap import read_settings  # only with a configuration: start-up time
    from ..vault import load_keyring
    from ..vault.keyring import KeyringError

    try:
        return load_keyring(read_settings(config_uri)).trusted_public_keys()
    except (KeyringError, SettingsError) as error:
        raise UsageProblem(f"no signing key to trust: {error}; give --public-key") from None
