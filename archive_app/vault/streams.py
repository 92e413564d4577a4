"""The blob format: chunked streaming AEAD for document bodies (docs/blob-format.md).

Owns the encrypter, the decrypter and the verifier; memory use is one chunk, whatever the
file size, in both directions.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"CDAR"
FORMAT_VERSION = 1
# Algorithm 1: per-file key = HKDF-SHA256(DEK, salt, info), chunks sealed with AES-256-GCM.
ALG_HKDF_SHA256_AES256GCM = 1

MIN_CHUNK = 64 * 1024
MAX_CHUNK = 1024 * 1024
DEFAULT_CHUNK = 256 * 1024

DATA_KEY_SIZE = 32
SALT_SIZE = 32
NONCE_PREFIX_SIZE = 7
TAG_SIZE = 16

# magic, format version, algorithm, plaintext chunk size, salt, nonce prefix: 49 bytes.
_HEADER = struct.Struct(">4sBBI32s7s")
HEADER_SIZE = _HEADER.size
# The counter is a uint32 in the nonce; a counter must never repeat under one file key.
MAX_CHUNKS = 2**32
_KDF_INFO = b"archive blob v1"


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


class BlobIntegrityError(Exception):
    """The blob is not what was written: tampered, truncated, reordered, spliced or foreign.

    `reason` is short and safe to log; it never holds plaintext or key material.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class StreamDigest:
    """What the round trip proves (plaintext digest) and what fixity checks (ciphertext)."""

    plain_sha256: str
    plain_size: int
    cipher_sha256: str
    cipher_size: int


def encrypt_stream(
    src: BinaryIO,
    dst: BinaryIO,
    dek: bytes,
    document_id: str,
    chunk_size: int = DEFAULT_CHUNK,
) -> StreamDigest:
    """Encrypt all of `src` into `dst` in the blob format; return both digests."""
    _check_data_key(dek)
    if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
        raise ValueError(f"chunk size must be between {MIN_CHUNK} and {MAX_CHUNK} bytes")
    salt = os.urandom(SALT_SIZE)
    prefix = os.urandom(NONCE_PREFIX_SIZE)
    header = _HEADER.pack(
        MAGIC, FORMAT_VERSION, ALG_HKDF_SHA256_AES256GCM, chunk_size, salt, prefix
    )
    aead = _file_cipher(dek, salt, document_id)

    plain_hash = hashlib.sha256()
    cipher_hash = hashlib.sha256(header)
    plain_size = 0
    cipher_size = len(header)
    dst.write(header)
    counter = 0
    while True:
        chunk = _read_up_to(src, chunk_size)
        # A short read means end of input: the final chunk is always shorter than a full one
        # (empty if the input is a multiple of the chunk size), so the end is never ambiguous.
        last = len(chunk) < chunk_size
        if counter >= MAX_CHUNKS:
            raise ValueError("input too long for the blob format (chunk counter exhausted)")
        sealed = aead.encrypt(_nonce(prefix, counter, last), chunk, header)
        dst.write(sealed)
        plain_hash.update(chunk)
        cipher_hash.update(sealed)
        plain_size += len(chunk)
        cipher_size += len(sealed)
        if last:
            break
        counter += 1
    return StreamDigest(
        plain_sha256=plain_hash.hexdigest(),
        plain_size=plain_size,
        cipher_sha256=cipher_hash.hexdigest(),
        cipher_size=cipher_size,
    )


def decrypt_stream(src: BinaryIO, dek: bytes, document_id: str) -> Iterator[bytes]:
    """Yield the plaintext chunk by chunk, each only after its tag authenticates.

    Raises BlobIntegrityError at the first chunk that fails, at a missing final chunk and at
    trailing bytes; what was yielded before is authentic, but the caller must treat the
    whole as failed (stop the download, log it).
    """
    _check_data_key(dek)
    return _decrypt(src, dek, document_id)


def verify_stream(src: BinaryIO, dek: bytes, document_id: str) -> StreamDigest:
    """Decrypt and authenticate all of `src`, discarding the plaintext; return both digests."""
    _check_data_key(dek)
    reader = _HashingReader(src)
    plain_hash = hashlib.sha256()
    plain_size = 0
    for chunk in _decrypt(reader, dek, document_id):
        plain_hash.update(chunk)
        plain_size += len(chunk)
    return StreamDigest(
        plain_sha256=plain_hash.hexdigest(),
        plain_size=plain_size,
        cipher_sha256=reader.hash.hexdigest(),
        cipher_size=reader.size,
    )


def _decrypt(src: _Readable, dek: bytes, document_id: str) -> Iterator[bytes]:
    header = _read_up_to(src, HEADER_SIZE)
    if len(header) < HEADER_SIZE:
        raise BlobIntegrityError("truncated header")
    magic, version, algorithm, chunk_size, salt, prefix = _HEADER.unpack(header)
    if magic != MAGIC:
        raise BlobIntegrityError("not an archive blob (bad magic)")
    if version != FORMAT_VERSION:
        raise BlobIntegrityError(f"unsupported blob format version {version}")
    if algorithm != ALG_HKDF_SHA256_AES256GCM:
        raise BlobIntegrityError(f"unsupported blob algorithm {algorithm}")
    # Bounds keep memory bounded even for a forged header; any in-range forgery still fails
    # authentication because the whole header is associated data of every chunk.
    if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
        raise BlobIntegrityError("invalid chunk size in header")
    aead = _file_cipher(dek, salt, document_id)
    sealed_size = chunk_size + TAG_SIZE
    counter = 0
    while True:
        sealed = _read_up_to(src, sealed_size)
        if not sealed:
            # Even an empty final chunk carries a tag, so nothing at all here means the
            # stream was cut at a chunk boundary (or the final chunk was dropped).
            raise BlobIntegrityError("truncated: final chunk missing")
        # A full-size chunk is never final, so no read-ahead is needed to know the end.
        last = len(sealed) < sealed_size
        if len(sealed) < TAG_SIZE:
            raise BlobIntegrityError(f"truncated: chunk {counter} shorter than its tag")
        if counter >= MAX_CHUNKS:
            raise BlobIntegrityError("too many chunks")
        try:
            plain = aead.decrypt(_nonce(prefix, counter, last), sealed, header)
        except InvalidTag:
            raise BlobIntegrityError(f"chunk {counter} failed authentication") from None
        if last:
            # A short read only happens at end of input; check anyway, before releasing it.
            if src.read(1):
                raise BlobIntegrityError("trailing bytes after the final chunk")
            yield plain
            return
        yield plain
        counter += 1


def _file_cipher(dek: bytes, salt: bytes, document_id: str) -> AESGCM:
    # The per-file key binds the document id: a blob decrypted as another document fails.
    key = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=salt,
        info=_KDF_INFO + document_id.encode("utf-8"),
    ).derive(dek)
    return AESGCM(key)


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", counter, 1 if last else 0)


def _check_data_key(dek: bytes) -> None:
    if not isinstance(dek, bytes | bytearray) or len(dek) != DATA_KEY_SIZE:
        raise ValueError(f"data key must be {DATA_KEY_SIZE} bytes")


def _read_up_to(src: _Readable, size: int) -> bytes:
    """Read `size` bytes, or fewer only at end of input (raw streams may return short reads)."""
    data = src.read(size)
    if not data or len(data) == size:
        return data or b""
    parts = [data]
    remaining = size - len(data)
    while remaining:
        piece = src.read(remaining)
        if not piece:
            break
        parts.append(piece)
        remaining -= len(piece)
    return b"".join(parts)


class _HashingReader:
    """Hashes every ciphertext byte the decrypter reads, so verification is one pass."""

    def __init__(self, src: BinaryIO):
        self._src = src
        self.hash = hashlib.sha256()
        self.size = 0

    def read(self, size: int) -> bytes:
        data = self._src.read(size)
        self.hash.update(data)
        self.size += len(data)
        return data
