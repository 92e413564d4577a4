"""The retention-bucket key file: created under a lock, destroyed only when idle."""

from __future__ import annotations

import multiprocessing
import os
import stat
from datetime import date

import pytest

from archive_app.vault.buckets import HOLD_BUCKET, BucketKeys, Sealer, bucket_for
from archive_app.vault.envelope import KeyUnwrapError, unwrap_data_key, wrap_data_key
from archive_app.vault.keyring import Keyring, KeyringError


def test_buckets_are_months_and_held_dossiers_share_the_hold_bucket():
    assert bucket_for(date(2031, 5, 31), held=False) == "2031-05"
    assert bucket_for(date(2031, 5, 31), held=True) == HOLD_BUCKET


def test_a_key_is_created_once_kept_private_and_seen_by_other_readers(tmp_path):
    path = tmp_path / "keyring" / "retention-keys.json"
    first = BucketKeys(path)
    key = first.for_wrapping("2031-05")
    assert len(key) == 32 and first.for_wrapping("2031-05") == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert BucketKeys(path).key("2031-05") == key
    with pytest.raises(KeyringError, match="2030-01"):
        first.key("2030-01")


def _create(path, queue):
    queue.put(BucketKeys(path).for_wrapping("2040-01"))


def test_processes_racing_to_create_a_bucket_get_the_same_key(tmp_path):
    path = tmp_path / "retention-keys.json"
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    workers = [context.Process(target=_create, args=(path, queue)) for _ in range(4)]
    for worker in workers:
        worker.start()
    keys = {queue.get(timeout=30) for _ in workers}
    for worker in workers:
        worker.join()
    assert len(keys) == 1 and BucketKeys(path).key("2040-01") in keys


def test_destroy_spares_recently_used_keys_and_the_hold_bucket(tmp_path):
    buckets = BucketKeys(tmp_path / "retention-keys.json")
    buckets.for_wrapping("2020-06")
    buckets.for_wrapping(HOLD_BUCKET)
    assert buckets.destroy({"2020-06", HOLD_BUCKET}, idle_seconds=600) == []
    assert buckets.destroy({"2020-06", HOLD_BUCKET, "1999-01"}, idle_seconds=0) == ["2020-06"]
    assert buckets.names() == {HOLD_BUCKET} and "2020-06" in buckets.destroyed()
    with pytest.raises(KeyringError, match="destroyed"):
        buckets.key("2020-06")
    again = buckets.for_wrapping("2020-06")  # a later filing into that month: a new key
    assert "2020-06" not in buckets.destroyed() and buckets.key("2020-06") == again


def test_a_key_is_destroyed_only_once_idle_for_the_whole_time_on_its_clock(tmp_path):
    now = [1_900_000_000.0]
    buckets = BucketKeys(tmp_path / "retention-keys.json", wall_time=lambda: now[0])
    buckets.for_wrapping("2020-06")
    now[0] += 599
    assert buckets.destroy({"2020-06"}, idle_seconds=600) == []
    now[0] += 1
    assert buckets.destroy({"2020-06"}, idle_seconds=600) == ["2020-06"]
    assert buckets.destroyed() == {"2020-06": "2030-03-17T17:56:40Z"}  # when, on that clock


def test_a_damaged_key_file_is_refused(tmp_path):
    path = tmp_path / "retention-keys.json"
    path.write_text('{"format": "something else"}')
    with pytest.raises(KeyringError, match="not valid"):
        BucketKeys(path).key("2031-05")
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(KeyringError, match="not valid"):
        BucketKeys(path).for_wrapping("2031-05")


def test_a_data_key_needs_both_the_kek_and_its_bucket_key(tmp_path):
    keyring = Keyring.generate()
    buckets = BucketKeys(tmp_path / "retention-keys.json")
    sealer = Sealer(keyring, buckets)
    ids = {"kek_version": 1, "dossier_id": "d", "document_id": "x"}
    data_key = os.urandom(32)
    wrapped = wrap_data_key(sealer.wrapping_key(1, "2031-05", new=True), data_key, **ids)
    assert unwrap_data_key(sealer.wrapping_key(1, "2031-05"), wrapped, **ids) == data_key
    for other in (keyring.kek(1), sealer.wrapping_key(1, "2031-06", new=True)):
        with pytest.raises(KeyUnwrapError):
            unwrap_data_key(other, wrapped, **ids)
    sealed = sealer.field_cipher("2031-05").encrypt("张三", context="customer.name")
    assert sealer.field_cipher("2031-05").decrypt(sealed, context="customer.name") == "张三"
    buckets.destroy({"2031-05"}, idle_seconds=0)
    with pytest.raises(KeyringError):
        sealer.wrapping_key(1, "2031-05")
    with pytest.raises(KeyringError):
        sealer.field_cipher("2031-05")
