"""`archive retention …` and `archive certificate verify`, including a kill at every step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from factories import complaint_no, complete_files, metadata
from sqlalchemy import text
from support import make_cli_env, run_cli, run_cli_process

from archive_app.db import get_engine

STEPS = ["marked", "index_purged", "erased", "certified", "unlinked"]


def write_old_dossier(root: Path, expiry: str | None = "2019-06", **overrides) -> str:
    """A dossier closed on 2019-04-01 for `archive import` under `root`; its number."""
    meta = metadata(
        complaint_no=complaint_no("II", 2019), complaint_class="II", received_on="2019-03-01",
        closed_on="2019-04-01", products=[{"name": "板蓝根颗粒", "batch_no": "BG1901",
                                           "expiry": expiry}], **overrides,
    )  # fmt: skip
    folder = root / meta["complaint_no"]
    folder.mkdir(parents=True)
    documents = []
    for index, (kind, name, content) in enumerate(complete_files()):
        (folder / f"{index}-{name}").write_bytes(content)
        documents.append({"kind": kind, "file": f"{index}-{name}"})
    listing = json.dumps(meta | {"documents": documents}, ensure_ascii=False)
    (folder / "dossier.json").write_text(listing, encoding="utf-8")
    return meta["complaint_no"]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return make_cli_env(tmp_path_factory, "cli_retention")


def test_due_dry_run_and_future_dates(env, tmp_path):
    number = write_old_dossier(tmp_path)
    assert run_cli(env, "import", str(tmp_path)).returncode == 0
    due = run_cli(env, "retention", "due", "--as-of", "2021-01-01")
    assert due.returncode == 0 and number in due.stdout and "due" in due.stdout
    dry = run_cli(env, "retention", "run", "--as-of", "2999-01-01", "--dry-run")
    assert dry.returncode == 0 and f"would destroy {number}" in dry.stdout
    refused = run_cli(env, "retention", "run", "--as-of", "2999-01-01")
    assert refused.returncode == 2 and "dry run" in refused.stderr
    assert run_cli(env, "retention", "run", "--as-of", "someday").returncode == 2


@pytest.mark.parametrize("step", STEPS)
def test_killed_at_each_step_a_rerun_finishes_the_work(tmp_path_factory, tmp_path, step):
    env = make_cli_env(tmp_path_factory, f"cli_kill_{step}")
    number = write_old_dossier(tmp_path)
    assert run_cli(env, "import", str(tmp_path)).returncode == 0
    killed = run_cli_process(env | {"ARCHIVE_FAULT": step}, "retention", "run", "--as-of",
                             "2021-01-01")  # fmt: skip
    assert killed.returncode == 137, killed.stderr
    rerun = run_cli(env, "retention", "run", "--as-of", "2021-01-01")
    assert rerun.returncode == 0, rerun.stderr
    certificates = sorted((Path(env["ARCHIVE_ROOT"]) / "certificates").glob("*.json"))
    if step in ("marked", "index_purged"):
        assert f"destroyed {number}" in rerun.stdout
    else:
        assert "destroyed" not in rerun.stdout  # the killed run had erased it already
    if step != "unlinked":  # killed before: the rerun issued (and exported) the certificate
        records = [r["complaint_no"] for c in certificates
                   for r in json.loads(c.read_text(encoding="utf-8"))["records"]]  # fmt: skip
        assert records == [number]
    assert not list((Path(env["ARCHIVE_ROOT"]) / "blobs").rglob("*.blob"))
    again = run_cli(env, "retention", "run", "--as-of", "2021-01-01")
    assert "destroyed" not in again.stdout  # nothing is destroyed twice
    verified = run_cli(env, "verify")
    assert verified.returncode == 0, verified.stdout
    due = run_cli(env, "retention", "due", "--as-of", "2021-01-01")
    assert number not in due.stdout
    for certificate in certificates:
        assert run_cli(env, "certificate", "verify", str(certificate)).returncode == 0


def test_certificate_verify_detects_tampering(env, tmp_path):
    write_old_dossier(tmp_path)
    assert run_cli(env, "import", str(tmp_path)).returncode == 0
    result = run_cli(env, "retention", "run", "--as-of", "2021-01-01")
    line = next(line for line in result.stdout.splitlines() if line.startswith("certificate "))
    path = Path(line.split()[2])
    assert run_cli(env, "certificate", "verify", str(path)).returncode == 0
    assert path.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    certificate = json.loads(path.read_text(encoding="utf-8"))
    certificate["operator"] = "someone else"
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(certificate, ensure_ascii=False), encoding="utf-8")
    bad = run_cli(env, "certificate", "verify", str(forged))
    assert bad.returncode == 1 and "signature" in bad.stdout
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    assert run_cli(env, "certificate", "verify", str(garbage)).returncode == 2


def test_recompute_applies_a_changed_rule_set_and_keeps_the_history(tmp_path_factory, tmp_path):
    env = make_cli_env(tmp_path_factory, "cli_recompute")
    number = write_old_dossier(tmp_path)
    assert run_cli(env, "import", str(tmp_path)).returncode == 0
    unchanged = run_cli(env, "retention", "recompute")
    assert unchanged.returncode == 0 and "0 of 1 dossier(s) changed" in unchanged.stderr
    eu_gmp = dict(env, ARCHIVE_RETENTION_RULE="eu-gmp")
    changed = run_cli(eu_gmp, "retention", "recompute")
    assert changed.returncode == 0, changed.stderr
    # Closed 2019-04-01, certification unknown: 2024-04-01 instead of 2020-06-30.
    assert f"{number}\tdestroy_after 2020-06-30 → 2024-04-01" in changed.stdout
    assert "retention_rule expiry-plus-1y v1 → eu-gmp v1" in changed.stdout
    due = run_cli(eu_gmp, "retention", "due", "--as-of", "2021-01-01")
    assert number not in due.stdout
    assert "1 of 1" not in run_cli(eu_gmp, "retention", "recompute").stderr  # idempotent
    assert run_cli(dict(env, ARCHIVE_RETENTION_RULE="forever"), "retention",
                   "recompute").returncode == 2  # fmt: skip


def retention_state(env) -> dict:
    """Every row a recomputation could write: dates and rules, corrections, the access log
    and its head, and the retention-bucket keys."""
    engine = get_engine({"sqlalchemy.url": env["ARCHIVE_SQLALCHEMY_URL"]})
    try:
        with engine.connect() as connection:
            rows = {table: connection.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()
                    for table in ("dossiers", "product_lines", "dossier_corrections",
                                  "access_log", "access_log_head")}  # fmt: skip
    finally:
        engine.dispose()
    keys = Path(env["ARCHIVE_ROOT"]) / "keyring" / "retention-keys.json"
    return rows | {"bucket keys": keys.read_bytes() if keys.exists() else None}


def test_recompute_preview_lists_what_recompute_then_changes_and_changes_nothing(
    tmp_path_factory, tmp_path
):
    env = make_cli_env(tmp_path_factory, "cli_recompute_preview")
    moving = write_old_dossier(tmp_path / "moving")  # 2019-06 + 1 y; gsp: closed + 5 y
    # Restricted: the scheduled command reads at every level, the preview too.
    relabelled = write_old_dossier(tmp_path / "relabelled", "2030-06",
                                   confidentiality="restricted")  # fmt: skip
    unchanged = write_old_dossier(tmp_path / "unchanged", None)  # closed + 5 y either way
    for folder in ("moving", "relabelled", "unchanged"):
        assert run_cli(env, "import", str(tmp_path / folder)).returncode == 0
    gsp = dict(env, ARCHIVE_RETENTION_RULE="gsp")
    before = retention_state(env)

    preview = run_cli(gsp, "retention", "recompute", "--preview")
    assert preview.returncode == 0, preview.stderr
    lines = dict(line.split("\t") for line in preview.stdout.splitlines())
    assert lines == {
        moving: "destroy_after 2020-06-30 → 2024-04-01; retention_rule expiry-plus-1y v1 → gsp v1",
        relabelled: "retention_rule expiry-plus-1y v1 → gsp v1",  # 2031-06-30 under both
    }
    assert unchanged not in preview.stdout
    assert "2 of 3 dossier(s) would change (preview: nothing changed)" in preview.stderr
    assert retention_state(env) == before

    applied = run_cli(gsp, "retention", "recompute")
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout == preview.stdout  # the same dossiers, the same changes, in order
    after = retention_state(env)
    assert after != before and len(after["dossier_corrections"]) == 2
    again = run_cli(gsp, "retention", "recompute", "--preview")
    assert again.stdout == "" and "0 of 3 dossier(s) would change" in again.stderr
    assert retention_state(env) == after


def test_recompute_preview_is_in_the_help_and_refuses_an_unknown_rule_set(env):
    helped = run_cli(env, "retention", "recompute", "--help")
    assert helped.returncode == 0 and "--preview" in helped.stdout
    unknown = run_cli(dict(env, ARCHIVE_RETENTION_RULE="forever"), "retention", "recompute",
                      "--preview")  # fmt: skip
    assert unknown.returncode == 2 and unknown.stdout == ""


def test_approval_mode_proposes_and_a_records_manager_approves(tmp_path_factory, tmp_path):
    env = dict(make_cli_env(tmp_path_factory, "cli_approval"), ARCHIVE_RETENTION_APPROVAL="true")
    number = write_old_dossier(tmp_path)
    assert run_cli(env, "import", str(tmp_path)).returncode == 0
    # Cleared for the dossier's level: an approver destroys only what they may read.
    assert run_cli(env, "user", "add", "wangfang", "--role", "records_manager", "--clearance",
                   "restricted", "--password-stdin",
                   stdin="correct-horse-battery\n").returncode == 0  # fmt: skip
    proposed = run_cli(env, "retention", "run", "--as-of", "2021-01-01")
    assert proposed.returncode == 0, proposed.stderr
    assert f"proposed {number}" in proposed.stdout and "destroyed" not in proposed.stdout
    proposal_id = proposed.stdout.split("proposal ")[1].split()[0]
    due = run_cli(env, "retention", "due", "--as-of", "2021-01-01")
    assert number in due.stdout  # still there: nothing destroyed before approval
    stranger = run_cli(env, "retention", "approve", proposal_id, "--as", "nobody")
    assert stranger.returncode == 2 and "not an active records manager" in stranger.stderr
    approved = run_cli(env, "retention", "approve", proposal_id, "--as", "wangfang")
    assert approved.returncode == 0, approved.stderr
    assert f"destroyed {number}" in approved.stdout and "certificate " in approved.stdout
    again = run_cli(env, "retention", "reject", proposal_id, "--as", "wangfang")
    assert again.returncode == 2 and "already approved" in again.stderr
