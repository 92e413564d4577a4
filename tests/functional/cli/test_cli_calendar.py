"""`archive calendar load` and `show`: next year's announcement loaded by an admin, read back
by the calendar service; a bad file loads nothing."""

from __future__ import annotations

import pytest
from support import make_cli_env, run_cli

ANNOUNCEMENT_2031 = """date,kind,name
2031-01-01,holiday,元旦
2031-01-04,workday,元旦调休
2031-01-22,holiday,春节
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return make_cli_env(tmp_path_factory, "cli_calendar")


def test_a_year_unknown_until_its_announcement_is_loaded(env, tmp_path):
    unknown = run_cli(env, "calendar", "show", "2031")
    assert unknown.returncode == 2 and "does not know 2031" in unknown.stderr

    path = tmp_path / "2031.csv"
    path.write_text(ANNOUNCEMENT_2031, encoding="utf-8")
    loaded = run_cli(env, "calendar", "load", str(path))
    assert loaded.returncode == 0, loaded.stderr
    assert "3 days of 2031" in loaded.stdout

    shown = run_cli(env, "calendar", "show", "2031")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == [
        "2031-01-01 holiday", "2031-01-04 workday", "2031-01-22 holiday",
        # 261 weekdays in 2031, two announced holidays off, one make-up Saturday on
        "2031: 260 working days (loaded)",
    ]  # fmt: skip

    # Loading the year again replaces its days (a corrected announcement).
    path.write_text("2031-01-01,holiday,元旦\n", encoding="utf-8")
    assert run_cli(env, "calendar", "load", str(path)).returncode == 0
    assert run_cli(env, "calendar", "show", "2031").stdout.splitlines() == [
        "2031-01-01 holiday", "2031: 260 working days (loaded)"]  # fmt: skip


def test_the_packaged_years_are_known_without_loading(env):
    shown = run_cli(env, "calendar", "show", "2025")
    assert shown.returncode == 0 and "2025-09-28 workday" in shown.stdout
    assert "2025-10-08 holiday" in shown.stdout and "(chinesecalendar)" in shown.stdout


@pytest.mark.parametrize(("content", "message"), [
    ("2032-01-01,holiday\n2032-02-30,holiday\n", "is not a date"),
    ("2032-01-01,vacation\n", "kind must be holiday or workday"),
    ("2032-01-01,holiday\n2032-01-01,workday\n", "listed twice"),
    ("date,kind,name\n", "no days"),
])  # fmt: skip
def test_a_bad_file_is_refused_in_one_line_and_loads_nothing(env, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    refused = run_cli(env, "calendar", "load", str(path))
    assert refused.returncode == 2 and message in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert run_cli(env, "calendar", "show", "2032").returncode == 2  # still unknown
