"""The rescoring window's BM25F scores computed directly, as Whoosh's matcher tree computes
them, from what the segments already keep.

Whoosh scores a document by moving a tree of matchers to it (`skip_to`, `is_active`, `score`
at every node, a field length read per posting, block headers unpickled on the way): for a
word of three bigrams in five fields that was half of a warm query's time at 100,000
dossiers (bench/RESULTS.md, "where a query's time goes"). Here each term's score comes from
its bitmap in the segment (is the document in it, and at which rank), its weights in bitmap
order (`Segment.weights`: the term's count in each document) and the field's length bytes,
through Whoosh's own `bm25` over the caller's readable statistics (`ReadableStatistics`).

The scores are added in the order Whoosh's matchers add them, so they are Whoosh's to the
last bit, and so are ties: an And is a tree of intersections built by `make_weighted_tree`
on the parts' estimated sizes; an Or of two parts, or over a segment of more than 5,000
documents, a tree of unions built the same way; a smaller segment's Or is Whoosh's
`PreloadedOr`, which adds its parts in query order. A query of any other shape (a boost, a
phrase, a field that is not scored by BM25F) gets None: the caller scores it through
Whoosh (`ranking.scored`). tests/unit/search/test_search_window_scores.py checks both agree.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable
from operator import itemgetter

from pyroaring import FrozenBitMap
from whoosh.query import And, Or, Term
from whoosh.scoring import bm25
from whoosh.util.numeric import byte_to_length

from .docsets import DocSets, Segment

# Whoosh's field length of each length byte; 1 for a document without the field, as
# `doc_field_length(docnum, field, 1)` answers for BM25F.
LENGTHS = [byte_to_length(byte) if byte else 1 for byte in range(256)]
# `Or._matcher`'s choice between a tree of unions and a preloaded array (whoosh-reloaded 2.7.5).
PRELOAD_BELOW_DOCS = 5000
TOO_MANY_CLAUSES = Or.TOO_MANY_CLAUSES

Scores = dict[int, float]  # a segment's document number -> its score


class Unsupported(Exception):
    """A query part this module does not score as Whoosh would: score through Whoosh."""


def window_scores(sets: DocSets, scoring, docnums: list[int], statistics,
                  weighting) -> dict[int, float] | None:  # fmt: skip
    """Scores of these documents (ascending global numbers) for the `scoring` query by
    `weighting` (a `ReadableBM25F` over `statistics`), as `ranking.scored` computes them;
    None when the query has a part only Whoosh's matchers score."""
    scores: dict[int, float] = {}
    remaining = iter(docnums)
    docnum = next(remaining, None)
    for segment in sets.segments:
        local = []
        while docnum is not None and docnum < segment.offset + segment.size:
            local.append(docnum - segment.offset)
            docnum = next(remaining, None)
        if not local:
            continue
        scorer = SegmentScorer(segment, FrozenBitMap(local), statistics, weighting)
        try:
            found = scorer.scores(scoring)
        except Unsupported:
            return None
        scores.update((segment.offset + local, score) for local, score in found.items())
        sets.check()
    return scores


class SegmentScorer:
    """The scores of one segment's `candidates` for a query, part by part."""

    def __init__(self, segment: Segment, candidates: FrozenBitMap, statistics, weighting):
        self.segment, self.candidates = segment, candidates
        self.statistics, self.weighting = statistics, weighting

    def scores(self, query) -> Scores:
        if type(query) not in (Term, And, Or) or query.boost != 1.0:
            raise Unsupported(query)  # a boost wraps the part's matcher
        if type(query) is Term:
            return self.term(query)
        if type(query) is Or and (query.scale or query.minmatch):
            raise Unsupported(query)  # a coordination bonus, or a minimum of parts
        parts = query.subqueries
        if not parts:
            return {}
        if len(parts) == 1:
            return self.scores(parts[0])  # CompoundQuery.matcher: the one part's matcher
        found = [self.scores(part) for part in parts]
        if type(query) is And:
            sizes = [-self.estimate(part) for part in parts]
            return weighted_tree(found, sizes, intersection)
        if not self.preloads(query):
            return weighted_tree(found, [self.estimate(part) for part in parts], union)
        total: Scores = {}
        for part in found:  # PreloadedOr: each part's scores added into an array in turn
            total = union(total, part)
        return total

    def preloads(self, query: Or) -> bool:
        """Whether Whoosh's `Or` scores this segment with an array (`PreloadedOr`) rather
        than a tree of unions (`Or._matcher`; a scale or minmatch is refused above)."""
        kind = query.matcher_type
        if kind == Or.AUTO_MATCHER:
            parts, size = len(query.subqueries), self.segment.reader.doc_count_all()
            return not (parts < TOO_MANY_CLAUSES and (parts == 2 or size > PRELOAD_BELOW_DOCS))
        if kind in (Or.DEFAULT_MATCHER, Or.ARRAY_MATCHER):
            return kind == Or.ARRAY_MATCHER
        raise Unsupported(query)  # SplitOr: its small parts' scores go through an array

    def term(self, query: Term) -> Scores:
        field, text = query.fieldname, query.text
        reader = self.segment.reader
        if field not in reader.schema or not reader.schema[field].scorable:
            raise Unsupported(query)
        if not isinstance(text, str):
            raise Unsupported(query)
        lanes = self.segment.term(field, text)
        present = lanes & self.candidates
        if not present:
            return {}
        weights = self.segment.weights(field, text)
        lengths = self.segment.lengths(field)
        statistics, weighting = self.statistics, self.weighting
        idf = statistics.idf(field, text)
        average = statistics.avg_field_length(field) or 1
        B, K1 = weighting._field_B.get(field, weighting.B), weighting.K1
        rank = lanes.rank
        return {docnum: bm25(idf, weights[rank(docnum) - 1], LENGTHS[lengths[docnum]],
                             average, B, K1)
                for docnum in present}  # fmt: skip

    def estimate(self, query) -> int:
        """Whoosh's `estimate_size` of a part in this segment (what its trees are built on)."""
        if type(query) is Term:
            return len(self.segment.term(query.fieldname, query.text))  # the postings
        sizes = [self.estimate(part) for part in query.subqueries]
        if type(query) is And:
            return min(sizes)
        return min(sum(sizes), self.segment.reader.doc_count())


def weighted_tree(parts: list[Scores], weights: list[int],
                  combine: Callable[[Scores, Scores], Scores]) -> Scores:  # fmt: skip
    """Whoosh's `make_weighted_tree`: the two lightest parts combined first, again and
    again (ties in their order: Whoosh's matchers compare equal)."""
    pending = sorted(zip(weights, parts, strict=True), key=itemgetter(0))
    while len(pending) > 1:
        (weight_a, a), (weight_b, b) = pending.pop(0), pending.pop(0)
        insort(pending, (weight_a + weight_b, combine(a, b)), key=itemgetter(0))
    return pending[0][1]


def union(a: Scores, b: Scores) -> Scores:
    """`UnionMatcher`: either side's score, or both added (a's first)."""
    if not a or not b:
        return a or b
    total = dict(a)
    for docnum, score in b.items():
        total[docnum] = a[docnum] + score if docnum in a else score
    return total


def intersection(a: Scores, b: Scores) -> Scores:
    """`IntersectionMatcher`: documents on both sides, their scores added (a's first)."""
    return {docnum: score + b[docnum] for docnum, score in a.items() if docnum in b}
