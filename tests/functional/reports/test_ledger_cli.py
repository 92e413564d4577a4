"""`archive report ledger [--from DATE] [--to DATE] --xlsx FILE` against an archive of its
own: the workbook of every level (the command line reads as SYSTEM), personal data masked,
the export logged; bad dates and an unusable target are one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from factories import complaint_no, complete_files, metadata
from openpyxl import load_workbook
from support import make_cli_env, run_cli


@pytest.fixture(scope="module")
def cli_archive(tmp_path_factory):
    """An archive with three dossiers, filed by `archive import`: 2023, 2024 (restricted), 2025."""
    env = make_cli_env(tmp_path_factory, "cli_ledger")
    folder = tmp_path_factory.mktemp("ledger_import")
    numbers = []
    for year, level in ((2023, "internal"), (2024, "restricted"), (2025, "confidential")):
        meta = metadata(complaint_no=complaint_no("II", year), complaint_class="II",
                        received_on=f"{year}-05-12", closed_on=f"{year}-07-03",
                        confidentiality=level)  # fmt: skip
        dossier = folder / meta["complaint_no"]
        dossier.mkdir()
        documents = []
        for index, (kind, name, content) in enumerate(complete_files()):
            (dossier / f"{index}-{name}").write_bytes(content)
            documents.append({"kind": kind, "file": f"{index}-{name}"})
        listing = json.dumps(meta | {"documents": documents}, ensure_ascii=False)
        (dossier / "dossier.json").write_text(listing, encoding="utf-8")
        numbers.append(meta["complaint_no"])
    imported = run_cli(env, "import", str(folder))
    assert imported.returncode == 0, imported.stdout + imported.stderr
    return env, numbers


def sheet_rows(path: Path) -> list[tuple]:
    book = load_workbook(path, read_only=True)  # holds the file open until closed
    try:
        return list(book.worksheets[0].iter_rows(values_only=True))
    finally:
        book.close()


def test_the_command_writes_every_level_masked_and_logs_the_export(cli_archive, tmp_path):
    env, numbers = cli_archive
    target = tmp_path / "台账.xlsx"
    result = run_cli(env, "report", "ledger", "--xlsx", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"3 dossiers written to {target}"
    header, *rows = sheet_rows(target)
    assert header[:3] == ("登记编号", "投诉类别", "投诉类型")
    assert [row[0] for row in rows] == numbers  # the restricted one included: SYSTEM reads all
    assert {row[11] for row in rows} == {"张**"} and {row[13] for row in rows} == {"138****5678"}
    exported = run_cli(env, "access-log", "export")
    lines = [line for line in exported.stdout.splitlines() if ",export," in line]
    assert any("ledger workbook" in line and "cli" in line for line in lines), lines


def test_from_and_to_choose_the_received_period(cli_archive, tmp_path):
    env, numbers = cli_archive
    target = tmp_path / "ledger-2024.xlsx"
    result = run_cli(env, "report", "ledger", "--from", "2024-01-01", "--to", "2024-12-31",
                     "--xlsx", str(target))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [row[0] for row in sheet_rows(target)[1:]] == numbers[1:2]


def test_class_and_product_filter_as_the_api_does(cli_archive, tmp_path):
    env, numbers = cli_archive
    target = tmp_path / "ledger-class.xlsx"
    result = run_cli(env, "report", "ledger", "--class", "II", "--product", "莫西林",
                     "--xlsx", str(target))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [row[0] for row in sheet_rows(target)[1:]] == numbers
    nothing = run_cli(env, "report", "ledger", "--class", "I", "--xlsx", str(target))
    assert nothing.stdout.strip() == f"0 dossiers written to {target}"
    assert sheet_rows(target)[0][0] == "登记编号"  # headers even when no row matches
    bad = run_cli(env, "report", "ledger", "--class", "IV", "--xlsx", str(target))
    assert bad.returncode == 2


@pytest.mark.parametrize(("args", "reason"), [
    (["--from", "2024-02-30"], "--from is not a real calendar date"),
    (["--to", "31/12/2024"], "--to must be a date as YYYY-MM-DD"),
    (["--from", "2025-01-01", "--to", "2024-01-01"], "--from is later than --to"),
])  # fmt: skip
def test_bad_dates_are_one_line_and_exit_2(cli_archive, tmp_path, args, reason):
    env, _numbers = cli_archive
    target = tmp_path / "never.xlsx"
    result = run_cli(env, "report", "ledger", *args, "--xlsx", str(target))
    assert result.returncode == 2
    assert result.stderr.strip() == f"archive: {reason}"
    assert not target.exists()


def test_an_unusable_target_exits_2(cli_archive, tmp_path):
    env, _numbers = cli_archive
    missing = run_cli(env, "report", "ledger", "--xlsx", str(tmp_path / "no" / "such.xlsx"))
    assert missing.returncode == 2 and missing.stderr.startswith("archive: no folder ")
    assert len(missing.stderr.strip().splitlines()) == 1
    without = run_cli(env, "report", "ledger")
    assert without.returncode == 2 and "--xlsx" in without.stderr


def test_the_report_group_lists_the_ledger(cli_archive):
    env, _numbers = cli_archive
    assert "report" in run_cli(env, "--help").stdout
    assert "ledger" in run_cli(env, "report", "--help").stdout
