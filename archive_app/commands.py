"""What every feature's `commands.py` shares: the one-line usage error (exit 2), domain errors
as one line, progress bars on a terminal only, and the group that loads a feature's commands
only when one of them runs.

Only click and the archive's light modules are imported here: every command pays for this
module's imports before it starts (contract §2 wants quick answers).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date

import click

from .dates import parse_date
from .errors import ArchiveError, Invalid, storage_full
from .settings import SettingsError


class UsageProblem(click.ClickException):
    """Bad usage or bad input: one line on stderr, exit 2 (contract §2)."""

    exit_code = 2

    def show(self, file=None):
        click.echo(f"archive: {self.format_message()}", err=True)


class LazyGroup(click.Group):
    """A group whose subcommands are `"module:attribute"` paths, imported when one is run
    (click's documented lazy-loading pattern): a feature's package imports Pyramid and the
    database layer, which `archive certificate key` or `archive --help` should not wait for."""

    def __init__(self, *args, lazy_subcommands: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_subcommands = dict(lazy_subcommands or {})

    def list_commands(self, ctx):
        return sorted({*super().list_commands(ctx), *self.lazy_subcommands})

    def get_command(self, ctx, cmd_name):
        if cmd_name in self.lazy_subcommands:
            module_name, attribute = self.lazy_subcommands[cmd_name].split(":")
            return getattr(importlib.import_module(module_name), attribute)
        return super().get_command(ctx, cmd_name)


def progress(items=None, label: str = "", length: int | None = None) -> Progress:
    """A progress bar on stderr while stderr is a terminal, nothing otherwise (contract §2):
    `with progress(items, "filing") as bar: for item in bar: bar.echo(line)`."""
    return Progress(items, label, length)


def on_terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Progress:
    """Iterates `items` (or counts `update(steps)` up to `length`) with click's bar drawn on
    stderr when stderr is a terminal. A line for stdout given to `echo` while the bar is drawn
    on the same terminal waits until the bar has ended its line: a bar redrawn with carriage
    returns and stdout's lines never share a line of the screen. With stdout elsewhere (a
    pipe, a file) each line goes out at once."""

    def __init__(self, items, label: str, length: int | None):
        self.items, self.label, self.length = items, label, length
        self.bar = None
        self.held: list[str] = []

    @property
    def shown(self) -> bool:
        return self.bar is not None

    def __enter__(self) -> Progress:
        if on_terminal(sys.stderr):
            self.bar = click.progressbar(self.items, label=self.label, length=self.length,
                                         file=sys.stderr).__enter__()  # fmt: skip
        return self

    def __iter__(self):
        return iter(self.bar if self.bar is not None else self.items)

    def update(self, steps: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(steps)

    def echo(self, line: str) -> None:
        if self.bar is not None and on_terminal(sys.stdout):
            self.held.append(line)
        else:
            click.echo(line)

    def __exit__(self, *exc) -> bool:
        if self.bar is not None:
            self.bar.__exit__(*exc)  # the bar's last draw, and the end of its line
            self.bar = None
        for line in self.held:
            click.echo(line)
        self.held = []
        return False


@contextmanager
def reported_errors():
    """Domain and configuration errors become one line and exit 2, never a traceback."""
    from .vault.keyring import KeyringError  # the vault package loads its crypto: start-up time

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


def parse_cli_date(value: str | None, option: str) -> date | None:
    try:
        return parse_date(value, option)
    except Invalid as error:
        raise UsageProblem(error.detail) from None


def in_transaction(request) -> Callable:
    """`run(work)`: work(session) inside the command request's transaction, committed before
    it returns (the services' `transaction` collaborator, as the command sees it)."""

    def run(work):
        with request.tm:
            return work(request.dbsession)

    return run


def read_only_transaction(request) -> Callable:
    """`run(work)`: work(session) inside a transaction of the command request that is always
    aborted, never committed, whatever work touched (a preview)."""

    def run(work):
        request.tm.begin()
        try:
            return work(request.dbsession)
        finally:
            request.tm.abort()

    return run
