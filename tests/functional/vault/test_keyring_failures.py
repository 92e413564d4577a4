"""A keyring that is missing, unreadable, truncated or wrong: the archive refuses to serve
anything, says why in one line, and never shows or logs key material (issue 6, keys)."""

from __future__ import annotations

import json
import logging
import os

import pytest
import webtest
from factories import file_dossier
from plaster import get_settings
from support import TESTING_INI, run_cli

from archive_app import main
from archive_app.settings import keyring_path
from archive_app.vault.keyring import Keyring


def secrets_of(text: str) -> list[str]:
    document = json.loads(text)
    return [document["field_key"], document["hmac_master"], document["signing_key"],
            *(kek["key"] for kek in document["keks"])]  # fmt: skip


@pytest.fixture
def real_keyring(storage, api) -> str:
    # At least one document, so that a wrong keyring has something it fails to open.
    file_dossier(api)
    return keyring_path({"archive.storage_dir": str(storage)}).read_text()


def bad_keyrings(tmp_path, real: str) -> dict:
    missing = tmp_path / "missing.json"
    folder = tmp_path / "a-folder.json"
    folder.mkdir()
    truncated = tmp_path / "truncated.json"
    truncated.write_text(real[: len(real) // 2])
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\xff\xfe\x00 not a keyring")
    wrong = tmp_path / "wrong.json"
    Keyring.generate().save(wrong)
    return {
        "missing": (missing, "not found"),
        "unreadable": (folder, "unreadable"),
        "truncated": (truncated, "not valid"),
        "garbage": (garbage, "not valid"),
        "wrong": (wrong, "does not open this archive's data keys"),
    }


def test_the_app_refuses_everything_and_says_why(real_keyring, tmp_path, caplog):
    for name, (path, reason) in bad_keyrings(tmp_path, real_keyring).items():
        settings = dict(get_settings(TESTING_INI, "app:main"))
        settings["archive.keyring_path"] = str(path)
        with caplog.at_level(logging.DEBUG):
            app = webtest.TestApp(main({"__file__": TESTING_INI}, **settings))
            api = app.get("/api/v1/dossiers?complaint_no=TS-I-23-001", status=503)
            page = app.get("/login", status=503)
            app.post("/api/v1/auth/token", "{}", status=503)
        # The reason (a path, a field) goes to the server log; callers learn only "locked".
        assert api.json["error"] == "unavailable" and "locked" in api.json["detail"], name
        assert "locked" in page.text and page.headers["Cache-Control"] == "no-store"
        assert reason in caplog.text, name
        for shown in (api.text, page.text):
            assert reason not in shown and str(path) not in shown, name
        secrets = secrets_of(real_keyring)
        if name == "wrong":
            secrets += secrets_of(path.read_text())
        for secret in secrets:
            assert secret not in api.text and secret not in page.text, name
            assert secret not in caplog.text, name


def test_commands_stop_with_one_line(real_keyring, tmp_path):
    for name, (path, reason) in bad_keyrings(tmp_path, real_keyring).items():
        result = run_cli(dict(os.environ, ARCHIVE_KEYRING_PATH=str(path)), "verify")
        assert result.returncode == 2, (name, result.stderr)
        assert reason in result.stderr and "Traceback" not in result.stderr, name
        for secret in secrets_of(real_keyring):
            assert secret not in result.stderr + result.stdout
