"""Killed mid-way (as kill -9 would: `ARCHIVE_FAULT=step`), then restarted and repaired:
nothing acknowledged is lost, no row lacks its blob, and the work finishes (issue 6).
Retention's steps are killed in test_cli_retention.py, the search index's in search/."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import complaint_no, metadata
from support import make_cli_env, run_cli, run_cli_process
from test_cli import write_folder

KILLED = 137


def blob_files(env) -> set[Path]:
    return {p for p in (Path(env["ARCHIVE_ROOT"]) / "blobs").rglob("*.blob")}


def test_filing_killed_before_its_commit_leaves_only_an_orphan_blob(tmp_path_factory, tmp_path):
    env = make_cli_env(tmp_path_factory, "crash_filing")
    first, second = tmp_path / "first", tmp_path / "second"
    write_folder(first, metadata(complaint_no=complaint_no("I", 2023)))
    number = complaint_no("I", 2023)
    write_folder(second, metadata(complaint_no=number))
    assert run_cli(env, "import", str(first)).returncode == 0
    acknowledged = blob_files(env)

    killed = run_cli_process(dict(env, ARCHIVE_FAULT="blob_written"), "import", str(second))
    assert killed.returncode == KILLED and number not in killed.stdout
    orphans = blob_files(env) - acknowledged
    assert len(orphans) == 1  # written, fsync'd, never referenced

    report = run_cli(env, "verify")
    assert report.returncode == 0, report.stdout  # every acknowledged document intact
    assert "orphan" not in report.stdout  # young orphans may be a filing in progress
    listed = run_cli(dict(env, ARCHIVE_ORPHAN_GRACE_HOURS="0"), "verify")
    assert f"orphan blob {orphans.pop().relative_to(Path(env['ARCHIVE_ROOT']) / 'blobs')}" \
        in listed.stdout  # fmt: skip
    repaired = run_cli(dict(env, ARCHIVE_ORPHAN_GRACE_HOURS="0"), "verify", "--repair")
    assert repaired.returncode == 0 and "removed" in repaired.stdout
    assert blob_files(env) == acknowledged

    rerun = run_cli(env, "import", str(second))
    assert rerun.returncode == 0 and f"filed {number}" in rerun.stdout
    final = run_cli(env, "verify")
    assert final.returncode == 0 and "orphan" not in final.stdout


@pytest.mark.parametrize("step", ["rotation_saved", "rotation_batch"])
def test_key_rotation_killed_at_each_step_loses_nothing(tmp_path_factory, tmp_path, step):
    env = make_cli_env(tmp_path_factory, f"crash_{step}")
    for index in range(2):
        write_folder(tmp_path / str(index), metadata(complaint_no=complaint_no("I", 2023)))
    assert run_cli(env, "import", str(tmp_path)).returncode == 0

    killed = run_cli_process(dict(env, ARCHIVE_FAULT=step), "keys", "rotate")
    assert killed.returncode == KILLED
    between = run_cli(env, "verify")
    assert between.returncode == 0, between.stdout  # old and new keys both still open rows

    finished = run_cli(env, "keys", "rotate")
    assert finished.returncode == 0, finished.stderr
    assert run_cli(env, "verify").returncode == 0


def test_reindex_killed_before_its_swap_leaves_the_old_index_serving(tmp_path_factory, tmp_path):
    env = make_cli_env(tmp_path_factory, "crash_reindex")
    number = complaint_no("I", 2023)
    write_folder(tmp_path, metadata(complaint_no=number))
    assert run_cli(env, "import", str(tmp_path)).returncode == 0
    index = Path(env["ARCHIVE_ROOT"]) / "index"
    serving = (index / "CURRENT").read_text()

    killed = run_cli_process(dict(env, ARCHIVE_FAULT="reindex_built"), "reindex")
    assert killed.returncode == KILLED
    assert (index / "CURRENT").read_text() == serving
    assert len(list(index.glob("gen-*"))) == 2  # the half-done build is left behind
    assert run_cli(env, "verify").returncode == 0  # the old generation still answers

    rebuilt = run_cli(env, "reindex")
    assert rebuilt.returncode == 0, rebuilt.stderr
    generations = list(index.glob("gen-*"))
    assert [folder.name for folder in generations] == [(index / "CURRENT").read_text()]
    assert run_cli(env, "verify").returncode == 0


APPEND = """
import sys
from pathlib import Path

from archive_app.bootstrap import open_app
from archive_app.interfaces import IRecordsService
from archive_app.records.services import Upload

config, number, path = sys.argv[1:]
with open_app(config) as env:
    request = env["request"]
    with request.tm:
        records = request.find_service(IRecordsService)
        dossier = records.find_by_complaint_no(number)
        upload = Upload("attachment", "补充材料.pdf", Path(path), Path(path).stat().st_size)
        records.append_documents(dossier, [upload], "archivist")
print("appended")
"""


def test_appending_killed_before_its_commit_adds_nothing_but_an_orphan(tmp_path_factory,
                                                                      tmp_path):  # fmt: skip
    import subprocess
    import sys

    from factories import pdf
    from support import TESTING_INI

    env = make_cli_env(tmp_path_factory, "crash_append")
    number = complaint_no("I", 2023)
    write_folder(tmp_path / "folder", metadata(complaint_no=number))
    assert run_cli(env, "import", str(tmp_path / "folder")).returncode == 0
    attachment = tmp_path / "extra.pdf"
    attachment.write_bytes(pdf("补充材料"))
    before = run_cli(env, "verify").stdout.splitlines()[-1]

    def append(extra_env):
        return subprocess.run([sys.executable, "-c", APPEND, TESTING_INI, number,
                               str(attachment)], env={**env, **extra_env},
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    killed = append({"ARCHIVE_FAULT": "blob_written"})
    assert killed.returncode == KILLED and "appended" not in killed.stdout
    assert run_cli(env, "verify").stdout.splitlines()[-1] == before  # same documents, intact
    repaired = run_cli(dict(env, ARCHIVE_ORPHAN_GRACE_HOURS="0"), "verify", "--repair")
    assert repaired.returncode == 0 and "removed" in repaired.stdout
    done = append({})
    assert done.returncode == 0 and "appended" in done.stdout, done.stderr
    final = run_cli(env, "verify")
    assert final.returncode == 0 and final.stdout.splitlines()[-1] != before


def test_batched_import_killed_before_a_batch_commits_loses_that_batch_alone(
        tmp_path_factory, tmp_path):  # fmt: skip
    """Five folders, two a batch: killed once the second batch is filed and its blobs are
    durable but before it commits. The first batch stays filed, the second leaves orphan
    blobs only, and the rerun skips the first two and files the other three: none doubled."""
    env = make_cli_env(tmp_path_factory, "crash_batch")
    numbers = sorted(complaint_no("I", 2023) for _ in range(5))
    for number in numbers:
        write_folder(tmp_path, metadata(complaint_no=number))

    killed = run_cli_process(dict(env, ARCHIVE_FAULT="import_batch_2_filled"), "import",
                             "--batch", "2", str(tmp_path))  # fmt: skip
    assert killed.returncode == KILLED
    assert not any(number in killed.stdout for number in numbers[2:])  # never reported filed
    on_disk = blob_files(env)
    report = run_cli(env, "verify")
    assert report.returncode == 0, report.stdout  # the committed batch whole
    documents = int(report.stdout.split()[0])
    assert documents > 0 and len(on_disk) == 2 * documents  # batch 2's blobs: orphans

    rerun = run_cli(env, "import", "--batch", "2", str(tmp_path))
    assert rerun.returncode == 0, rerun.stdout
    assert [line.split()[0] for line in rerun.stdout.splitlines()] == \
        ["skipped"] * 2 + ["filed"] * 3  # fmt: skip
    repaired = run_cli(dict(env, ARCHIVE_ORPHAN_GRACE_HOURS="0"), "verify", "--repair")
    assert repaired.returncode == 0 and repaired.stdout.count("removed") == documents
    final = run_cli(env, "verify")
    assert final.returncode == 0 and final.stdout.split()[0] == str(documents * 5 // 2)
    assert len(blob_files(env)) == documents * 5 // 2  # each dossier once, nothing left over
