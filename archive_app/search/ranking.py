"""Relevance order whose cost does not grow with the number of matches.

Scoring every match with BM25F is what made a common word cost seconds at 100,000 dossiers
(Whoosh scores in Python). So the order is in two steps, as search engines rescore a window:
first, matches are tiered by where the words are (all of them in the title or product names,
then in the summary too, then anywhere, documents included: bitmaps, no walking), the latest
indexed first within a tier; then the first `RESCORE_WINDOW` of that order (neighbours in
the postings, cheap to score) are scored by Whoosh's BM25F and sorted by tier, then score.
When there are fewer matches than the window, all of them are scored. The window's scores
come from the segments' bitmaps, weights and field lengths (`window_scores`), equal to the
scores of Whoosh's matcher tree (`scored`: kept for the query shapes that module leaves to
Whoosh, and as the reference its tests compare with).

BM25F's collection statistics (document count, document frequencies, average field lengths)
come only from the documents the caller may read (`ReadableStatistics`): Whoosh's own are over
the whole index, so the order of two readable hits would tell whether a word occurs in
dossiers above the caller's clearance (contract §3: "and their order")."""

from __future__ import annotations

from math import log

from pyroaring import FrozenBitMap
from whoosh.query import And, Or, Term
from whoosh.scoring import BM25F, BM25FScorer, WeightScorer

from .docsets import DocSets
from .window_scores import window_scores

RESCORE_WINDOW = 100
TIER_FIELDS = (("title", "product"), ("title", "product", "summary"))


class ReadableStatistics:
    """Collection statistics over the caller's readable documents only: `readable` is a
    bitmap per segment (clearance and state, live), `key` names that set for the caches."""

    def __init__(self, sets: DocSets, readable: list[FrozenBitMap], key):
        self.sets, self.readable, self.key = sets, readable, key
        self._count: int | None = None
        self._averages: dict[str, float] = {}
        self._frequencies: dict[tuple[str, str], int] = {}

    def doc_count(self) -> int:
        if self._count is None:
            self._count = DocSets.total(self.readable)
        return self._count

    def doc_frequency(self, field: str, text: str) -> int:
        """Readable documents with the term: the cardinality of its bitmaps & the readable set."""
        if (field, text) not in self._frequencies:
            self._frequencies[(field, text)] = sum(
                segment.term(field, text).intersection_cardinality(lanes)
                for segment, lanes in zip(self.sets.segments, self.readable, strict=True)
            )
        return self._frequencies[(field, text)]

    def idf(self, field: str, text: str) -> float:
        """Whoosh's formula (`WeightingModel.idf`) over the readable documents."""
        return log(self.doc_count() / (self.doc_frequency(field, text) + 1)) + 1

    def avg_field_length(self, field: str) -> float:
        if field not in self._averages:
            count = total = 0
            for segment, lanes in zip(self.sets.segments, self.readable, strict=True):
                documents, length = segment.readable_lengths(self.key, lanes, field)
                count, total = count + documents, total + length
            self._averages[field] = total / (count or 1)
        return self._averages[field]


class ReadableBM25F(BM25F):
    """Whoosh's BM25F with `ReadableStatistics` in place of the searcher's."""

    def __init__(self, statistics: ReadableStatistics, **kwargs):
        super().__init__(**kwargs)
        self.statistics = statistics

    def scorer(self, searcher, fieldname, text, qf=1):
        field = searcher.schema[fieldname]
        if not field.scorable:
            return WeightScorer.for_(searcher, fieldname, text)
        B = self._field_B.get(fieldname, self.B)
        word = field.from_bytes(text) if isinstance(text, bytes) else text
        statistics = self.statistics
        return ReadableScorer(searcher, fieldname, text, statistics.idf(fieldname, word),
                              statistics.avg_field_length(fieldname), B, self.K1, qf)  # fmt: skip


class ReadableScorer(BM25FScorer):
    def __init__(self, searcher, fieldname, text, idf, avgfl, B, K1, qf=1):
        # BM25FScorer.__init__ reads the searcher's statistics: set them from ours instead.
        self.idf, self.avgfl = idf, avgfl or 1
        self.B, self.K1, self.qf = B, K1, qf
        self.setup(searcher, fieldname, text)


def by_relevance(searcher, sets: DocSets, matched: list[FrozenBitMap], words: list[str], scoring,
                 limit: int, statistics: ReadableStatistics,
                 ) -> list[tuple[int, float | None]]:  # fmt: skip
    """The first `limit` (global document number, score) of `matched`: by tier of where
    `words` are, then by the `scoring` query's BM25F over the readable `statistics` (latest
    indexed first without one). The window is the same whatever the page, so pages never
    overlap nor skip a match."""
    wanted = max(RESCORE_WINDOW, limit) if scoring is not None else limit
    order: list[tuple[int, int]] = []  # (tier, document number), the first step's order
    for tier, lanes in enumerate(tiers(sets, matched, words)):
        if len(order) >= wanted:
            break
        order += [(tier, docnum) for docnum in sets.latest(lanes, wanted - len(order))]
    if scoring is None:
        return [(docnum, None) for _, docnum in order[:limit]]
    window = order[:RESCORE_WINDOW]
    docnums, weighting = sorted(docnum for _, docnum in window), ReadableBM25F(statistics)
    scores = window_scores(sets, scoring, docnums, statistics, weighting)
    if scores is None:  # a query part only Whoosh's matchers score
        scores = scored(searcher, scoring, docnums, sets.check, weighting)
    window.sort(key=lambda pair: (pair[0], -scores.get(pair[1], 0.0)))  # stable: ties stay
    ranked = window + order[RESCORE_WINDOW:]
    return [(docnum, scores.get(docnum)) for _, docnum in ranked[:limit]]


def tiers(sets: DocSets, matched: list[FrozenBitMap],
          words: list[str]) -> list[list[FrozenBitMap]]:  # fmt: skip
    """`matched` split by where all the words are, best first (one tier without words)."""
    if not words:
        return [matched]
    result, rest = [], matched
    for fields in TIER_FIELDS:
        where = And([Or([Term(name, word) for name in fields]) for word in words])
        tier = [left & lanes for left, lanes in zip(rest, sets.evaluate(where), strict=True)]
        result.append(tier)
        rest = [left - lanes for left, lanes in zip(rest, tier, strict=True)]
    return result + [rest]


def scored(searcher, wanted, docnums: list[int], check, weighting) -> dict[int, float]:
    """Scores of these documents (ascending global numbers) for the query by `weighting`."""
    scores: dict[int, float] = {}
    context = searcher.context(weighting=weighting)
    remaining = iter(docnums)
    docnum = next(remaining, None)
    for subsearcher, offset in searcher.leaf_searchers():
        end = offset + subsearcher.reader().doc_count_all()
        if docnum is None:
            break
        if docnum >= end:
            continue
        matcher = wanted.matcher(subsearcher, context)
        while docnum is not None and docnum < end:
            local = docnum - offset
            if matcher.is_active() and matcher.id() < local:
                matcher.skip_to(local)
            if matcher.is_active() and matcher.id() == local:
                scores[docnum] = matcher.score()
            check()
            docnum = next(remaining, None)
    return scores
