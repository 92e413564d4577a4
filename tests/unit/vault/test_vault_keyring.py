"""The keyring: creation with mode 0600, strict loading, rotation, derived keys."""

from __future__ import annotations

import base64
import json
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from archive_app.vault.envelope import new_data_key, unwrap_data_key, wrap_data_key
from archive_app.vault.keyring import Keyring, KeyringError


@pytest.fixture
def path(tmp_path):
    return tmp_path / "keyring" / "keyring.json"


def secrets_of(keyring: Keyring) -> list[str]:
    """Every key as it appears in the file, and raw, for 'never in a message' checks."""
    doc = json.loads(keyring.to_text())
    encoded = [k["key"] for k in doc["keks"]] + [
        doc["field_key"],
        doc["hmac_master"],
        doc["signing_key"],
    ]
    return encoded + [base64.b64decode(v).hex() for v in encoded]


def assert_no_key_material(text: str, keyring: Keyring) -> None:
    for secret in secrets_of(keyring):
        assert secret not in text
        assert secret[:12] not in text


def test_create_makes_a_0600_file_and_is_idempotent(path):
    created = Keyring.create_or_load(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = Keyring.create_or_load(path)
    assert again.to_text() == created.to_text()
    assert again.current_kek_version == 1
    assert [p.name for p in path.parent.iterdir()] == ["keyring.json"]  # no temp left


def test_file_format(path):
    Keyring.create_or_load(path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "archive-keyring" and doc["version"] == 1
    assert doc["keks"][0]["version"] == 1 and doc["keks"][0]["status"] == "current"
    for b64 in (doc["keks"][0]["key"], doc["field_key"], doc["hmac_master"], doc["signing_key"]):
        assert len(base64.b64decode(b64)) == 32


def test_save_and_load_round_trip(path):
    keyring = Keyring.generate()
    keyring.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = Keyring.load(path)
    assert loaded.to_text() == keyring.to_text()
    assert Keyring.from_text(keyring.to_text()).to_text() == keyring.to_text()


def test_save_replaces_a_loose_file_with_0600(path):
    path.parent.mkdir(parents=True)
    path.write_text("old")
    path.chmod(0o644)
    Keyring.generate().save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_missing_file(path):
    with pytest.raises(KeyringError, match="not found"):
        Keyring.load(path)


def test_unreadable_file(path):
    path.mkdir(parents=True)  # a directory where the file should be: read fails
    with pytest.raises(KeyringError, match="unreadable"):
        Keyring.load(path)


@pytest.mark.parametrize("cut", [0, 1, 40, 150, -2])
def test_truncated_file(path, cut):
    keyring = Keyring.create_or_load(path)
    text = path.read_text()
    path.write_text(text[:cut] if cut >= 0 else text[: len(text) + cut - 1])
    with pytest.raises(KeyringError) as info:
        Keyring.load(path)
    assert_no_key_material(str(info.value), keyring)
    assert_no_key_material(repr(info.value), keyring)
    assert info.value.__cause__ is None and info.value.__context__ is None


@pytest.mark.parametrize(
    "garbage", [b"\xff\xfe garbage", b"null", b"[]", b'"text"', b"{}", b"[" * 100_000]
)
def test_garbage_file(path, garbage):
    path.parent.mkdir(parents=True)
    path.write_bytes(garbage)
    with pytest.raises(KeyringError):
        Keyring.load(path)


def mutate(keyring: Keyring, change) -> str:
    doc = json.loads(keyring.to_text())
    change(doc)
    return json.dumps(doc)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.pop("format"),
        lambda d: d.update(format="other"),
        lambda d: d.update(version=2),
        lambda d: d.pop("keks"),
        lambda d: d.update(keks=[]),
        lambda d: d.pop("field_key"),
        lambda d: d.pop("hmac_master"),
        lambda d: d.pop("signing_key"),
        lambda d: d.update(field_key=base64.b64encode(b"x" * 31).decode()),
        lambda d: d.update(hmac_master=base64.b64encode(b"x" * 33).decode()),
        lambda d: d.update(signing_key="not base64!"),
        lambda d: d.update(field_key=123),
        lambda d: d["keks"][0].pop("key"),
        lambda d: d["keks"][0].update(key=base64.b64encode(b"k" * 16).decode()),
        lambda d: d["keks"][0].update(version=0),
        lambda d: d["keks"][0].update(version="1"),
        lambda d: d["keks"][0].update(version=True),
        lambda d: d["keks"][0].update(status="retired"),
        lambda d: d["keks"][0].update(status="active"),
        lambda d: d["keks"][0].update(created_at="yesterday"),
        lambda d: d["keks"][0].pop("created_at"),
        lambda d: d["keks"].append(dict(d["keks"][0])),  # duplicate version, two current
        lambda d: d["keks"].append({**d["keks"][0], "status": "retired"}),  # duplicate version
    ],
)
def test_every_field_is_validated(change):
    keyring = Keyring.generate()
    with pytest.raises(KeyringError) as info:
        Keyring.from_text(mutate(keyring, change))
    assert_no_key_material(str(info.value), keyring)


def test_empty_text():
    with pytest.raises(KeyringError, match="empty"):
        Keyring.from_text("  ")


def test_repr_holds_no_key_material():
    keyring = Keyring.generate()
    keyring.rotate()
    assert_no_key_material(repr(keyring), keyring)
    assert "current=2" in repr(keyring)


def test_rotate_keeps_old_versions_unwrappable(path):
    keyring = Keyring.create_or_load(path)
    dek = new_data_key()
    row = {"dossier_id": "d1", "document_id": "doc1"}
    wrapped_v1 = wrap_data_key(keyring.kek(1), dek, kek_version=1, **row)

    assert keyring.rotate() == 2
    keyring.save(path)
    reloaded = Keyring.load(path)
    assert reloaded.current_kek_version == 2
    assert reloaded.retired_versions == (1,)
    assert reloaded.kek_versions == (1, 2)
    assert reloaded.kek(1) != reloaded.kek(2)
    assert unwrap_data_key(reloaded.kek(1), wrapped_v1, kek_version=1, **row) == dek

    # Re-wrapping under the current KEK, as `archive keys rotate` does.
    wrapped_v2 = wrap_data_key(reloaded.kek(2), dek, kek_version=2, **row)
    assert unwrap_data_key(reloaded.kek(2), wrapped_v2, kek_version=2, **row) == dek
    assert reloaded.rotate() == 3
    assert reloaded.retired_versions == (1, 2)


def test_unknown_version():
    keyring = Keyring.generate()
    for version in (0, 2, -1, "1", True, None):
        with pytest.raises(KeyringError, match="unknown"):
            keyring.kek(version)


def test_retire():
    keyring = Keyring.generate()
    with pytest.raises(KeyringError, match="current"):
        keyring.retire(1)
    keyring.rotate()
    keyring.retire(1)  # already retired: no change
    assert keyring.retired_versions == (1,)
    with pytest.raises(KeyringError, match="unknown"):
        keyring.retire(7)


def test_hmac_keys_are_derived_per_purpose(path):
    keyring = Keyring.create_or_load(path)
    lookup, log = keyring.hmac_key("lookup"), keyring.hmac_key("access-log")
    assert len(lookup) == 32 and lookup != log
    assert Keyring.load(path).hmac_key("lookup") == lookup
    assert Keyring.generate().hmac_key("lookup") != lookup
    with pytest.raises(ValueError):
        keyring.hmac_key("")


def test_field_key_is_separate():
    keyring = Keyring.generate()
    assert len(keyring.field_key()) == 32
    assert keyring.field_key() != keyring.kek(1)


def test_signing_key_round_trips_and_verifies(path):
    keyring = Keyring.create_or_load(path)
    signature = keyring.signing_key().sign(b"certificate")
    public = Keyring.load(path).public_key_bytes()
    assert len(public) == 32
    Ed25519PublicKey.from_public_bytes(public).verify(signature, b"certificate")


def test_create_or_load_never_overwrites_a_broken_keyring(path):
    path.parent.mkdir(parents=True)
    path.write_text('{"format": "archive-keyring"')
    with pytest.raises(KeyringError):
        Keyring.create_or_load(path)
    assert path.read_text() == '{"format": "archive-keyring"'


def test_loose_permissions_are_logged(path, caplog):
    Keyring.create_or_load(path)
    path.chmod(0o644)
    with caplog.at_level("WARNING", logger="archive_app.vault.keyring"):
        Keyring.load(path)
    assert "chmod 600" in caplog.text


def test_a_running_process_picks_up_rotation_and_survives_a_damaged_file(tmp_path, caplog):
    import os as _os

    from archive_app.vault import ReloadingKeyring

    path = tmp_path / "keyring.json"
    keyring = Keyring.generate()
    keyring.save(path)
    running = ReloadingKeyring(path)
    assert running.current_kek_version == 1
    keyring.rotate()
    keyring.save(path)
    assert running.current_kek_version == 2  # another process rotated: seen at once
    path.write_text('{"format": "archive-keyring", "keks": [')  # damaged under our feet
    _os.utime(path, ns=(1, 1))
    assert running.current_kek_version == 2 and running.kek(1) == keyring.kek(1)
    assert "not valid" in caplog.text
    assert base64.b64encode(keyring.kek(2)).decode() not in caplog.text
