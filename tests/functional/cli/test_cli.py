"""The `archive` command line (contract §2) against its own storage folder."""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path

import pytest
from factories import complete_files, metadata
from support import TESTING_INI, make_cli_env, run_cli

from archive_app.search import segment_files


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory):
    return make_cli_env(tmp_path_factory, "cli_tests")


def run(env, *args, stdin: str | None = None, config: str = TESTING_INI):
    return run_cli(env, *args, stdin=stdin, config=config)


def write_folder(root: Path, meta: dict, files=None) -> Path:
    folder = root / meta["complaint_no"]
    folder.mkdir(parents=True)
    documents = []
    for index, (kind, name, content) in enumerate(files or complete_files()):
        (folder / f"{index}-{name}").write_bytes(content)
        documents.append({"kind": kind, "file": f"{index}-{name}"})
    (folder / "dossier.json").write_text(
        json.dumps(meta | {"documents": documents}, ensure_ascii=False), encoding="utf-8"
    )
    return folder


def test_init_is_idempotent(cli_env):
    first = run(cli_env, "init")
    second = run(cli_env, "init")
    assert first.returncode == second.returncode == 0
    keyring = Path(cli_env["ARCHIVE_ROOT"]) / "keyring" / "keyring.json"
    assert keyring.stat().st_mode & 0o777 == 0o600


def test_missing_config_is_a_usage_error(cli_env):
    result = run(cli_env, "init", config="/nonexistent.ini")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "nonexistent.ini" in result.stderr


def test_user_add_and_token(cli_env):
    added = run(cli_env, "user", "add", "liwei", "--role", "auditor", "--clearance",
                "confidential", "--password-stdin", stdin="a-long-passphrase\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    again = run(cli_env, "user", "add", "liwei", "--role", "auditor", "--password-stdin",
                stdin="a-long-passphrase\n")  # fmt: skip
    assert again.returncode == 2 and "exists" in again.stderr
    bad_role = run(cli_env, "user", "add", "zhao", "--role", "king", "--password-stdin",
                   stdin="a-long-passphrase\n")  # fmt: skip
    assert bad_role.returncode == 2 and "role" in bad_role.stderr
    token = run(cli_env, "token", "liwei", "--password-stdin", stdin="a-long-passphrase\n")
    assert token.returncode == 0 and len(token.stdout.strip()) > 30
    wrong = run(cli_env, "token", "liwei", "--password-stdin", stdin="wrong-passphrase\n")
    assert wrong.returncode == 2


def test_import_reports_each_folder_and_is_rerun_safe(cli_env, tmp_path):
    good = write_folder(tmp_path, metadata())
    bad_meta = metadata()
    bad_meta["closed_on"] = "2020-01-01"
    bad = write_folder(tmp_path, bad_meta)
    incomplete = write_folder(tmp_path, metadata(), complete_files()[:2])
    unlisted = tmp_path / "scans-without-listing"
    unlisted.mkdir()
    (unlisted / "page1.pdf").write_bytes(b"%PDF-1.4\n")
    first = run(cli_env, "import", str(tmp_path))
    assert first.returncode == 1, first.stderr
    lines = dict(
        (line.split(" ")[1], line) for line in first.stdout.strip().splitlines()
    )  # folder -> line
    assert lines[good.name].startswith("filed ")
    assert lines[bad.name].startswith("failed ") and "closed_on" in lines[bad.name]
    assert (
        lines[incomplete.name].startswith("failed ")
        and "investigation_report" in lines[incomplete.name]
    )
    assert lines[unlisted.name] == "failed scans-without-listing -: no dossier.json in it"
    rerun = run(cli_env, "import", str(tmp_path))
    rerun_lines = dict((line.split(" ")[1], line) for line in rerun.stdout.strip().splitlines())
    assert rerun_lines[good.name].startswith("skipped ")


def test_import_of_an_unusable_folder(cli_env, tmp_path):
    assert run(cli_env, "import", str(tmp_path / "missing")).returncode == 2
    assert run(cli_env, "import", str(tmp_path)).returncode == 2  # no dossier.json anywhere


def test_import_refuses_files_outside_the_folder(cli_env, tmp_path):
    meta = metadata()
    folder = write_folder(tmp_path, meta)
    listing = json.loads((folder / "dossier.json").read_text())
    listing["documents"][0]["file"] = "../../../etc/passwd"
    (folder / "dossier.json").write_text(json.dumps(listing, ensure_ascii=False))
    result = run(cli_env, "import", str(tmp_path))
    assert result.returncode == 1 and "outside" in result.stdout


def test_verify_finds_a_tampered_blob_and_rotation_keeps_everything_readable(cli_env, tmp_path):
    write_folder(tmp_path, metadata())
    assert run(cli_env, "import", str(tmp_path)).returncode == 0
    clean = run(cli_env, "verify")
    assert clean.returncode == 0, clean.stdout + clean.stderr

    rotated = run(cli_env, "keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    assert "re-wrapped" in rotated.stdout
    assert run(cli_env, "verify").returncode == 0  # every data key unwraps under the new KEK

    blobs = sorted((Path(cli_env["ARCHIVE_ROOT"]) / "blobs").rglob("*.blob"))
    victim = blobs[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    broken = run(cli_env, "verify")
    assert broken.returncode == 1
    assert "document " in broken.stdout and ("SHA-256" in broken.stdout
                                             or "authentication" in broken.stdout)  # fmt: skip


def test_verify_repair_collects_orphans(cli_env):
    blobs = Path(cli_env["ARCHIVE_ROOT"]) / "blobs"
    orphan = blobs / "ab" / "cd" / ("ab" + "cd" + "0" * 28 + ".blob")
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"left behind by a crash")
    os.utime(orphan, (1_000_000_000, 1_000_000_000))  # older than any grace period
    listed = run(cli_env, "verify")
    assert "orphan blob" in listed.stdout
    repaired = run(cli_env, "verify", "--repair")
    assert "removed" in repaired.stdout and not orphan.exists()


def test_access_log_export_and_checkpoint(cli_env):
    exported = run(cli_env, "access-log", "export", "--from", "2000-01-01")
    assert exported.returncode == 0, exported.stderr
    lines = exported.stdout.splitlines()
    assert (
        lines[0] == "seq,at,user,role,action,outcome,dossier_id,complaint_no,document_id,ip,detail"
    )
    assert len(lines) > 1
    bad = run(cli_env, "access-log", "export", "--from", "last tuesday")
    assert bad.returncode == 2 and "from" in bad.stderr
    checkpoint = run(cli_env, "access-log", "checkpoint")
    assert checkpoint.returncode == 0 and "seq" in checkpoint.stdout
    assert (Path(cli_env["ARCHIVE_ROOT"]) / "keyring" / "access-log.checkpoints").exists()


def test_reindex_repairs_drift_that_verify_reports(cli_env, tmp_path):
    import shutil

    write_folder(tmp_path, metadata())
    assert run(cli_env, "import", str(tmp_path)).returncode in (0, 1)
    shutil.rmtree(Path(cli_env["ARCHIVE_ROOT"]) / "index")
    drift = run(cli_env, "verify")
    assert "search index: missing" in drift.stdout
    rebuilt = run(cli_env, "reindex")
    assert rebuilt.returncode == 0 and "rebuilt" in rebuilt.stdout
    assert "search index" not in run(cli_env, "verify").stdout


def test_import_of_hostile_folders_files_nothing_and_reports_each(cli_env, tmp_path):
    import os as _os
    import zipfile as _zipfile
    from io import BytesIO

    from factories import complaint_no, docx

    def bomb() -> bytes:
        out = BytesIO()
        with _zipfile.ZipFile(BytesIO(docx())) as source, \
                _zipfile.ZipFile(out, "w", _zipfile.ZIP_DEFLATED) as target:  # fmt: skip
            for item in source.infolist():
                target.writestr(item, source.read(item))
            target.writestr("word/media/zeros.bin", b"\0" * (48 * 2**20))
        return out.getvalue()

    symlinked = write_folder(tmp_path, metadata(complaint_no=complaint_no("I", 2023)))
    victim = next(symlinked.glob("0-*"))
    victim.unlink()
    _os.symlink("/etc/passwd", victim)
    files = [item if item[0] != "handling_sheet" else (item[0], item[1], bomb())
             for item in complete_files()]  # fmt: skip
    write_folder(tmp_path, metadata(complaint_no=complaint_no("I", 2023)), files)
    deep = tmp_path / "deep"
    deep.mkdir()
    (deep / "dossier.json").write_text("[" * 100_000 + "]" * 100_000)
    huge = tmp_path / "huge"
    huge.mkdir()
    (huge / "dossier.json").write_text('{"title": "' + "x" * (3 * 2**20) + '"}')
    result = run(cli_env, "import", str(tmp_path))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "points outside the folder" in result.stdout
    assert "zip bomb" in result.stdout
    assert "nested too deeply" in result.stdout and "larger than 2 MB" in result.stdout
    assert " filed" not in result.stdout


def test_a_dossier_its_products_and_documents_are_written_in_one_flush(cli_env, tmp_path):
    """Filing flushes a new dossier's rows once (was twice: the dossier, then its documents,
    and a lazy load of the new dossier's empty documents between)."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from archive_app.records.models import Document, Dossier

    flushes = []  # per flush writing records rows: the kinds of new rows in it

    def before_flush(session, context, instances):
        kinds = {type(row) for row in session.new} & {Dossier, Document}
        if kinds:
            flushes.append(kinds)

    for _ in range(3):
        write_folder(tmp_path, metadata())
    event.listen(Session, "before_flush", before_flush)
    try:
        imported = run(cli_env, "import", "--batch", "3", str(tmp_path))
    finally:
        event.remove(Session, "before_flush", before_flush)
    assert imported.returncode == 0, imported.stdout
    assert flushes == [{Dossier, Document}] * 3


def test_init_rewrites_segment_files_of_an_earlier_format(tmp_path_factory, tmp_path):
    env = make_cli_env(tmp_path_factory, "cli_upgrade")
    write_folder(tmp_path, metadata())
    assert run(env, "import", str(tmp_path)).returncode == 0
    derived = list((Path(env["ARCHIVE_ROOT"]) / "index").rglob(f"*{segment_files.SUFFIX}"))
    assert derived
    for path in derived:  # as an earlier version wrote them: another format's first bytes
        path.write_bytes(b"ARCDSET1" + path.read_bytes()[len(segment_files.MAGIC) :])
    assert not any(segment_files.is_current(path) for path in derived)
    assert run(env, "init").returncode == 0
    assert all(segment_files.is_current(path) for path in derived)


# Whoosh leaves the damaged table of contents open when it fails to read it: the file is
# closed by the collection at the end of the test, here rather than in a later test.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("command", ["init", "reindex"])
def test_an_index_whose_table_of_contents_is_damaged_is_rebuilt(tmp_path_factory, tmp_path,
                                                                 command):  # fmt: skip
    """Whoosh's own "is there an index" reads the table of contents: a truncated one made
    `archive init` and `archive reindex` (the rebuild verify names) fail with a traceback."""
    env = make_cli_env(tmp_path_factory, f"damaged_toc_{command}")
    meta = metadata()
    write_folder(tmp_path, meta)
    assert run(env, "import", str(tmp_path)).returncode == 0
    tocs = list((Path(env["ARCHIVE_ROOT"]) / "index").glob("gen-*/_MAIN_*.toc"))
    assert tocs
    for toc in tocs:
        toc.write_bytes(toc.read_bytes()[:10])
    assert "search index: missing or unreadable" in run(env, "verify").stdout
    rebuilt = run(env, command)
    assert rebuilt.returncode == 0, rebuilt.stderr
    if command == "init":
        assert "the search index could not be read: rebuilding it" in rebuilt.stdout
    checked = run(env, "verify")
    assert checked.returncode == 0 and "search index" not in checked.stdout
    gc.collect()
