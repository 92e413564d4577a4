"""Certificates are the archive's only under the archive's signing key (contract §7): the
keyring's or the one given with --public-key, never the key a certificate carries."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import zlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from support import make_cli_env, run_cli
from test_cli_retention import write_old_dossier

from archive_app.db import get_engine, writing
from archive_app.retention.certificates import canonical_json
from archive_app.retention.models import Certificate


def destroy_one(env, folder: Path) -> Path:
    """Import one dossier that is long due and destroy it: the certificate's JSON file."""
    write_old_dossier(folder)
    assert run_cli(env, "import", str(folder)).returncode == 0
    result = run_cli(env, "retention", "run", "--as-of", "2021-01-01")
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("certificate "))
    return Path(line.split()[2])


def archive_key(env) -> str:
    result = run_cli(env, "certificate", "key")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def resign(certificate: dict, key: Ed25519PrivateKey) -> dict:
    """A forger's certificate: content changed, signed with their own key, which it carries."""
    raw = key.public_key().public_bytes_raw()
    body = {k: v for k, v in certificate.items() if k != "signature"}
    body["public_key"] = base64.b64encode(raw).decode("ascii")
    signature = key.sign(canonical_json(body))
    return body | {"signature": base64.b64encode(signature).decode("ascii")}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return make_cli_env(tmp_path_factory, "cert_trust")


@pytest.fixture(scope="module")
def issued(env, tmp_path_factory) -> Path:
    return destroy_one(env, tmp_path_factory.mktemp("cert_trust_import"))


def test_a_certificate_re_signed_with_another_key_is_refused(env, issued, tmp_path):
    forged = resign(json.loads(issued.read_text(encoding="utf-8")) | {"operator": "nobody"},
                    Ed25519PrivateKey.generate())  # fmt: skip
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged, ensure_ascii=False), encoding="utf-8")
    result = run_cli(env, "certificate", "verify", str(path))
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 1 and "not the archive's" in result.stdout
    with_key = run_cli(env, "certificate", "verify", str(path), "--public-key", archive_key(env))
    assert with_key.returncode == 1 and "not the archive's" in with_key.stdout


def test_certificate_key_prints_the_key_and_its_fingerprint(env):
    result = run_cli(env, "certificate", "key")
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 1
    raw = base64.b64decode(result.stdout.strip(), validate=True)
    digest = hashlib.sha256(raw).hexdigest()
    grouped = " ".join(digest[i : i + 4] for i in range(0, 64, 4))
    assert len(raw) == 32 and grouped in result.stderr
    assert "SHA-256" in run_cli(env, "certificate", "key", "--help").stdout


def test_the_archive_key_verifies_without_the_keyring(env, issued, tmp_path):
    key = archive_key(env)
    no_keyring = dict(env, ARCHIVE_STORAGE_DIR=str(tmp_path))  # nothing there
    result = run_cli(no_keyring, "certificate", "verify", str(issued), "--public-key", key)
    assert result.returncode == 0, result.stdout + result.stderr
    refused = run_cli(no_keyring, "certificate", "verify", str(issued))
    assert refused.returncode == 2 and len(refused.stderr.splitlines()) == 1, refused.stderr
    assert "--public-key" in refused.stderr
    # No configuration at all, as a verifier outside the archive runs it: no ini file where
    # the command is pointed (the default, development.ini, is not in the verifier's folder).
    offline = run_cli(env, "certificate", "verify", str(issued), "--public-key", key,
                      config=str(tmp_path / "development.ini"))  # fmt: skip
    assert offline.returncode == 0, offline.stderr
    other = base64.b64encode(Ed25519PrivateKey.generate().public_key().public_bytes_raw())
    wrong = run_cli(no_keyring, "certificate", "verify", str(issued), "--public-key",
                    other.decode("ascii"))  # fmt: skip
    assert wrong.returncode == 1
    bad = run_cli(no_keyring, "certificate", "verify", str(issued), "--public-key", "abc")
    assert bad.returncode == 2


def pdf_text(pdf: bytes) -> bytes:
    """The page content streams, inflated (ReportLab writes them ASCII85 and Flate encoded)."""
    text = b""
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        data = stream.strip()
        if data.endswith(b"~>"):
            data = base64.a85decode(data, adobe=True) if data.startswith(b"<~") else (
                base64.a85decode(b"<~" + data, adobe=True))  # fmt: skip
        try:
            text += zlib.decompress(data)
        except zlib.error:
            continue  # a font program
    return text


def test_the_pdf_prints_the_signing_key_fingerprint(env, issued):
    digest = hashlib.sha256(base64.b64decode(archive_key(env))).hexdigest()
    text = pdf_text(issued.with_suffix(".pdf").read_bytes())
    assert b"fingerprint" in text
    assert all(digest[i : i + 4].encode() in text for i in range(0, 64, 4))


def tamper(env, certificate_id: str, change) -> None:
    engine = get_engine({"sqlalchemy.url": env["ARCHIVE_SQLALCHEMY_URL"]})
    try:
        with Session(writing(engine)) as session, session.begin():
            row = session.get(Certificate, certificate_id)
            session.execute(update(Certificate).where(Certificate.id == certificate_id)
                            .values(**change(row)))  # fmt: skip
    finally:
        engine.dispose()


def verify_lines(env) -> list[str]:
    result = run_cli(env, "verify")
    lines = [line for line in result.stdout.splitlines() if "problem(s)" not in line]
    assert (result.returncode == 1) == bool(lines), result.stdout + result.stderr
    return lines


def test_archive_verify_names_an_edited_stored_certificate(tmp_path_factory, tmp_path):
    env = make_cli_env(tmp_path_factory, "cert_stored")
    path = destroy_one(env, tmp_path)
    certificate_id = path.stem
    assert verify_lines(env) == []
    original = path.read_text(encoding="utf-8")

    edited = json.loads(original) | {"operator": "nobody"}
    tamper(env, certificate_id, lambda row: {"body": json.dumps(edited, sort_keys=True)})
    found = verify_lines(env)
    assert found and all(line.startswith(f"certificate {certificate_id}") for line in found)
    assert any("signature" in line for line in found), found

    forged = resign(edited, Ed25519PrivateKey.generate())  # carried key and digest fixed too
    tamper(env, certificate_id, lambda row: {
        "body": json.dumps(forged, sort_keys=True),
        "sha256": hashlib.sha256(canonical_json(forged)).hexdigest()})  # fmt: skip
    found = verify_lines(env)
    assert any(line.startswith(f"certificate {certificate_id}") and "not the archive's" in line
               for line in found), found  # fmt: skip

    tamper(env, certificate_id, lambda row: {"body": original,
                                             "sha256": hashlib.sha256(canonical_json(
                                                 json.loads(original))).hexdigest()})  # fmt: skip
    assert verify_lines(env) == []
    path.write_text(json.dumps(edited), encoding="utf-8")  # the exported file edited
    found = verify_lines(env)
    assert found == [f"certificate {certificate_id}: the exported {certificate_id}.json "
                     "differs from the stored certificate"]  # fmt: skip


def test_a_rotation_is_announced_by_the_old_key_and_both_sides_verify(tmp_path_factory):
    env = make_cli_env(tmp_path_factory, "cert_rotation")
    before = destroy_one(env, tmp_path_factory.mktemp("rotation_before"))
    old_key = archive_key(env)
    rotated = run_cli(env, "keys", "rotate-signing")
    assert rotated.returncode == 0, rotated.stderr
    new_key = archive_key(env)
    assert new_key != old_key and new_key in rotated.stdout
    folder = before.parent
    announcement = folder / f"{rotated.stdout.split('certificate ')[-1].split()[0]}.json"
    body = json.loads(announcement.read_text(encoding="utf-8"))
    assert body["records"] == [] and body["announces_public_key"] == new_key
    assert body["public_key"] == old_key  # signed by the old key

    after = destroy_one(env, tmp_path_factory.mktemp("rotation_after"))
    assert json.loads(after.read_text(encoding="utf-8"))["public_key"] == new_key
    # The keyring knows both keys: certificates before and after verify.
    for path in (before, announcement, after):
        assert run_cli(env, "certificate", "verify", str(path)).returncode == 0
    # A verifier holding only the old key follows the announcement to the new one.
    follow = run_cli(env, "certificate", "verify", str(after), "--previous", str(announcement),
                     "--public-key", old_key)  # fmt: skip
    assert follow.returncode == 0, follow.stdout
    alone = run_cli(env, "certificate", "verify", str(after), "--public-key", old_key)
    assert alone.returncode == 1
    chained = run_cli(env, "certificate", "verify", str(announcement), "--previous", str(before),
                      "--public-key", old_key)  # fmt: skip
    assert chained.returncode == 0 and new_key in chained.stdout
    assert verify_lines(env) == []

    # The announcement is chained like every certificate: the second of three.
    engine = get_engine({"sqlalchemy.url": env["ARCHIVE_SQLALCHEMY_URL"]})
    try:
        with Session(engine) as session:
            positions = list(session.scalars(select(Certificate.position)
                                             .order_by(Certificate.position)))  # fmt: skip
    finally:
        engine.dispose()
    assert positions == [1, 2, 3]
