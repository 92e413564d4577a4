"""The blob format: round trips at chunk edges, and every attack on the stream detected."""

from __future__ import annotations

import hashlib
import io
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive_app.vault.streams import (
    DEFAULT_CHUNK,
    HEADER_SIZE,
    MIN_CHUNK,
    TAG_SIZE,
    BlobIntegrityError,
    decrypt_stream,
    encrypt_stream,
    verify_stream,
)

CHUNK = MIN_CHUNK
SEALED = CHUNK + TAG_SIZE
DEK = bytes(range(32))
DOC = "3f2a9c0e5b7d4e1f8a6b2c9d0e1f2a3b"


def plaintext(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def encrypt(data: bytes, *, dek: bytes = DEK, document_id: str = DOC) -> bytes:
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(data), out, dek, document_id, chunk_size=CHUNK)
    return out.getvalue()


def collect(blob: bytes, *, dek: bytes = DEK, document_id: str = DOC):
    """Plaintext chunks released before the failure, and the failure (or None)."""
    released = []
    try:
        for chunk in decrypt_stream(io.BytesIO(blob), dek, document_id):
            released.append(chunk)
    except BlobIntegrityError as error:
        return released, error
    return released, None


def chunks_of(data: bytes) -> list[bytes]:
    return [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]


def sealed_chunk(blob: bytes, index: int) -> bytes:
    start = HEADER_SIZE + index * SEALED
    return blob[start : start + SEALED]


# -- round trips -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK, 3 * CHUNK + 7]
)
def test_round_trip_at_chunk_edges(size):
    data = plaintext(size, seed=size)
    out = io.BytesIO()
    digest = encrypt_stream(io.BytesIO(data), out, DEK, DOC, chunk_size=CHUNK)
    blob = out.getvalue()

    assert b"".join(decrypt_stream(io.BytesIO(blob), DEK, DOC)) == data
    assert digest.plain_size == size
    assert digest.plain_sha256 == hashlib.sha256(data).hexdigest()
    assert digest.cipher_size == len(blob)
    assert digest.cipher_sha256 == hashlib.sha256(blob).hexdigest()
    # Full chunks, then one shorter final chunk, empty when size is a multiple of CHUNK.
    assert len(blob) == HEADER_SIZE + size + TAG_SIZE * (size // CHUNK + 1)
    assert verify_stream(io.BytesIO(blob), DEK, DOC) == digest


def test_chunks_are_released_one_at_a_time():
    data = plaintext(2 * CHUNK + 5)
    released = list(decrypt_stream(io.BytesIO(encrypt(data)), DEK, DOC))
    assert released == chunks_of(data)


def test_default_chunk_size_round_trip():
    data = plaintext(DEFAULT_CHUNK + 3)
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(data), out, DEK, DOC)
    assert int.from_bytes(out.getvalue()[6:10], "big") == DEFAULT_CHUNK
    assert b"".join(decrypt_stream(io.BytesIO(out.getvalue()), DEK, DOC)) == data


@settings(max_examples=40, deadline=None)
@given(
    size=st.one_of(
        st.integers(0, 300 * 1024),
        st.sampled_from([1, 2, 3]).flatmap(lambda n: st.integers(n * CHUNK - 3, n * CHUNK + 3)),
    ),
    seed=st.integers(0, 2**32),
)
def test_round_trip_property(size, seed):
    data = plaintext(size, seed)
    blob = encrypt(data)
    assert b"".join(decrypt_stream(io.BytesIO(blob), DEK, DOC)) == data
    assert len(blob) == HEADER_SIZE + size + TAG_SIZE * (size // CHUNK + 1)


def test_same_input_encrypts_differently_each_time():
    data = plaintext(100)
    assert encrypt(data) != encrypt(data)


class TrickleReader(io.RawIOBase):
    """Returns at most 1000 bytes per read, and records the sizes asked for."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)
        self.asked: list[int] = []

    def readable(self):
        return True

    def read(self, size=-1):
        self.asked.append(size)
        return self._data.read(min(size, 1000) if size >= 0 else 1000)


def test_short_reads_and_bounded_read_sizes():
    data = plaintext(2 * CHUNK + 10)
    src = TrickleReader(data)
    out = io.BytesIO()
    encrypt_stream(src, out, DEK, DOC, chunk_size=CHUNK)
    assert all(0 < n <= CHUNK for n in src.asked)
    blob = out.getvalue()
    assert len(blob) == HEADER_SIZE + len(data) + 3 * TAG_SIZE

    reader = TrickleReader(blob)
    assert b"".join(decrypt_stream(reader, DEK, DOC)) == data
    # Memory independent of file size: never more than one sealed chunk asked for at once.
    assert all(0 < n <= SEALED for n in reader.asked)


@pytest.mark.parametrize("chunk_size", [MIN_CHUNK - 1, 1024 * 1024 + 1, 0])
def test_chunk_size_bounds(chunk_size):
    with pytest.raises(ValueError):
        encrypt_stream(io.BytesIO(b"x"), io.BytesIO(), DEK, DOC, chunk_size=chunk_size)


@pytest.mark.parametrize("dek", [b"", b"x" * 31, b"x" * 33])
def test_data_key_must_be_32_bytes(dek):
    with pytest.raises(ValueError):
        encrypt_stream(io.BytesIO(b"x"), io.BytesIO(), dek, DOC, chunk_size=CHUNK)
    with pytest.raises(ValueError):
        decrypt_stream(io.BytesIO(b""), dek, DOC)


# -- attacks -----------------------------------------------------------------------------

DATA = plaintext(int(2.5 * CHUNK), seed=7)  # chunks: full, full, half (final)
BLOB = encrypt(DATA)
EXACT = plaintext(2 * CHUNK, seed=8)  # chunks: full, full, empty final
EXACT_BLOB = encrypt(EXACT)


def test_truncation_at_a_chunk_boundary():
    released, error = collect(BLOB[: HEADER_SIZE + 2 * SEALED])
    assert error is not None and "final chunk missing" in error.reason
    assert released == chunks_of(DATA)[:2]


def test_truncation_to_header_only():
    released, error = collect(BLOB[:HEADER_SIZE])
    assert error is not None and released == []


def test_truncation_inside_a_chunk():
    released, error = collect(BLOB[: HEADER_SIZE + SEALED + 100])
    assert error is not None and "chunk 1" in error.reason
    assert released == chunks_of(DATA)[:1]


def test_truncation_inside_the_header():
    released, error = collect(BLOB[: HEADER_SIZE - 1])
    assert error is not None and error.reason == "truncated header" and released == []


def test_dropped_final_chunk():
    released, error = collect(BLOB[: HEADER_SIZE + 2 * SEALED])
    assert error is not None
    assert released == chunks_of(DATA)[:2]


def test_dropped_empty_final_chunk():
    assert len(EXACT_BLOB) == HEADER_SIZE + 2 * SEALED + TAG_SIZE
    released, error = collect(EXACT_BLOB[:-TAG_SIZE])
    assert error is not None and "final chunk missing" in error.reason
    assert released == chunks_of(EXACT)


def test_swapped_chunks():
    header = BLOB[:HEADER_SIZE]
    c0, c1 = sealed_chunk(BLOB, 0), sealed_chunk(BLOB, 1)
    rest = BLOB[HEADER_SIZE + 2 * SEALED :]
    released, error = collect(header + c1 + c0 + rest)
    assert error is not None and "chunk 0" in error.reason
    assert released == []


def test_duplicated_chunk():
    header = BLOB[:HEADER_SIZE]
    c0 = sealed_chunk(BLOB, 0)
    released, error = collect(header + c0 + c0 + BLOB[HEADER_SIZE + SEALED :])
    assert error is not None and released == chunks_of(DATA)[:1]


def test_splice_from_another_blob_with_the_same_key_and_document():
    other = encrypt(plaintext(len(DATA), seed=99))
    spliced = (
        BLOB[: HEADER_SIZE + SEALED] + sealed_chunk(other, 1) + BLOB[HEADER_SIZE + 2 * SEALED :]
    )
    released, error = collect(spliced)
    assert error is not None and "chunk 1" in error.reason
    assert released == chunks_of(DATA)[:1]


def test_splice_of_the_final_chunk_from_another_blob():
    other = encrypt(plaintext(len(DATA), seed=99))
    spliced = BLOB[: HEADER_SIZE + 2 * SEALED] + other[HEADER_SIZE + 2 * SEALED :]
    released, error = collect(spliced)
    assert error is not None and released == chunks_of(DATA)[:2]


def test_header_of_another_blob():
    other = encrypt(plaintext(len(DATA), seed=99))
    released, error = collect(other[:HEADER_SIZE] + BLOB[HEADER_SIZE:])
    assert error is not None and released == []


def test_wrong_document_id():
    released, error = collect(BLOB, document_id="another-document")
    assert error is not None and "chunk 0" in error.reason and released == []


def test_wrong_data_key():
    released, error = collect(BLOB, dek=bytes(32))
    assert error is not None and released == []


@pytest.mark.parametrize("extra", [b"\x00", b"x" * TAG_SIZE, b"y" * (SEALED + 5)])
def test_trailing_bytes_after_a_short_final_chunk(extra):
    released, error = collect(BLOB + extra)
    assert error is not None
    # Never the final chunk of a stream that goes on after it.
    assert released == chunks_of(DATA)[:2]


@pytest.mark.parametrize("extra", [b"\x00", b"x" * TAG_SIZE, b"y" * (SEALED + 5)])
def test_trailing_bytes_after_an_empty_final_chunk(extra):
    released, error = collect(EXACT_BLOB + extra)
    # The full chunks are authentic and released; the stream still fails at its end.
    assert error is not None
    assert released == chunks_of(EXACT)


@pytest.mark.parametrize("position", range(HEADER_SIZE))
@pytest.mark.parametrize("mask", [0x01, 0x80, 0xFF])
def test_every_header_byte_flip(position, mask):
    tampered = bytearray(BLOB)
    tampered[position] ^= mask
    released, error = collect(bytes(tampered))
    assert error is not None
    assert released == []


def test_empty_input_is_not_a_blob():
    released, error = collect(b"")
    assert error is not None and released == []


def test_verify_stream_raises_on_tamper():
    tampered = bytearray(BLOB)
    tampered[-1] ^= 1
    with pytest.raises(BlobIntegrityError):
        verify_stream(io.BytesIO(bytes(tampered)), DEK, DOC)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bit=st.integers(0, len(BLOB) * 8 - 1))
def test_any_single_bit_flip_is_detected_and_nothing_of_its_chunk_released(bit):
    tampered = bytearray(BLOB)
    tampered[bit // 8] ^= 1 << (bit % 8)
    released, error = collect(bytes(tampered))
    assert error is not None
    position = bit // 8
    failed = -1 if position < HEADER_SIZE else (position - HEADER_SIZE) // SEALED
    # Exactly the authentic chunks before the tampered one, never the tampered one itself.
    assert released == chunks_of(DATA)[: max(failed, 0)]


def test_error_reason_is_short_and_holds_no_plaintext():
    data = b"secret complaint text " * 5000
    blob = bytearray(encrypt(data))
    blob[HEADER_SIZE + 3] ^= 1
    _, error = collect(bytes(blob))
    assert error is not None and len(str(error)) < 80 and b"secret" not in str(error).encode()
