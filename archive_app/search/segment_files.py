"""A segment's derived data kept in a file beside it: facet bitmaps, the bitmaps of its most
common terms and their weights, date columns, field lengths and phrase sequences, computed
once when the segment is written.

Building them from Whoosh's postings and columns was most of a first query's time after a
start (at 100,000 dossiers, 130-370 ms of CPU); read from this file they take a few ms.
The file is named after the segment (`MAIN_<id>.docsets`), so Whoosh's own clean-up removes
it with the segment's files when a merge, purge or rebuild replaces the segment. It holds
nothing Whoosh's files do not: facet values (the same terms), document numbers, lengths
and the postings' weights.

A file is never trusted blindly: it starts with a SHA-256 of its body, and the body names
the segment and its document count; a file that is short, damaged, of another segment or
of another format is ignored (the caller computes the data again and rewrites it). The body
is `marshal` (lists, bytes and strings, loaded in C): it is read only after the digest
matches, from the index folder, which Whoosh itself loads pickles from.
"""

from __future__ import annotations

import hashlib
import marshal
import sys
import zlib
from array import array
from pathlib import Path

from pyroaring import FrozenBitMap

from ..vault.durability import write_atomically

MAGIC = b"ARCDSET2"  # 2: the common terms' weights (a file of 1 lacks them: computed again)
SUFFIX = ".docsets"
DIGEST_BYTES = 32


def path_for(folder: Path, segment_id: str) -> Path:
    return Path(folder) / f"{segment_id}{SUFFIX}"


def save(path: Path, segment_id: str, size: int, cached: dict) -> None:
    """Write the derived entries of a segment's cache (`Segment.cached`) whole or not at all."""
    payload = {}
    for key, value in cached.items():
        if not isinstance(key, tuple) or key[0] not in ENCODERS:
            continue  # per-query entries (live documents, readable lengths) are not kept
        payload[key] = ENCODERS[key[0]](value)
    body = marshal.dumps((segment_id, size, payload))
    write_atomically(path, MAGIC + hashlib.sha256(body).digest() + body)


def is_current(path: Path) -> bool:
    """Whether `path` is a file of this format (its first bytes only: whether it is whole and
    this segment's is `load`'s to say, when a search reads it)."""
    try:
        with open(path, "rb") as stream:
            return stream.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def load(path: Path, segment_id: str, size: int) -> dict | None:
    """The derived entries in `path` for this segment, or None if the file is missing or
    is not this segment's, whole and undamaged."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head = len(MAGIC) + DIGEST_BYTES
    if len(data) < head or not data.startswith(MAGIC):
        return None
    body = memoryview(data)[head:]
    if hashlib.sha256(body).digest() != data[len(MAGIC) : head]:
        return None
    try:
        found_id, found_size, payload = marshal.loads(body)
        if (found_id, found_size) != (segment_id, size):
            return None
        return {key: DECODERS[key[0]](value) for key, value in payload.items()}
    except (ValueError, TypeError, KeyError, EOFError, IndexError):
        return None  # a format this version does not know


def _encode_dates(value):
    _, ordered, by_docnum = value
    return ordered, by_docnum


def _decode_dates(value):
    ordered, by_docnum = value
    return [by_docnum[docnum] for docnum in ordered], ordered, by_docnum


def encode_weights(weights: array) -> bytes:
    """A term's weights (floats, as Whoosh keeps them) as their typecode and their bytes,
    little-endian, compressed: counts recur (most are 1 in a title), so a common term's
    weights take a few hundred bytes instead of four per posting, and a first query reads,
    checks and loads a file about the size of one without them."""
    if sys.byteorder == "big" and weights.itemsize > 1:
        weights = array(weights.typecode, weights)
        weights.byteswap()
    return weights.typecode.encode() + zlib.compress(weights.tobytes(), 1)


def decode_weights(raw: bytes) -> array:
    """The weights `encode_weights` wrote (ValueError or zlib.error if they are not such)."""
    weights = array(raw[:1].decode(), zlib.decompress(raw[1:]))
    if sys.byteorder == "big" and weights.itemsize > 1:
        weights.byteswap()
    return weights


ENCODERS = {
    "facet": lambda values: {text: lanes.serialize() for text, lanes in values.items()},
    "common": lambda values: {text: lanes.serialize() for text, lanes in values.items()},
    "dates": _encode_dates,
    "lengths": bytes,
    "length_sets": lambda values: {byte: lanes.serialize() for byte, lanes in values.items()},
    "sequences": tuple,
    "frequencies": dict,  # each term's weights already encoded, decoded when first scored
}
DECODERS = {
    "facet": lambda values: {text: FrozenBitMap.deserialize(raw) for text, raw in values.items()},
    "common": lambda values: {text: FrozenBitMap.deserialize(raw) for text, raw in values.items()},
    "dates": _decode_dates,
    "lengths": bytes,
    "length_sets": lambda values: {
        byte: FrozenBitMap.deserialize(raw) for byte, raw in values.items()
    },
    "sequences": tuple,
    "frequencies": dict,
}
