"""A log tail that cannot be cut: checkpoints within checkpoint_seconds, recorded in the chain
itself, so cutting entries, removing or replacing the checkpoint file is reported."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import webtest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from support import PASSWORD, TESTING_INI, make_cli_env, run_cli

from archive_app.access.accesslog import AccessLog, Event
from archive_app.access.checkpoints import CheckpointFile
from archive_app.access.models import AccessLogEntry, AccessLogHead
from archive_app.clock import FixedClock
from archive_app.db import get_engine, get_session_factory, writing
from archive_app.interfaces import IDatabase
from archive_app.vault import field_cipher
from archive_app.vault.keyring import Keyring


def storage(env) -> Path:
    return Path(env["ARCHIVE_STORAGE_DIR"])


def checkpoint_file(env) -> Path:
    return storage(env) / "keyring" / "access-log.checkpoints"


def write_entries(env, commands: int) -> None:
    """Commands that each log an entry; each writes a checkpoint as it exits."""
    for _ in range(commands):
        assert run_cli(env, "access-log", "export").returncode == 0


def chain(env) -> list[tuple[int, str]]:
    engine = get_engine({"sqlalchemy.url": env["ARCHIVE_SQLALCHEMY_URL"]})
    try:
        with Session(engine) as session:
            return list(session.execute(select(AccessLogEntry.seq, AccessLogEntry.action)
                                        .order_by(AccessLogEntry.seq)))  # fmt: skip
    finally:
        engine.dispose()


def cut_tail(env, keep: int) -> None:
    """What an insider with the database does: delete the newest entries, fix the head."""
    engine = get_engine({"sqlalchemy.url": env["ARCHIVE_SQLALCHEMY_URL"]})
    try:
        with Session(writing(engine)) as session, session.begin():
            kept = session.get(AccessLogEntry, keep)
            session.execute(delete(AccessLogEntry).where(AccessLogEntry.seq > keep))
            session.execute(update(AccessLogHead).values(seq=keep, mac=kept.mac))
    finally:
        engine.dispose()


def problems(env) -> list[str]:
    result = run_cli(env, "verify")
    lines = [line for line in result.stdout.splitlines() if "problem(s)" not in line]
    assert (result.returncode == 1) == bool(lines), result.stdout + result.stderr
    return lines


def test_every_command_that_logs_leaves_its_entries_checkpointed(tmp_path_factory):
    env = make_cli_env(tmp_path_factory, "tail_exit")
    write_entries(env, 2)
    assert [action for _seq, action in chain(env)] == ["export", "checkpoint"] * 2
    assert len(checkpoint_file(env).read_text().splitlines()) == 2
    assert problems(env) == []


def test_deleting_the_newest_entries_and_fixing_the_head_is_reported(tmp_path_factory):
    env = make_cli_env(tmp_path_factory, "tail_cut")
    write_entries(env, 3)
    cut_tail(env, keep=3)  # export, checkpoint, export: the last checkpoint is gone
    found = problems(env)
    assert any(line.startswith("access-log seq 4: missing") for line in found), found


def test_deleting_the_checkpoint_file_then_cutting_the_tail_is_reported(tmp_path_factory):
    env = make_cli_env(tmp_path_factory, "tail_nofile")
    write_entries(env, 3)
    checkpoint_file(env).unlink()
    cut_tail(env, keep=4)  # ends on a checkpoint entry, as an untouched log would
    found = problems(env)
    assert any(line.startswith("access-log.checkpoints: missing") for line in found), found


def test_a_replaced_checkpoint_file_is_reported(tmp_path_factory, tmp_path):
    env = make_cli_env(tmp_path_factory, "tail_replaced")
    write_entries(env, 1)
    older = tmp_path / "older.checkpoints"
    shutil.copy(checkpoint_file(env), older)
    write_entries(env, 2)
    shutil.copy(older, checkpoint_file(env))  # an older copy: valid lines, the newest gone
    found = problems(env)
    assert found and found[0].startswith("access-log seq 4: a checkpoint of the chain"), found

    other = make_cli_env(tmp_path_factory, "tail_other")
    write_entries(other, 3)
    shutil.copy(checkpoint_file(other), checkpoint_file(env))  # another archive's, other key
    found = problems(env)
    assert "access-log.checkpoints: line 1 does not verify" in found[0], found


class ManualTimers:
    """Timers a test fires by hand, instead of sleeping."""

    def __init__(self):
        self.armed: list[tuple[float, object]] = []

    def schedule(self, delay, callback):
        self.armed.append((delay, callback))

    def fire(self):
        _delay, callback = self.armed.pop(0)
        callback()


def test_checkpoints_follow_writing_and_quiet_periods_on_the_injected_clock(tmp_path_factory):
    env = make_cli_env(tmp_path_factory, "tail_clock")
    keyring = Keyring.load(storage(env) / "keyring" / "keyring.json")
    engine = get_engine({"sqlalchemy.url": env["ARCHIVE_SQLALCHEMY_URL"]})
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    timers, exits = ManualTimers(), []
    log = AccessLog(keyring.hmac_key("access-log"), clock,
                    get_session_factory(writing(engine)), field_cipher(keyring),
                    CheckpointFile(checkpoint_file(env), keyring), checkpoint_seconds=60,
                    timers=timers, at_exit=exits.append)  # fmt: skip

    def step(seconds: int) -> list[str]:
        clock.at += timedelta(seconds=seconds)
        log.append_now(Event(action="view", username="auditor"))
        return [action for _seq, action in chain(env)]

    try:
        assert step(0) == ["view"]  # nothing covers it yet: a timer is armed for 60 s on
        assert [delay for delay, _ in timers.armed] == [60]
        assert step(30) == ["view"] * 2
        assert step(31) == ["view"] * 3 + ["checkpoint"]  # 61 s after the first: at once
        assert step(10) == ["view"] * 3 + ["checkpoint", "view"]
        assert len(timers.armed) == 2  # the first is late: one for this entry's deadline
        clock.at += timedelta(seconds=60)
        timers.fire()  # a quiet minute: the late timer covers the last entry,
        timers.fire()  # and the other finds nothing new
        actions = [action for _seq, action in chain(env)]
        assert actions[-2:] == ["view", "checkpoint"] and actions.count("checkpoint") == 2
        assert len(exits) == 1

        step(5)
        with Session(engine) as session:
            assert log.verify(session).ok  # 5 s old: not yet due
        clock.at += timedelta(seconds=120)
        with Session(engine) as session:
            report = log.verify(session)
        assert not report.ok and "older than 60 s" in report.problems[0], report
        exits[0]()  # the process ends: the exit checkpoint covers it
        with Session(engine) as session:
            assert log.verify(session).ok
    finally:
        engine.dispose()
    assert problems(env) == []  # the command line agrees


@pytest.fixture
def own_app(tmp_path_factory, monkeypatch):
    """The web app over a storage of its own, to tamper with its checkpoint file."""
    from pyramid.paster import get_app

    env = make_cli_env(tmp_path_factory, "tail_api")
    for name in ("ARCHIVE_STORAGE_DIR", "ARCHIVE_SQLALCHEMY_URL"):
        monkeypatch.setenv(name, env[name])
    result = run_cli(env, "user", "add", "chen", "--role", "privacy_officer", "--password-stdin",
                     stdin=f"{PASSWORD}\n")  # fmt: skip
    assert result.returncode == 0, result.stderr
    wsgi = get_app(TESTING_INI)
    yield env, webtest.TestApp(wsgi, extra_environ={"REMOTE_ADDR": "192.0.2.10"})
    wsgi.registry.getUtility(IDatabase).dispose()


def test_the_api_reports_a_removed_checkpoint_file(own_app):
    env, app = own_app
    token = app.post_json("/api/v1/auth/token", {"username": "chen", "password": PASSWORD}).json
    headers = {"Authorization": f"Bearer {token['token']}"}
    write_entries(env, 2)
    body = app.get("/api/v1/access-log/verify", headers=headers).json
    assert body["ok"] is True and body["problems"] == [], body
    checkpoint_file(env).unlink()
    body = app.get("/api/v1/access-log/verify", headers=headers).json
    assert body["ok"] is False
    assert set(body) == {"ok", "entries", "first_bad_seq", "problems"}
    assert any(line.startswith("access-log.checkpoints: missing") for line in body["problems"])
    # The review page says the same, line by line (a problem in the file has no first bad seq).
    form = app.get("/login").forms[0]
    form["username"], form["password"] = "chen", PASSWORD
    form.submit()
    page = app.get("/access-log")
    assert "access-log.checkpoints: missing" in page.text
    assert "None" not in page.html.select_one(".chain.error").text
