"""The command line as a person meets it (issue 12 item 10): `archive reindex` and `archive
retention recompute` draw a progress bar on a terminal, on stderr only; a bar and stdout's
lines never share a line of the screen; without a terminal there is no bar at all; and a dry
run never prints an earlier run's certificate."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import termios
from pathlib import Path

import pytest
from support import ARCHIVE, TESTING_INI, make_cli_env, run_cli
from test_cli_retention import write_old_dossier

EU_GMP = {"ARCHIVE_RETENTION_RULE": "eu-gmp"}  # a rule set that would move the old dossier
# (arguments, the bar's label, the environment beside the test archive's)
WITH_PROGRESS = [
    (("reindex",), "indexing", {}),
    (("retention", "recompute", "--preview"), "previewing", EU_GMP),
]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    env = make_cli_env(tmp_path_factory, "cli_progress")
    folder = tmp_path_factory.mktemp("progress_import")
    env["NUMBER"] = write_old_dossier(folder)
    assert run_cli(env, "import", str(folder)).returncode == 0
    return env


def on_terminal(env: dict, *args, stdout_too: bool) -> tuple[str, str]:
    """Run `archive ARGS` with stderr on a terminal (a pseudo-terminal 200 columns wide) and
    stdout on that terminal too, or on a pipe: (what the terminal showed, what the pipe got)."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
    process = subprocess.Popen(
        [ARCHIVE, "-c", TESTING_INI, *args], env=env, stdin=subprocess.DEVNULL,
        stdout=terminal if stdout_too else subprocess.PIPE, stderr=terminal,
    )  # fmt: skip
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the command closed the terminal's last descriptor
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    piped = b"" if stdout_too else process.stdout.read()
    assert process.wait(timeout=300) == 0, shown
    if process.stdout:
        process.stdout.close()
    return shown.decode().replace("\r\n", "\n"), piped.decode()


def screen_lines(shown: str) -> list[str]:
    """The lines as the screen shows them: what a carriage return redrew is gone."""
    return [line.rsplit("\r", 1)[-1] for line in shown.split("\n")]


@pytest.mark.parametrize(("args", "label", "extra"), WITH_PROGRESS)
def test_progress_is_drawn_on_stderr_only(env, args, label, extra):
    shown, stdout = on_terminal(env | extra, *args, stdout_too=False)
    assert label in shown and "100%" in shown  # the bar, on the terminal (stderr)
    assert label not in stdout and "\r" not in stdout and "%" not in stdout
    if args[0] == "reindex":
        assert stdout == "search index rebuilt: 1 dossiers\n"
    else:
        assert stdout.startswith(f"{env['NUMBER']}\tdestroy_after ") and stdout.count("\n") == 1


def test_a_bar_and_stdout_lines_never_share_a_line_of_the_screen(env):
    shown, _ = on_terminal(env | EU_GMP, "retention", "recompute", "--preview", stdout_too=True)
    lines = screen_lines(shown)
    changed = [line for line in lines if env["NUMBER"] in line]
    assert len(changed) == 1 and changed[0].startswith(f"{env['NUMBER']}\tdestroy_after ")
    assert "previewing" not in changed[0] and "%" not in changed[0]
    # The bar finished its line before the result was printed.
    assert shown.rindex("previewing") < shown.index(env["NUMBER"])


def test_without_a_terminal_there_is_no_bar(env):
    for args, label, extra in WITH_PROGRESS:
        result = run_cli(env | extra, *args)
        assert result.returncode == 0, result.stderr
        assert label not in result.stderr and "%" not in result.stderr


def test_a_dry_run_never_prints_an_earlier_certificate(tmp_path_factory, tmp_path):
    env = make_cli_env(tmp_path_factory, "cli_dry_run_certificate")
    folder = tmp_path / "import"
    first, second = write_old_dossier(folder), write_old_dossier(folder)
    assert run_cli(env, "import", str(folder)).returncode == 0
    run = run_cli(env, "retention", "run", "--as-of", "2021-01-01")
    assert run.returncode == 0, run.stderr
    certificate_id, path = re.search(r"^certificate (\S+) (\S+)$", run.stdout, re.M).groups()
    # Its files lost (a full disk, say): the next real run writes them; a dry run does not
    # print it as if it were its own.
    Path(path).unlink()
    assert write_old_dossier(folder / "later")
    assert run_cli(env, "import", str(folder / "later")).returncode == 0
    dry = run_cli(env, "retention", "run", "--as-of", "2021-01-01", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would destroy" in dry.stdout and "certificate" not in dry.stdout
    assert certificate_id not in dry.stdout + dry.stderr and first not in dry.stdout
    assert second not in dry.stdout
    real = run_cli(env, "retention", "run", "--as-of", "2021-01-01")
    assert f"certificate {certificate_id} " in real.stdout  # written now, by a real run
