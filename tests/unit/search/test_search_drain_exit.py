"""The drain process ends without the interpreter's teardown (the importer waits for it),
but its exit handlers still run and what it printed still reaches its pipes."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import atexit, sys
from archive_app.search.drain_process import leave

class TornDown:
    def __del__(self):
        print("torn down", flush=True)

kept = TornDown()  # a module global: only the interpreter's teardown deletes it
atexit.register(lambda: print("exit handler ran"))
sys.stderr.write("unflushed on stderr")
print("unflushed on stdout", end="")
leave()
"""


def test_leave_runs_the_exit_handlers_and_flushes_but_skips_the_teardown():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "exit handler ran" in done.stdout
    assert "unflushed on stdout" in done.stdout
    assert "unflushed on stderr" in done.stderr
    assert "torn down" not in done.stdout  # the teardown was skipped
