"""Issue #13 item 6: `archive init --demo` loads an archive worth reviewing. Checked by SQL
over the archive the command itself filed: ten quarters of counts ending with the last
full quarter, all three outcomes, timelines, a recurring product problem, a batch named
twice, one out-of-control quarter, and no_feedback closures that meet §5.8."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, text
from support import make_cli_env, run_cli

from archive_app.demo.trends import RECURRING, SPIKE_TYPE, demo_quarters


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    env = make_cli_env(tmp_path_factory, "demo")
    # In this process (as `archive` runs it, click's CliRunner): its own process paid the
    # start-up and the archive's full password hashing for each demo account besides.
    result = run_cli(env, "init", "--demo")
    assert result.returncode == 0, result.stderr
    assert "failed" not in result.stdout, result.stdout
    engine = create_engine(env["ARCHIVE_SQLALCHEMY_URL"])
    with engine.connect() as connection:
        rows = (
            connection.execute(
                text(
                    "SELECT d.complaint_no, d.complaint_type, d.received_on, d.closed_on, "
                    "d.outcome, d.timeline, d.complaint_class, p.name, p.batch_no FROM dossiers d "
                    "JOIN product_lines p ON p.dossier_id = d.id"
                )
            )
            .mappings()
            .all()
        )
    engine.dispose()
    return result.stdout, [dict(row) for row in rows]


def received(row) -> date:
    value = row["received_on"]
    return value if isinstance(value, date) else date.fromisoformat(value)


def test_enough_dossiers_over_at_least_eight_quarters_to_the_last_full_one(demo):
    stdout, rows = demo
    numbers = {row["complaint_no"] for row in rows}
    assert 150 <= len(numbers) <= 300
    assert f"demo archive: {len(numbers)} filed" in stdout
    quarters = demo_quarters(date.today())
    assert len(quarters) >= 8
    by_quarter = Counter(
        quarter_of(received(row)) for row in {row["complaint_no"]: row for row in rows}.values()
    )
    for quarter in quarters:
        assert by_quarter[quarter] >= 10, (quarter, by_quarter)
    assert max(by_quarter) == quarters[-1]  # nothing after the last full quarter


def test_all_three_outcomes_and_timelines(demo):
    _stdout, rows = demo
    assert {row["outcome"] for row in rows} == {"justified", "unjustified", "not_established"}
    closures = Counter(_timeline(row).get("closure") for row in rows)
    assert closures["no_feedback"] >= 5 and closures["customer_satisfied"] >= 50
    assert closures["not_established"] >= 5


def _timeline(row) -> dict:
    import json

    value = row["timeline"]
    return (json.loads(value) if isinstance(value, str) else value) or {}


def test_a_recurring_product_problem_and_a_batch_named_twice(demo):
    _stdout, rows = demo
    last = demo_quarters(date.today())[-1]
    end = date(last[0] + (last[1] == 4), 1 if last[1] == 4 else 3 * last[1] + 1, 1)
    window = [row for row in rows if end - timedelta(days=365) <= received(row) < end]
    same = Counter((row["name"], row["complaint_type"]) for row in window)
    assert same[RECURRING] >= 3
    batches = Counter(
        row["batch_no"] for row in window if (row["name"], row["complaint_type"]) == RECURRING
    )
    assert max(batches.values()) >= 2


def test_one_out_of_control_quarter_for_one_type(demo):
    _stdout, rows = demo
    quarters = demo_quarters(date.today())
    counts = Counter(
        quarter_of(received(row))
        for row in {
            r["complaint_no"]: r for r in rows if r["complaint_type"] == SPIKE_TYPE
        }.values()
    )
    before = [counts[quarter] for quarter in quarters[:-1]]
    mean = statistics.mean(before)
    # Above the c-chart's upper limit and above three standard deviations of the others.
    assert counts[quarters[-1]] > mean + 3 * mean**0.5
    assert counts[quarters[-1]] > mean + 3 * statistics.pstdev(before)
    # The other types have no such quarter.
    for complaint_type in {row["complaint_type"] for row in rows} - {SPIKE_TYPE}:
        per = Counter(
            quarter_of(received(r))
            for r in {
                r["complaint_no"]: r for r in rows if r["complaint_type"] == complaint_type
            }.values()
        )
        assert max(per[quarter] for quarter in quarters) <= 6, complaint_type


def test_no_feedback_closures_meet_the_working_day_rule(demo):
    from archive_app.workdays import CalendarSnapshot

    calendar = CalendarSnapshot()  # the packaged calendar: the demo archive loads no overrides
    _stdout, rows = demo
    closed = [row for row in rows if _timeline(row).get("closure") == "no_feedback"]
    assert closed
    for row in closed:
        timeline = _timeline(row)
        replied, reminded = (
            date.fromisoformat(timeline[key]) for key in ("replied_on", "reminded_on")
        )
        closed_on = row["closed_on"]
        closed_on = closed_on if isinstance(closed_on, date) else date.fromisoformat(closed_on)
        assert calendar.working_days_between(replied, reminded) >= 25, row["complaint_no"]
        assert calendar.working_days_between(reminded, closed_on) >= 10, row["complaint_no"]
