"""`archive report review PERIOD --as USER` and `archive report verify FILE.json`: the files it
writes, and verify's exit codes (0 valid, 1 not the archive's or changed, 2 unreadable)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
import webtest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from factories import complaint_no, file_dossier, metadata
from openpyxl import load_workbook
from support import run_cli

from archive_app.interfaces import IKeyring
from archive_app.vault.signatures import public_key_text, sign_document

PERIOD = "2015Q1"  # no other test files dossiers received in 2015


@pytest.fixture(scope="module")
def issued(wsgi_app, tokens):
    """One dossier in the quarter, and the review the command issues of it: (stdout lines)."""
    from conftest import Api

    api = Api(webtest.TestApp(wsgi_app), tokens)
    number = complaint_no("III", 2015)
    file_dossier(api, metadata(complaint_no=number, complaint_class="III", received_on="2015-02-02",
                               closed_on="2015-02-20", confidentiality="internal",
                               products=[{"name": "复方丹参片", "batch_no": "DS1502",
                                          "expiry": "2099-12"}]))  # fmt: skip
    result = run_cli(dict(os.environ), "report", "review", PERIOD, "--as", "archivist_internal")
    assert result.returncode == 0, result.stderr
    return number, result.stdout.split()


def test_the_command_prints_the_id_and_writes_json_pdf_and_workbook(issued):
    number, lines = issued
    assert lines[0] == "review" and len(lines[1]) == 32
    paths = {path.rsplit(".", 1)[1]: path for path in lines[2:]}
    assert set(paths) == {"json", "pdf", "xlsx"}
    review = json.loads(Path(paths["json"]).read_text(encoding="utf-8"))
    assert review["review_id"] == lines[1] and review["complaint_nos"] == [number]
    assert review["author"] == "archivist_internal" and review["scope"] == "internal"
    assert Path(paths["pdf"]).read_bytes()[:5] == b"%PDF-"
    book = load_workbook(paths["xlsx"], read_only=True)  # holds the file open until closed
    numbers = [row[0] for row in book["投诉编号"].iter_rows(min_row=2, values_only=True)]
    book.close()
    assert numbers == [number]
    assert oct(os.stat(paths["json"]).st_mode & 0o777) == "0o600"


def test_the_command_refuses_a_non_archivist_and_a_bad_period(issued):
    refused = run_cli(dict(os.environ), "report", "review", PERIOD, "--as", "auditor")
    assert refused.returncode == 2 and "not an active archivist" in refused.stderr
    bad = run_cli(dict(os.environ), "report", "review", "2015Q9", "--as", "archivist")
    assert bad.returncode == 2 and "period" in bad.stderr


def test_verify_accepts_the_archive_signature_only(issued, tmp_path, wsgi_app):
    path = issued[1][2]
    env = dict(os.environ)
    good = run_cli(env, "report", "verify", path)
    assert good.returncode == 0 and "valid" in good.stdout

    review = json.loads(Path(path).read_text(encoding="utf-8"))
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(dict(review, period="2015Q2"), ensure_ascii=False))
    assert run_cli(env, "report", "verify", str(changed)).returncode == 1

    # Signed by another key, carrying that key: the signature verifies, the key is not ours.
    forger = Ed25519PrivateKey.generate()
    body = {k: v for k, v in review.items() if k != "signature"}
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(sign_document(body | {"public_key": public_key_text(forger)},
                                               forger)))  # fmt: skip
    answer = run_cli(env, "report", "verify", str(forged))
    assert answer.returncode == 1 and "not the archive's signing key" in answer.stdout

    # Without the archive's configuration, against the published key alone.
    archive_key = base64.b64encode(wsgi_app.registry.getUtility(IKeyring).public_key_bytes())
    offline = run_cli(env, "report", "verify", path, "--public-key", archive_key.decode(),
                      config=str(tmp_path / "no-such.ini"))  # fmt: skip
    assert offline.returncode == 0, offline.stderr
    other = run_cli(env, "report", "verify", path, "--public-key",
                    public_key_text(forger), config=str(tmp_path / "no-such.ini"))  # fmt: skip
    assert other.returncode == 1

    unreadable = tmp_path / "broken.json"
    unreadable.write_text("{not json")
    assert run_cli(env, "report", "verify", str(unreadable)).returncode == 2
    missing = tmp_path / "partial.json"
    missing.write_text(json.dumps({"review_id": "x"}))
    assert run_cli(env, "report", "verify", str(missing)).returncode == 1
