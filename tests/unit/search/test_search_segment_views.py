"""Compound segments' files read through views of the map: the same bytes as Whoosh's
copies, and no copy made when a searcher opens."""

from __future__ import annotations

import io
import os
import pickle
import random

from test_search_docsets import entries
from whoosh.filedb.structfile import BufferFile

from archive_app.search import segment_views
from archive_app.search.engine import SearchIndex, SearchQuery


def test_a_view_reads_what_a_copy_reads():
    rng = random.Random(4)
    data = bytes(rng.randrange(256) for _ in range(5000)) + b"\nline two\nend"
    view, copy = segment_views.MapView(memoryview(data)), io.BytesIO(data)
    for _ in range(300):
        op = rng.choice(["read", "readline", "seek", "seek_cur", "seek_end"])
        size = rng.choice([-1, 0, 1, 7, 300, 10_000])
        if op == "read":
            assert view.read(size) == copy.read(size)
        elif op == "readline":
            assert view.readline(size) == copy.readline(size)
        elif op == "seek":
            at = rng.randrange(len(data) + 10)
            assert view.seek(at) == copy.seek(at)
        elif op == "seek_cur":
            step = rng.randrange(50)
            assert view.seek(step, os.SEEK_CUR) == copy.seek(step, os.SEEK_CUR)
        else:
            back = -rng.randrange(len(data))
            assert view.seek(back, os.SEEK_END) == copy.seek(back, os.SEEK_END)
        assert view.tell() == copy.tell()


def test_a_view_file_reads_whooshs_structures_as_a_buffer_file_does():
    payload = pickle.dumps({"block": list(range(50))}, -1)
    data = b"\x00\x00\x01\x02" + payload + b"tail"
    for opened in (BufferFile(memoryview(data)), segment_views.ViewFile(memoryview(data))):
        assert opened.read_int() == 258
        assert opened.read_pickle() == {"block": list(range(50))}
        assert opened.read(4) == b"tail"
        assert opened.get(0, 4) == b"\x00\x00\x01\x02"
        assert opened.subset(4, len(payload)).read_pickle() == {"block": list(range(50))}


def test_a_searcher_opens_segments_as_views(tmp_path):
    index = SearchIndex(tmp_path / "index")
    index.rebuild(entries(30, seed=1))
    assert index.search(SearchQuery(q="胶囊"), ("internal", "confidential", "restricted")).total
    searcher = index.open().searcher()
    (reader, _), *_ = searcher.reader().leaf_readers()
    assert isinstance(reader._terms._dbfile, segment_views.ViewFile)
    searcher.close()
