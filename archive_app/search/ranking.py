"""Relevance order whose cost does not grow with the number of matches.

Scoring every match with BM25F is what made a common word cost seconds at 100,000 dossiers
(Whoosh scores in Python). So the order is in two steps, as search engines rescore a window:
first, matches are tiered by where the words are (all of them in the title or product names,
then in the summary too, then anywhere, documents included: bitmaps, no walking), the latest
indexed first within a tier; then the first `RESCORE_WINDOW` of that order (neighbours in
the postings, cheap to score) are scored by Whoosh's BM25F and sorted by tier, then score.
When there are fewer matches than the window, all of them are scored."""

from __future__ import annotations

from whoosh.query import And, Or, Term

from .docsets import DocSets

RESCORE_WINDOW = 100
TIER_FIELDS = (("title", "product"), ("title", "product", "summary"))


def by_relevance(searcher, sets: DocSets, matched: list[int], words: list[str], scoring,
                 limit: int) -> list[tuple[int, float | None]]:  # fmt: skip
    """The first `limit` (global document number, score) of `matched`: by tier of where
    `words` are, then by the `scoring` query's BM25F (latest indexed first without one).
    The window is the same whatever the page, so pages never overlap nor skip a match."""
    wanted = max(RESCORE_WINDOW, limit) if scoring is not None else limit
    order: list[tuple[int, int]] = []  # (tier, document number), the first step's order
    for tier, lanes in enumerate(tiers(sets, matched, words)):
        if len(order) >= wanted:
            break
        order += [(tier, docnum) for docnum in sets.latest(lanes, wanted - len(order))]
    if scoring is None:
        return [(docnum, None) for _, docnum in order[:limit]]
    window = order[:RESCORE_WINDOW]
    scores = scored(searcher, scoring, sorted(docnum for _, docnum in window), sets.check)
    window.sort(key=lambda pair: (pair[0], -scores.get(pair[1], 0.0)))  # stable: ties stay
    ranked = window + order[RESCORE_WINDOW:]
    return [(docnum, scores.get(docnum)) for _, docnum in ranked[:limit]]


def tiers(sets: DocSets, matched: list[int], words: list[str]) -> list[list[int]]:
    """`matched` split by where all the words are, best first (one tier without words)."""
    if not words:
        return [matched]
    result, rest = [], matched
    for fields in TIER_FIELDS:
        where = And([Or([Term(name, word) for name in fields]) for word in words])
        tier = [left & lanes for left, lanes in zip(rest, sets.evaluate(where), strict=True)]
        result.append(tier)
        rest = [left & ~lanes for left, lanes in zip(rest, tier, strict=True)]
    return result + [rest]


def scored(searcher, wanted, docnums: list[int], check) -> dict[int, float]:
    """BM25F scores of these documents (ascending global numbers) for the query."""
    scores: dict[int, float] = {}
    context = searcher.context()
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
