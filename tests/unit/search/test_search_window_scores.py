"""The rescoring window's scores computed from bitmaps, weights and lengths equal Whoosh's
matcher tree's (`ranking.scored`, the reference), to the last bit, and so does the order;
common terms' weights are kept in the segment files, rarer ones read with their bitmaps."""

from __future__ import annotations

import math
import random
from array import array

import pytest
from test_search_docsets import LEVELS, WORDS
from test_search_docsets import entries as docset_entries
from whoosh.query import And, Or, Phrase, Term

from archive_app.search import docsets, engine, ranking, segment_files, window_scores
from archive_app.search.docsets import DocSets
from archive_app.search.engine import SearchIndex, SearchQuery, build_query, security_filter
from archive_app.search.ranking import ReadableBM25F, ReadableStatistics, scored

LATIN = ["quokka", "wombat", "numbat"]


def entries(count: int, seed: int, start: int = 0) -> list[dict]:
    """The docsets tests' entries, their words recurring a varying number of times in fields
    of varying length."""
    rng = random.Random(seed)
    made = docset_entries(count, seed, start)
    for entry in made:
        entry.update(
            title=entry["product"][0] + "".join(rng.choices(WORDS, k=rng.randrange(1, 4))),
            manufacturer=rng.choice(["华北制药", "石药集团胶囊厂"]),
            summary="".join(rng.choices(WORDS, k=rng.randrange(0, 6))) + "情况说明",
            text=" ".join(rng.choices(WORDS + LATIN, k=rng.randrange(1, 40))),
        )
    return made


@pytest.fixture
def index(tmp_path, monkeypatch):
    """Three segments of 40, one of updates (its replaced entries deleted in the others),
    deletions not merged away; terms in 12 or more of a segment's documents are `common`
    (their weights kept in the segment files), the others read from the postings."""
    monkeypatch.setattr(engine, "SEGMENT_DOCS", 40)
    monkeypatch.setattr(docsets, "COMMON_POSTINGS", 12)
    built = SearchIndex(tmp_path / "index")
    built.rebuild(entries(120, seed=1))
    built.upsert(entries(15, seed=2, start=30))
    built.delete(["0100", "0101", "0102"])
    return built


QUERIES = [
    SearchQuery(q="胶囊"), SearchQuery(q="阿莫西林"), SearchQuery(q="破损 退货"),
    SearchQuery(q="quokka"), SearchQuery(q="quokka wombat 溶出度"),
    SearchQuery(q="阿莫西林胶囊破损"),
    SearchQuery(q='"阿莫西林胶囊"'), SearchQuery(q='"胶囊破损" 发霉'), SearchQuery(q="石药"),
    SearchQuery(product="阿莫西林"), SearchQuery(q="破损", product="布洛芬"),
    SearchQuery(q="胶囊 numbat", document_text=False), SearchQuery(q="不存在的词"),
]  # fmt: skip
# Scoring queries of other shapes: an Or of two parts (a tree of unions), Ands nested in Ors,
# a term in one field only, a field some segments lack the term in.
SHAPES = [
    Or([Term("title", "胶囊"), Term("summary", "胶囊")]),
    And([Term("text", "quokka"), Term("text", "wombat"), Term("summary", "说明")]),
    Or([And([Term("title", "破损"), Term("text", "破损")]), Term("manufacturer", "胶囊")]),
    Or([Term("summary", "发霉"), And([Term("title", "破损")]), Term("manufacturer", "胶囊")]),
    Or([Term("text", "numbat"), Term("text", "quokka"), Term("title", "quokka")]),
    Term("text", "wombat"),
]
# What only Whoosh's matchers score: these go through `ranking.scored`.
UNSUPPORTED = [
    Term("text", "quokka", boost=2.0),
    And([Term("text", "quokka"), Phrase("title", ["阿莫", "莫西"])]),
    Or([Term("text", "quokka"), Term("batch_no", "b001")]),
    Or([Term("text", "quokka"), Term("title", "胶囊")], scale=0.5),
]


def window(index: SearchIndex, query: SearchQuery, levels):
    """What `SearchIndex.search` hands the window's scoring: the segments' sets, every
    readable match (ascending global numbers) and the readable statistics."""
    searcher = index._fresh_searcher()
    sets = DocSets(index._docsets, searcher, math.inf, folder=index._searcher_folder)
    cleared = sets.evaluate(security_filter(query, levels))
    readable = [lanes & live for lanes, live in zip(cleared, sets.live(), strict=True)]
    found = sets.evaluate(build_query(query))
    matched = [lanes & allowed for lanes, allowed in zip(found, readable, strict=True)]
    docnums = sorted(segment.offset + docnum
                     for segment, lanes in zip(sets.segments, matched, strict=True)
                     for docnum in lanes)  # fmt: skip
    statistics = ReadableStatistics(sets, readable, (levels, query.include_destroyed))
    return searcher, sets, docnums, statistics


def both(index, query: SearchQuery, scoring, levels):
    searcher, sets, docnums, statistics = window(index, query, levels)
    direct = window_scores.window_scores(sets, scoring, docnums, statistics,
                                         ReadableBM25F(statistics))  # fmt: skip
    whoosh = scored(searcher, scoring, docnums, sets.check, ReadableBM25F(statistics))
    return direct, whoosh


@pytest.mark.parametrize("levels", [LEVELS, ("internal",)])
def test_the_direct_scores_are_whooshs_for_the_searches_queries(index, levels):
    scored_any = 0
    for query in QUERIES:
        direct, whoosh = both(index, query, engine.scoring_query(query), levels)
        assert direct == whoosh, query  # the same documents, the same floats
        scored_any += len(whoosh)
    assert scored_any > 150  # the queries do score many documents, in every segment


@pytest.mark.parametrize("matcher_type", ["auto", "tree"])
def test_the_direct_scores_are_whooshs_for_other_shapes(index, monkeypatch, matcher_type):
    if matcher_type == "tree":  # what a segment of more than 5,000 documents gets
        monkeypatch.setattr(Or, "matcher_type", Or.DEFAULT_MATCHER)
    everything = SearchQuery()
    for scoring in SHAPES:
        direct, whoosh = both(index, everything, scoring, LEVELS)
        assert direct == whoosh and whoosh, scoring


def test_query_parts_only_whoosh_scores_are_left_to_it(index, monkeypatch):
    for scoring in UNSUPPORTED:
        searcher, sets, docnums, statistics = window(index, SearchQuery(), LEVELS)
        weighting = ReadableBM25F(statistics)
        assert window_scores.window_scores(sets, scoring, docnums, statistics, weighting) is None
    # The search ranks such a query through Whoosh's matchers: a boost of 2 doubles scores.
    query = SearchQuery(q="quokka")
    plain = [(hit["id"], hit["score"]) for hit in index.search(query, LEVELS).hits]
    monkeypatch.setattr(engine, "scoring_query", lambda _: Term("text", "quokka", boost=2.0))
    doubled = [(hit["id"], hit["score"]) for hit in index.search(query, LEVELS).hits]
    assert plain and doubled == [(hit_id, score * 2) for hit_id, score in plain]


def pages(index: SearchIndex, query: SearchQuery, levels, per_page: int = 9) -> list[tuple]:
    seen, page = [], 1
    while True:
        paged = SearchQuery(**{**query.__dict__, "page": page, "per_page": per_page})
        hits = index.search(paged, levels).hits
        seen += [(hit["id"], hit["score"]) for hit in hits]
        if len(hits) < per_page:
            return seen
        page += 1


@pytest.mark.parametrize("window_size", [100, 7])
def test_the_order_and_scores_of_every_page_are_whooshs(index, monkeypatch, window_size):
    monkeypatch.setattr(ranking, "RESCORE_WINDOW", window_size)
    direct = {(query, levels): pages(index, query, levels)
              for query in QUERIES for levels in (LEVELS, ("internal",))}  # fmt: skip
    monkeypatch.setattr(ranking, "window_scores", lambda *arguments: None)  # Whoosh's path
    for (query, levels), found in direct.items():
        assert found == pages(index, query, levels), query


def test_common_terms_weights_come_from_the_files_and_rarer_ones_from_their_bitmaps_build(
    index, monkeypatch
):
    fresh = SearchIndex(index.root)
    read: list[tuple[str, str, str]] = []
    original = docsets.postings

    def postings(reader, field, text):
        read.append((reader.segment().segment_id(), field, text))
        return original(reader, field, text)

    monkeypatch.setattr(docsets, "postings", postings)
    for query in QUERIES:
        fresh.search(query, LEVELS)
    common = {(segment_id, key[1], text)
              for segment_id, cached in fresh._docsets.segments.items()
              for key, terms in cached.items() if key[:1] == ("common",)
              for text in terms}  # fmt: skip
    read = [term for term in read if term[1] in engine.TEXT_FIELDS]  # not phrase sequences
    assert common and read
    assert not common & set(read)  # a common term's bitmap and weights are in the files
    assert len(read) == len(set(read))  # a rarer one's weights are read with its bitmap
    first = len(read)
    for query in QUERIES:
        fresh.search(query, LEVELS)
    assert len(read) == first  # warm: neither is read again


def test_the_kept_weights_are_the_postings_weights_and_old_files_get_them(index):
    folder = index._current_folder()
    searcher = index.open().searcher()
    for leaf, _ in searcher.leaf_searchers():
        reader = leaf.reader()
        segment = docsets.Segment(docsets.DocSetCache(derived=engine.DERIVED), reader, None, 0,
                                  folder)  # fmt: skip
        kept = segment.cached[("frequencies", "text")]
        assert kept or segment.size < 40  # some terms are common in every full segment
        for text, raw in kept.items():
            ids, expected = docsets.postings(reader, "text", text)
            assert list(segment_files.decode_weights(raw)) == list(expected)
            assert len(ids) == len(segment.term("text", text))
            assert segment.weights("text", text) == segment_files.decode_weights(raw)
        for text in ("quokka", "wombat", "numbat", "破损"):
            # Every posting, the deleted documents' too: a bitmap's size is what Whoosh's
            # trees are weighted by (the segments' first documents are deleted or replaced).
            ids, weights = docsets.postings(reader, "text", text)
            assert len(ids) == len(weights) == reader.doc_frequency("text", text), text
        # A file written before weights were kept is computed again and rewritten whole.
        path = segment_files.path_for(folder, segment.id)
        stored = segment_files.load(path, segment.id, segment.size)
        old = {key: value for key, value in segment.cached.items() if key[0] != "frequencies"}
        segment_files.save(path, segment.id, segment.size, old)
        written = segment_files.load(path, segment.id, segment.size)
        assert not any(key[0] == "frequencies" for key in written)
        again = docsets.Segment(docsets.DocSetCache(derived=engine.DERIVED), reader, None, 0,
                                folder)  # fmt: skip
        assert again.cached[("frequencies", "text")] == kept
        assert segment_files.load(path, segment.id, segment.size) == stored
    searcher.close()


def test_kept_weights_are_compressed_and_read_back_exactly():
    for weights in ([2.5, 1.0], [1.0] * 10_000, [3.0, 300.0], []):
        encoded = segment_files.encode_weights(array("f", weights))
        assert list(segment_files.decode_weights(encoded)) == weights
    assert len(segment_files.encode_weights(array("f", [1.0] * 10_000))) < 400  # of 40,000
