"""A full disk, on a small filesystem made by the test (tmpfs): a clear error, nothing
stored half-way, nothing corrupted, and the archive works again once space is back.

The commands run as processes of their own (run_cli_process), as an operator meets them on a
full disk: start-up and exit (the last access-log checkpoint) included."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import webtest
from factories import complaint_no, complete_files, metadata, metadata_part
from plaster import get_settings
from support import PASSWORD, TESTING_INI, assert_error, run_cli_process
from test_cli import write_folder

from archive_app import main
from archive_app.interfaces import IDatabase


@pytest.fixture
def small_disk(tmp_path):
    mountpoint = tmp_path / "small"
    mountpoint.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mountpoint)],
                   check=True)  # fmt: skip
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def fill(mountpoint: Path) -> Path:
    """Write a ballast file until the filesystem refuses more."""
    ballast = mountpoint / "ballast"
    with open(ballast, "wb", buffering=0) as handle:  # unbuffered: nothing left to flush
        for size in (1 << 20, 1 << 16, 1 << 12, 1 << 9, 1):
            try:
                while True:
                    handle.write(b"\0" * size)
            except OSError:
                pass
    return ballast


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_a_full_disk_refuses_filing_cleanly_and_recovers(small_disk, tmp_path, monkeypatch):
    storage = small_disk / "storage"
    env = dict(os.environ, ARCHIVE_STORAGE_DIR=str(storage),
               ARCHIVE_SQLALCHEMY_URL=f"sqlite:///{storage}/archive.sqlite")  # fmt: skip
    env.pop("ARCHIVE_KEYRING", None)
    assert run_cli_process(env, "init").returncode == 0
    assert (
        run_cli_process(
            env,
            "user",
            "add",
            "wang",
            "--role",
            "archivist",
            "--clearance",
            "restricted",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        ).returncode
        == 0
    )
    first, second = tmp_path / "first", tmp_path / "second"
    write_folder(first, metadata(complaint_no=complaint_no("I", 2023)))
    due = complaint_no("I", 2019)  # expired 2019-06: due on 2021-01-01
    write_folder(
        first,
        metadata(
            complaint_no=due,
            received_on="2019-03-01",
            closed_on="2019-04-01",
            products=[{"name": "复方甘草片", "batch_no": "FG1901", "expiry": "2019-06"}],
        ),
    )
    number = complaint_no("I", 2023)
    write_folder(second, metadata(complaint_no=number))
    assert run_cli_process(env, "import", str(first)).returncode == 0

    settings = dict(get_settings(TESTING_INI, "app:main"), **{
        "archive.storage_dir": str(storage),
        "sqlalchemy.url": env["ARCHIVE_SQLALCHEMY_URL"]})  # fmt: skip
    # The environment overrides ini settings: point it at the small disk for this app too.
    monkeypatch.setenv("ARCHIVE_STORAGE_DIR", env["ARCHIVE_STORAGE_DIR"])
    monkeypatch.setenv("ARCHIVE_SQLALCHEMY_URL", env["ARCHIVE_SQLALCHEMY_URL"])
    app = main({"__file__": TESTING_INI}, **settings)
    try:
        api = webtest.TestApp(app)
        token = api.post_json("/api/v1/auth/token", {"username": "wang",
                              "password": PASSWORD}).json["token"]  # fmt: skip
        unindexed = complaint_no("I", 2023)  # committed and queued, then the process dies
        write_folder(tmp_path / "third", metadata(complaint_no=unindexed))
        assert run_cli_process(dict(env, ARCHIVE_FAULT="index_queued"), "import",
                       str(tmp_path / "third")).returncode == 137  # fmt: skip
        before = files_under(storage / "blobs")
        ballast = fill(small_disk)

        refused = run_cli_process(env, "import", str(second))
        assert refused.returncode == 1 and "storage is full" in refused.stdout
        response = api.post("/api/v1/dossiers", params=[metadata_part(metadata(
            complaint_no=complaint_no("I", 2023)))], upload_files=complete_files(),
            headers={"Authorization": f"Bearer {token}"}, status=507)  # fmt: skip
        assert_error(response, 507, "storage_full")
        assert files_under(storage / "blobs") == before  # no blob, no temp file left
        assert not files_under(storage / "tmp")
        # Reads need their access-log entry first: no entry, no content.
        hits = api.get(f"/api/v1/dossiers?complaint_no={due}",
                       headers={"Authorization": f"Bearer {token}"}, status=507)  # fmt: skip
        assert_error(hits, 507, "storage_full")
        # The index cannot take the queued dossier: one line, and the queue keeps it.
        drain = run_cli_process(env, "verify")
        assert drain.returncode == 2 and "storage is full" in drain.stderr
        run = run_cli_process(env, "retention", "run", "--as-of", "2021-01-01")
        assert run.returncode == 2 and "storage is full" in run.stderr
        assert "Traceback" not in run.stderr

        ballast.unlink()  # space is back
        report = run_cli_process(env, "verify")
        assert report.returncode == 0, report.stdout  # nothing corrupted, the log chain whole
        found = api.get(f"/api/v1/search?complaint_no={unindexed}",
                        headers={"Authorization": f"Bearer {token}"}).json  # fmt: skip
        assert found["total"] == 1  # the queued dossier reached the index after all
        destroyed = run_cli_process(env, "retention", "run", "--as-of", "2021-01-01")
        assert destroyed.returncode == 0 and f"destroyed {due}" in destroyed.stdout
        assert run_cli_process(env, "verify").returncode == 0
        again = run_cli_process(env, "import", str(second))
        assert again.returncode == 0 and f"filed {number}" in again.stdout
        api.post("/api/v1/dossiers", params=[metadata_part(metadata(
            complaint_no=complaint_no("I", 2023)))], upload_files=complete_files(),
            headers={"Authorization": f"Bearer {token}"}, status=201)  # fmt: skip
    finally:
        app.registry.getUtility(IDatabase).dispose()


def test_certificate_files_on_a_full_disk_are_written_by_the_next_run(small_disk, tmp_path):
    """The certificates folder on a disk of its own that is full: the destruction and the
    certificate in the database stand, the command says the files are missing (exit 1),
    and the next run writes them."""
    storage = small_disk / "storage"
    env = dict(os.environ, ARCHIVE_STORAGE_DIR=str(storage),
               ARCHIVE_SQLALCHEMY_URL=f"sqlite:///{storage}/archive.sqlite")  # fmt: skip
    env.pop("ARCHIVE_KEYRING", None)
    assert run_cli_process(env, "init").returncode == 0
    due = complaint_no("I", 2019)
    folders = tmp_path / "import"  # beside the small disk's folder, which is no dossier
    write_folder(
        folders,
        metadata(
            complaint_no=due,
            received_on="2019-03-01",
            closed_on="2019-04-01",
            products=[{"name": "复方甘草片", "batch_no": "FG1902", "expiry": "2019-06"}],
        ),
    )
    assert run_cli_process(env, "import", str(folders)).returncode == 0
    certificates = storage / "certificates"
    certificates.mkdir(exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(certificates)],
                   check=True)  # fmt: skip
    try:
        ballast = fill(certificates)
        run = run_cli_process(env, "retention", "run", "--as-of", "2021-01-01")
        assert run.returncode == 1 and f"destroyed {due}" in run.stdout
        assert "is issued, but its files could not be written" in run.stderr
        assert "Traceback" not in run.stderr
        assert not [p for p in certificates.iterdir() if p.name != "ballast"]  # no half file
        ballast.unlink()
        again = run_cli_process(env, "retention", "run", "--as-of", "2021-01-01")
        assert again.returncode == 0 and "certificate " in again.stdout
        written = sorted(p.suffix for p in certificates.iterdir())
        assert written == [".json", ".pdf"]
        certificate = next(certificates.glob("*.json"))
        verified = run_cli_process(env, "certificate", "verify", str(certificate))
        assert verified.returncode == 0, verified.stdout + verified.stderr
    finally:
        subprocess.run(["umount", "-l", str(certificates)], check=False)
