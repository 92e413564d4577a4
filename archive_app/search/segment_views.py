"""Whoosh's compound segment files read through views of the segment's memory map.

Whoosh maps a compound segment file (`CompoundStorage`) and opens each file inside it as a
`BufferFile`, which wraps its part of the map in an `io.BytesIO`: a copy of the whole part,
touching every page of it. A searcher opening 10 segments of 19 MB copied each one's terms
and postings, 60-200 ms of a first query's CPU at 100,000 dossiers. `ViewFile` reads the same
bytes from the map on demand (what a query reads: a few blocks), so opening costs nothing.
It is installed in place of `BufferFile` for compound storages only (`install`), pinned to
whoosh-reloaded 2.7.5's `BufferFile`, whose methods other than `file` it keeps.
"""

from __future__ import annotations

import os

from whoosh.filedb import compound
from whoosh.filedb.structfile import BufferFile

PEEK_BYTES = 256


class MapView:
    """A read-only file over a memoryview: the file interface `StructFile` uses, without a
    copy of the buffer."""

    __slots__ = ("_buf", "_pos", "_size")

    def __init__(self, buf):
        self._buf, self._pos, self._size = buf, 0, len(buf)

    def read(self, size: int = -1) -> bytes:
        start = self._pos
        if start >= self._size:
            return b""  # at or past the end (a seek may go past it, as in BytesIO)
        end = self._size if size is None or size < 0 else min(start + size, self._size)
        self._pos = end
        return self._buf[start:end].tobytes()

    def peek(self, size: int = 0) -> bytes:
        # The C unpickler prefetches through `peek`; without it, it reads Whoosh's pickles
        # (protocol 2, no frames) an opcode at a time, some twenty calls for each. A short
        # prefetch: a posting block's header pickle is a few dozen bytes.
        return self._buf[self._pos : self._pos + PEEK_BYTES].tobytes()

    def readinto(self, target) -> int:
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)

    def readline(self, size: int = -1) -> bytes:
        end = self._size if size is None or size < 0 else min(self._pos + size, self._size)
        at = self._pos
        if at >= self._size:
            return b""
        while at < end:  # a chunk at a time: never a copy of the rest of the buffer
            chunk_end = min(at + 256, end)
            found = self._buf[at:chunk_end].tobytes().find(b"\n")
            if found >= 0:
                return self.read(at + found + 1 - self._pos)
            at = chunk_end
        return self.read(end - self._pos)

    def seek(self, position: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_CUR:
            position += self._pos
        elif whence == os.SEEK_END:
            position += self._size
        self._pos = max(0, position)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._buf = memoryview(b"")


class ViewFile(BufferFile):
    """`BufferFile` reading through a `MapView` instead of a copy."""

    def __init__(self, buf, name=None, onclose=None):
        super().__init__(b"", name=name, onclose=onclose)
        self._buf = buf
        self.file = MapView(buf)

    def subset(self, position, length, name=None):
        return ViewFile(self._buf[position : position + length], name=name or self._name)


def install() -> None:
    """Compound storages open their files as `ViewFile`s (idempotent)."""
    compound.BufferFile = ViewFile
