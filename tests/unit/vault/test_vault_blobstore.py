"""The blob store: durable writes, safe names, streaming reads, fixity, orphans."""

from __future__ import annotations

import errno
import hashlib
import io
import itertools
import os
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest

from archive_app.vault import blobstore, syncing
from archive_app.vault.blobstore import BlobStore
from archive_app.vault.streams import MIN_CHUNK, BlobIntegrityError
from archive_app.vault.syncing import SyncBatch

DEK = bytes(range(32))
DOC = "0123456789abcdef0123456789abcdef"
NAME = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{32}\.blob")
NOW = datetime(2030, 1, 1, 12, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    return BlobStore(tmp_path / "blobs", chunk_size=MIN_CHUNK)


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def set_mtime(path, when: datetime):
    os.utime(path, (when.timestamp(), when.timestamp()))


def test_write_and_read_back(store):
    data = os.urandom(MIN_CHUNK * 2 + 17)
    name, digest = store.write(io.BytesIO(data), DEK, DOC)
    assert NAME.fullmatch(name) and name[:2] == name[6:8] and name[3:5] == name[8:10]
    assert store.exists(name)
    assert list(store.iter_names()) == [name]
    assert files_under(store.root) == [name]  # nothing left in tmp/
    assert stat_mode(store.path_of(name)) == 0o600

    assert b"".join(store.open_plaintext(name, DEK, DOC)) == data
    assert digest.plain_sha256 == hashlib.sha256(data).hexdigest()
    assert store.verify(name, DEK, DOC) == digest
    assert store.cipher_sha256(name) == digest.cipher_sha256
    assert store.path_of(name).stat().st_size == digest.cipher_size


def stat_mode(path):
    return path.stat().st_mode & 0o777


def test_names_are_random(store):
    names = {store.write(io.BytesIO(b"same"), DEK, DOC)[0] for _ in range(5)}
    assert len(names) == 5


class FailingReader(io.RawIOBase):
    def __init__(self):
        self.calls = 0

    def readable(self):
        return True

    def read(self, size=-1):
        self.calls += 1
        if self.calls > 2:
            raise OSError("upload connection reset")
        return b"x" * min(size, 1000)


def test_failed_write_leaves_no_temp_file(store):
    with pytest.raises(OSError, match="connection reset"):
        store.write(FailingReader(), DEK, DOC)
    assert files_under(store.root) == []
    assert list(store.iter_names()) == []


def test_bad_data_key_leaves_no_temp_file(store):
    with pytest.raises(ValueError):
        store.write(io.BytesIO(b"x"), b"short", DOC)
    assert files_under(store.root) == []


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "/etc/passwd",
        "ab/cd/../../../x.blob",
        "ab/cd/abcd" + "0" * 28 + ".blob/..",
        "AB/CD/ABCD" + "0" * 28 + ".blob",
        "ab/cd/ffff" + "0" * 28 + ".blob",  # folders do not match the name
        "ab/cd/abcd" + "0" * 27 + ".blob",
        "ab/cd/abcd" + "0" * 28 + ".tmp",
        "tmp/abc",
        "ab\\cd\\abcd" + "0" * 28 + ".blob",
        "ab/cd/abcd" + "0" * 28 + ".blob\n",
        "",
        None,
    ],
)
def test_path_of_rejects_anything_not_generated(store, name):
    with pytest.raises(ValueError):
        store.path_of(name)
    with pytest.raises(ValueError):
        store.remove(name)
    with pytest.raises(ValueError):
        store.open_plaintext(name, DEK, DOC)


def test_open_missing_blob_fails_at_once(store):
    with pytest.raises(FileNotFoundError):
        store.open_plaintext("ab/cd/abcd" + "0" * 28 + ".blob", DEK, DOC)


def test_tampered_blob_stops_the_stream(store):
    data = os.urandom(MIN_CHUNK * 3 + 500)
    name, _ = store.write(io.BytesIO(data), DEK, DOC)
    path = store.path_of(name)
    blob = bytearray(path.read_bytes())
    blob[-100] ^= 1
    path.write_bytes(bytes(blob))

    released = []
    with pytest.raises(BlobIntegrityError):
        for chunk in store.open_plaintext(name, DEK, DOC):
            released.append(chunk)
    assert b"".join(released) == data[: 3 * MIN_CHUNK]  # the full chunks, not the tampered end
    with pytest.raises(BlobIntegrityError):
        store.verify(name, DEK, DOC)
    assert store.cipher_sha256(name) != hashlib.sha256(b"").hexdigest()


def descriptors_on(path) -> list[str]:
    """This process's open file descriptors on `path`."""
    return [fd for fd in os.listdir("/proc/self/fd")
            if os.path.realpath(f"/proc/self/fd/{fd}") == str(path.resolve())]  # fmt: skip


def test_closing_a_partial_read_closes_the_file(store):
    name, _ = store.write(io.BytesIO(os.urandom(MIN_CHUNK * 2)), DEK, DOC)
    path = store.path_of(name)
    stream = store.open_plaintext(name, DEK, DOC)
    assert descriptors_on(path) == []  # opened on the first read, not before
    next(stream)
    assert len(descriptors_on(path)) == 1
    stream.close()  # what a WSGI server does when the client goes away
    assert descriptors_on(path) == []


def test_remove_is_idempotent(store):
    name, _ = store.write(io.BytesIO(b"data"), DEK, DOC)
    store.remove(name)
    assert not store.exists(name)
    store.remove(name)


def test_orphans_honour_the_grace_period(store):
    known, _ = store.write(io.BytesIO(b"known"), DEK, DOC)
    old, _ = store.write(io.BytesIO(b"old orphan"), DEK, DOC)
    fresh, _ = store.write(io.BytesIO(b"fresh orphan"), DEK, DOC)
    for name in (known, old):
        set_mtime(store.path_of(name), NOW - timedelta(days=2))
    set_mtime(store.path_of(fresh), NOW - timedelta(minutes=5))
    stale_tmp = store.root / "tmp" / "deadbeef.tmp"
    stale_tmp.write_bytes(b"half written")
    set_mtime(stale_tmp, NOW - timedelta(days=2))
    fresh_tmp = store.root / "tmp" / "cafe.tmp"
    fresh_tmp.write_bytes(b"being written")
    set_mtime(fresh_tmp, NOW - timedelta(minutes=1))

    found = store.orphans({known}, timedelta(hours=24), now=NOW)
    assert found == [old, "tmp/deadbeef.tmp"]
    assert store.orphans({known}, NOW - timedelta(hours=24)) == found
    assert set(store.orphans({known}, NOW)) == {old, fresh, "tmp/deadbeef.tmp", "tmp/cafe.tmp"}

    for name in found:
        store.remove_orphan(name)
    assert store.orphans({known}, timedelta(hours=24), now=NOW) == []
    assert store.exists(known) and store.exists(fresh) and fresh_tmp.exists()


def test_orphans_need_an_aware_cutoff(store):
    with pytest.raises(ValueError):
        store.orphans(set(), datetime(2030, 1, 1))


@pytest.mark.parametrize("name", ["tmp/../x", "tmp/", "tmp/..", "tmp/a/b", "../tmp/x"])
def test_remove_orphan_rejects_traversal(store, name):
    with pytest.raises(ValueError):
        store.remove_orphan(name)


def test_iter_names_ignores_strays(store):
    name, _ = store.write(io.BytesIO(b"x"), DEK, DOC)
    (store.root / "README").write_text("stray")
    (store.path_of(name).parent / "notes.txt").write_text("stray")
    assert list(store.iter_names()) == [name]
    assert list(BlobStore(store.root / "absent").iter_names()) == []


def test_a_batch_of_writes_fsyncs_each_file_and_folder_once_by_its_sync(store, monkeypatch):
    """`batch`: the blob files are fsync'd on the batch's threads and the folders (its own,
    the parents of new fan-out folders) once each, all done when `sync()` returns."""
    synced = []
    real = blobstore.fsync_directory
    monkeypatch.setattr(syncing, "fsync_directory", lambda folder: (synced.append(folder),
                                                                    real(folder)))  # fmt: skip
    monkeypatch.setattr(blobstore, "fsync_directory", synced.append)  # never, in a batch
    files = []
    real_file_sync = syncing._fsync_and_close
    monkeypatch.setattr(syncing, "_fsync_and_close", lambda fd: (files.append(fd),
                                                                 real_file_sync(fd)))  # fmt: skip
    batch = SyncBatch()
    try:
        names = [store.write(io.BytesIO(b"body %d" % n), DEK, DOC, batch=batch)[0]
                 for n in range(6)]  # fmt: skip
        assert synced == []  # no folder before the batch's sync
        folders = {store.path_of(name).parent for name in names}
        assert folders <= batch.folders and store.root in batch.folders
        assert store.root.parent in batch.folders
        expected = set(batch.folders)
        batch.sync()
    finally:
        batch.close()
    assert len(files) == 6  # each blob file once
    assert sorted(synced) == sorted(expected) and len(synced) == len(expected)  # each once
    assert batch.folders == set()
    assert all(store.exists(name) for name in names)
    assert [store.open_plaintext(name, DEK, DOC) for name in names]  # readable whole
    assert b"".join(store.open_plaintext(names[3], DEK, DOC)) == b"body 3"


def test_a_batch_runs_its_fsyncs_side_by_side(store, monkeypatch):
    """Two fsyncs must be in flight at once for this barrier to open: one after the other
    (as each write's own fsync was) it times out and the batch's sync raises."""
    barrier = threading.Barrier(2, timeout=5)
    calls = itertools.count()

    def fsync(fd, real=os.fsync):
        if next(calls) < 2:  # the first two meet here; the others pass
            barrier.wait()
        real(fd)

    monkeypatch.setattr(syncing.os, "fsync", fsync)
    batch = SyncBatch()
    try:
        for n in range(4):
            store.write(io.BytesIO(b"body %d" % n), DEK, DOC, batch=batch)
        batch.sync()
    finally:
        batch.close()


def test_a_failed_fsync_fails_the_batch_sync_after_the_others_end(store, monkeypatch):
    done = []

    def fsync(fd, real=os.fsync):
        if not done:
            done.append("failed")
            raise OSError(errno.EIO, "I/O error")
        real(fd)
        done.append("synced")

    monkeypatch.setattr(syncing.os, "fsync", fsync)
    batch = SyncBatch(threads=1)  # the failing one first
    try:
        for n in range(3):
            store.write(io.BytesIO(b"body %d" % n), DEK, DOC, batch=batch)
        with pytest.raises(OSError, match="I/O error"):
            batch.sync()
        assert done == ["failed", "synced", "synced"]  # none left running behind it
    finally:
        batch.close()


def test_a_single_write_still_fsyncs_its_folder_before_returning(store, monkeypatch):
    synced = []
    monkeypatch.setattr(blobstore, "fsync_directory", synced.append)
    name, _ = store.write(io.BytesIO(b"body"), DEK, DOC)
    assert store.path_of(name).parent in synced and store.root in synced
