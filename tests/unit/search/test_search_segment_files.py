"""Each segment's derived data in a file beside it: written with the segment, read by a
fresh process instead of the postings, never trusted when damaged or another segment's, and
gone with its segment."""

from __future__ import annotations

import shutil

import pytest
from test_search_docsets import LEVELS, QUERIES, entries, three_segments, walked
from whoosh.util.numeric import byte_to_length, length_to_byte

from archive_app.search import docsets, engine, segment_files
from archive_app.search.engine import SearchIndex, SearchQuery


@pytest.fixture
def index(tmp_path, monkeypatch):
    return three_segments(tmp_path, monkeypatch)


def segment_ids(index: SearchIndex) -> set[str]:
    return {segment.segment_id() for segment in index.open()._segments()}


def side_files(index: SearchIndex) -> dict[str, object]:
    folder = index._current_folder()
    return {path.name[: -len(segment_files.SUFFIX)]: path
            for path in folder.glob(f"*{segment_files.SUFFIX}")}  # fmt: skip


def answers(index: SearchIndex) -> list:
    return [index.search(query, levels) for levels in (LEVELS, ("internal",))
            for query in QUERIES]  # fmt: skip


def count_builds(monkeypatch) -> list[str]:
    """The facet fields built from postings (not read from a file) from now on."""
    built: list[str] = []
    original = docsets.Segment.facet

    def facet(self, field):
        if ("facet", field) not in self.cached:
            built.append(field)
        return original(self, field)

    monkeypatch.setattr(docsets.Segment, "facet", facet)
    return built


def test_a_rebuild_writes_one_file_per_segment_and_a_fresh_process_reads_them(index, monkeypatch):
    assert segment_ids(index) == set(side_files(index)) and len(segment_ids(index)) == 3
    built = count_builds(monkeypatch)
    fresh = SearchIndex(index.root)
    for query in QUERIES:
        expected, facets = walked(fresh, query, LEVELS)
        result = fresh.search(query, LEVELS)
        assert (result.total, result.facets) == (len(expected), facets), query
    assert built == []  # every segment's facets came from its file


def test_answers_from_the_files_equal_answers_from_the_postings(index, monkeypatch):
    from_files = answers(SearchIndex(index.root))
    monkeypatch.setattr(engine, "DERIVED", ())  # a cache that reads no file
    from_postings = SearchIndex(index.root)
    assert from_postings._docsets.derived == ()
    assert answers(from_postings) == from_files


@pytest.mark.parametrize("damage", ["flipped", "truncated", "other_segment", "empty"])
def test_a_damaged_or_foreign_file_is_computed_again_and_rewritten(index, monkeypatch, damage):
    expected = answers(SearchIndex(index.root))
    files = side_files(index)
    first, second = sorted(files)[:2]
    path = files[first]
    data = path.read_bytes()
    if damage == "flipped":
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "other_segment":  # whole and valid, but another segment's data
        shutil.copyfile(files[second], path)
    else:
        path.write_bytes(b"")
    built = count_builds(monkeypatch)
    fresh = SearchIndex(index.root)
    assert answers(fresh) == expected
    derived_facets = [field for kind, field in engine.DERIVED if kind == "facet"]
    assert sorted(built) == sorted(derived_facets)  # once, for the damaged segment alone
    reread = segment_files.load(path, first, _size_of(index, first))
    assert reread is not None and ("facet", "year") in reread


def _size_of(index: SearchIndex, segment_id: str) -> int:
    (segment,) = [s for s in index.open()._segments() if s.segment_id() == segment_id]
    return segment.doc_count_all()


def test_a_missing_file_is_written_by_the_first_search(index):
    files = side_files(index)
    gone = sorted(files)[0]
    files[gone].unlink()
    SearchIndex(index.root).search(SearchQuery(q="胶囊"), LEVELS)
    assert gone in side_files(index)


def test_files_go_with_their_segments_through_updates_merges_and_purges(index):
    index.upsert(entries(12, seed=3, start=500))
    assert set(side_files(index)) == segment_ids(index)
    index.purge(["0050", "0051"])  # rewrites the segment that held them
    assert set(side_files(index)) == segment_ids(index)
    index.delete(["0001"], merge=True)  # one segment
    assert set(side_files(index)) == segment_ids(index) and len(segment_ids(index)) == 1
    fresh = SearchIndex(index.root)
    for query in QUERIES:
        expected, facets = walked(fresh, query, LEVELS)
        result = fresh.search(query, LEVELS)
        assert (result.total, result.facets) == (len(expected), facets), query


def test_readable_length_totals_come_from_the_files_length_sets_and_equal_a_walk(index):
    """A fresh process reads each length byte's documents from the files (no pass over the
    documents) and the readable totals equal Whoosh's own field lengths summed."""
    searcher = index.open().searcher()
    readers = [leaf.reader() for leaf, _ in searcher.leaf_searchers()]
    cache = docsets.DocSetCache(derived=engine.DERIVED)
    folder = index._current_folder()
    for reader in readers:
        segment = docsets.Segment(cache, reader, None, 0, folder)
        assert ("length_sets", "summary") in segment.cached  # read from the file
        readable = docsets.bitmap(range(0, segment.size, 3))  # every third document
        for field in ("title", "summary", "text"):
            expected = sum(
                byte_to_length(length_to_byte(reader.doc_field_length(docnum, field, 0) or 0))
                for docnum in readable
            )
            assert segment.readable_lengths(("test",), readable, field) == (
                len(readable),
                expected,
            ), field
