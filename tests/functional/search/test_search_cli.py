"""`archive` commands and the index queue: killed after the filing commits but before the
index is written, the next command (`archive verify`) indexes the dossier; with the
background thread on, a command's filings are indexed before it exits."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from factories import complaint_no, complete_files, metadata
from sqlalchemy import create_engine, select, text
from support import TESTING_INI, make_cli_env, run_cli, run_cli_process

from archive_app.records.models import Dossier
from archive_app.search import drain_process
from archive_app.search.engine import SearchIndex
from archive_app.search.indexing import Indexer
from archive_app.search.models import QueuedDossier


def write_dossier_folder(root: Path) -> str:
    meta = metadata(complaint_no=complaint_no("I", 2023))
    folder = root / meta["complaint_no"]
    folder.mkdir(parents=True)
    documents = []
    for number, (kind, name, content) in enumerate(complete_files()):
        (folder / f"{number}-{name}").write_bytes(content)
        documents.append({"kind": kind, "file": f"{number}-{name}"})
    listing = json.dumps(meta | {"documents": documents}, ensure_ascii=False)
    (folder / "dossier.json").write_text(listing, encoding="utf-8")
    return meta["complaint_no"]


def database_state(env: dict, number: str) -> tuple[str, set[str]]:
    """The dossier's id, and the ids in the index queue."""
    engine = create_engine(env["ARCHIVE_SQLALCHEMY_URL"])
    try:
        with engine.connect() as connection:
            dossier_id = connection.scalar(select(Dossier.id).where(Dossier.complaint_no == number))
            return dossier_id, set(connection.scalars(select(QueuedDossier.dossier_id)))
    finally:
        engine.dispose()


@pytest.fixture
def cli_env(tmp_path_factory, search_backend, monkeypatch):
    """`make_cli_env` for the backend under test (its own schema, or database, per backend)."""

    def make(name: str) -> dict:
        monkeypatch.setenv("ARCHIVE_SEARCH_BACKEND", search_backend)
        return make_cli_env(tmp_path_factory, f"{name}_{search_backend}")

    return make


def indexed(env: dict) -> set[str]:
    if env["ARCHIVE_SEARCH_BACKEND"] == "postgres":
        engine = create_engine(env["ARCHIVE_SQLALCHEMY_URL"])
        try:
            with engine.connect() as connection:
                return set(connection.scalars(text("SELECT dossier_id FROM search_rows")))
        finally:
            engine.dispose()
    return SearchIndex(Path(env["ARCHIVE_ROOT"]) / "index").ids()


def test_killed_between_the_commit_and_the_index_update_verify_converges(cli_env, tmp_path):
    env = cli_env("cli_index_queue")
    number = write_dossier_folder(tmp_path)
    killed = run_cli_process(env | {"ARCHIVE_FAULT": "index_queued"}, "import", str(tmp_path))
    assert killed.returncode == 137, killed.stderr
    dossier_id, queue = database_state(env, number)
    assert dossier_id is not None and dossier_id in queue  # committed, with its queue row
    assert dossier_id not in indexed(env)  # and not indexed
    verified = run_cli(env, "verify")
    assert verified.returncode == 0, verified.stdout  # no drift left to report
    assert dossier_id in indexed(env)
    assert database_state(env, number)[1] == set()
    if env["ARCHIVE_SEARCH_BACKEND"] == "postgres":  # the index is in the database alone
        assert list((Path(env["ARCHIVE_ROOT"]) / "index").rglob("*")) == []


def test_with_the_background_thread_a_command_indexes_its_filings_before_exiting(cli_env, tmp_path):
    env = cli_env("cli_index_background")
    config = tmp_path / "background.ini"
    config.write_text(Path(TESTING_INI).read_text().replace(
        "archive.search.index_in_background = false",
        "archive.search.index_in_background = true"))  # fmt: skip
    folders = tmp_path / "import"
    numbers = [write_dossier_folder(folders) for _ in range(3)]
    imported = run_cli(env, "import", str(folders), config=str(config))
    assert imported.returncode == 0, imported.stderr
    ids = {database_state(env, number)[0] for number in numbers}
    assert ids <= indexed(env) and database_state(env, numbers[0])[1] == set()


def background_config(tmp_path: Path) -> Path:
    config = tmp_path / "background.ini"
    config.write_text(Path(TESTING_INI).read_text().replace(
        "archive.search.index_in_background = false",
        "archive.search.index_in_background = true"))  # fmt: skip
    return config


def stored_texts(env: dict) -> int:
    engine = create_engine(env["ARCHIVE_SQLALCHEMY_URL"])
    try:
        with engine.connect() as connection:
            return connection.scalar(text("SELECT count(*) FROM document_texts"))
    finally:
        engine.dispose()


def entries_written_here(monkeypatch) -> list[list[str]]:
    """The dossier ids of each `write_entries` call made in this process (not in a child)."""
    calls: list[list[str]] = []
    real = Indexer.write_entries

    def counted(self, ids):
        calls.append(list(ids))
        return real(self, ids)

    monkeypatch.setattr(Indexer, "write_entries", counted)
    return calls


def import_indexed(env, tmp_path, folders, numbers, batch: int) -> set[str]:
    """Import with the indexer in the background: the ids filed, checked indexed and the
    queue empty once the command has exited."""
    imported = run_cli(env, "import", "--batch", str(batch), str(folders),
                       config=str(background_config(tmp_path)))  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    ids = {database_state(env, number)[0] for number in numbers}
    assert ids <= indexed(env) and database_state(env, numbers[0])[1] == set()
    return ids


def test_an_import_of_several_batches_is_indexed_by_a_drain_process_of_its_own(
        cli_env, tmp_path, monkeypatch):  # fmt: skip
    """More folders than a batch, the indexer in the background: the entries are written by
    the drain process (none in the importing process), all before the command exits, the
    texts stored and the queue empty."""
    env = cli_env("cli_index_apart")
    folders = tmp_path / "import"
    numbers = [write_dossier_folder(folders) for _ in range(5)]
    here = entries_written_here(monkeypatch)
    ids = import_indexed(env, tmp_path, folders, numbers, batch=2)
    assert ids and here == []  # the drain process wrote them
    assert stored_texts(env) >= len(numbers)  # and stored what it extracted


def test_when_the_drain_process_fails_the_importer_indexes_its_filings_itself(
        cli_env, tmp_path, monkeypatch):  # fmt: skip
    env = cli_env("cli_index_apart_failed")
    folders = tmp_path / "import"
    numbers = [write_dossier_folder(folders) for _ in range(3)]
    monkeypatch.setattr(
        drain_process, "command", lambda config_uri: [sys.executable, "-c", "raise SystemExit(3)"]
    )
    here = entries_written_here(monkeypatch)
    ids = import_indexed(env, tmp_path, folders, numbers, batch=1)
    assert {dossier_id for call in here for dossier_id in call} == ids  # this process did


def test_an_import_killed_mid_batch_leaves_its_drain_process_to_index_what_committed(
        cli_env, tmp_path):  # fmt: skip
    """Killed once its second batch is filed but not committed: the drain process reads the
    end of its standard input, indexes the first batch and leaves; the rerun files the
    other three, indexes them, and doubles nothing."""
    env = cli_env("cli_index_apart_killed")
    folders = tmp_path / "import"
    numbers = sorted(write_dossier_folder(folders) for _ in range(5))
    config = str(background_config(tmp_path))
    killed = run_cli_process(env | {"ARCHIVE_FAULT": "import_batch_2_filled"}, "import",
                             "--batch", "2", str(folders), config=config)  # fmt: skip
    assert killed.returncode == 137, killed.stderr
    first = {database_state(env, number)[0] for number in numbers[:2]}
    assert None not in first and database_state(env, numbers[2])[0] is None
    deadline = time.monotonic() + 60
    while not first <= indexed(env) or database_state(env, numbers[0])[1]:
        assert time.monotonic() < deadline, "the drain process did not index the first batch"
        time.sleep(0.2)
    rerun = run_cli(env, "import", "--batch", "2", str(folders), config=config)
    assert [line.split()[0] for line in rerun.stdout.splitlines()] == \
        ["skipped"] * 2 + ["filed"] * 3  # fmt: skip
    ids = {database_state(env, number)[0] for number in numbers}
    assert ids == indexed(env) and database_state(env, numbers[0])[1] == set()
