"""A search answered from the document sets (`pg_sets.py`): the matches as a bitmap (the
words' sets ANDed, with the filters' and the caller's readable set), the total and every
facet value's count as cardinalities of ANDs, the order's first window taken from the tier
sets' largest numbers (the latest indexed first), and only the window's and the page's rows
read from `search_rows` (scored there by `ts_rank_cd`, as `pg_backend.answer_statement`).

The same answer as that statement's, row for row (tests/unit/search/test_search_pg_sets.py
checks it on random queries and clearances). Quoted phrases: their terms' sets give the
candidates, and the candidates' vectors are checked in SQL (positions are not in the sets).
Shapes the sets do not cover (a batch or complaint number: the GIN and b-tree indexes answer
those from a handful of rows) are `None`: the caller runs the statement instead.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date

from pyroaring import BitMap
from sqlalchemy import text
from sqlalchemy.orm import Session

from ..records.vocabulary import LIVING_STATES
from .analysis import SEPARATOR, query_terms
from .engine import MAX_QUERY_CHARS, MAX_TERMS, QUOTED, SearchQuery, query_words
from .pg_query import PHRASE_WEIGHTS, TIER_WEIGHTS, scoring_words, tsquery
from .pg_sets import (
    DAY,
    FACET_KINDS,
    LEVEL,
    LONG,
    MONTH,
    PRODUCT,
    READY,
    SEQUENCE_KINDS,
    STATE,
    TEXT,
    load,
)
from .ranking import RESCORE_WINDOW

META_KINDS = ("A", "B", "C", "D")
FACET_NAMES = {kind: column for column, kind in FACET_KINDS.items()} | {PRODUCT: "product"}


def covered(query: SearchQuery) -> bool:
    """Whether the sets answer this query's shape."""
    return not (query.batch_no or query.complaint_no)


def answer(session: Session, query: SearchQuery, levels: tuple[str, ...],
           check: Callable[[], None]) -> tuple[int, dict, list[dict]] | None:  # fmt: skip
    """(total, facets, page hits as rows) from the sets; None when they are not ready."""
    text_value = (query.q or "")[:MAX_QUERY_CHARS]
    phrases = [found for found in map(query_terms, QUOTED.findall(text_value))]
    single = [found[0] for found in phrases if len(found) == 1]
    phrases = [found for found in phrases if len(found) > 1]
    single += query_terms(QUOTED.sub(" ", text_value).replace('"', " "))[:MAX_TERMS]
    single = list(dict.fromkeys(single))
    product = query_terms((query.product or "")[:MAX_QUERY_CHARS])[:MAX_TERMS]
    words = query_words(query)
    match_kinds = (*META_KINDS, TEXT) if query.document_text else META_KINDS
    wanted_terms = {*single, *words, *(term for found in phrases for term in found)}
    by_kind = {kind: wanted_terms for kind in match_kinds} | {"B": wanted_terms | set(product)}
    dated = bool(query.received_from or query.received_to or query.sort == "received_on")
    kinds = [*FACET_NAMES, LEVEL, STATE, *([MONTH] if dated else [])]
    sets = load(session, kinds, by_kind, [READY, LONG])
    if READY not in sets:
        return None
    check()

    def union(kinds_of: tuple[str, ...], value: str) -> BitMap:
        found = [sets[(kind, value)] for kind in kinds_of if (kind, value) in sets]
        return BitMap.union(*found) if found else BitMap()

    readable = BitMap.union(BitMap(), *(
        sets.get((LEVEL, str(level)), BitMap()) for level in levels))  # fmt: skip
    if not query.include_destroyed:
        readable &= BitMap.union(BitMap(), *(
            sets.get((STATE, str(state)), BitMap()) for state in LIVING_STATES))  # fmt: skip
    matched = readable
    for term in single:
        matched = matched & union(match_kinds, term)
    for found in phrases:
        for term in found:
            matched = matched & union(("A", "B", "C"), term)
    for term in product:
        matched = matched & sets.get(("B", term), BitMap())
    for column in ("complaint_class", "complaint_type", "outcome"):
        value = getattr(query, column)
        if value:
            kind = FACET_KINDS[column]
            matched = matched & sets.get((kind, value), BitMap())
    if query.received_from or query.received_to:
        matched = matched & _received(session, sets, query.received_from, query.received_to)
    check()
    for found in phrases:
        if matched:
            matched = matched & _phrase(session, matched & sets.get(LONG, BitMap()), found)
            check()
    facets: dict[str, dict] = {name: {} for name in FACET_NAMES.values()}
    for (kind, value), members in sets.items():
        if kind in FACET_NAMES:
            count = matched.intersection_cardinality(members)
            if count:
                facets[FACET_NAMES[kind]][value] = count
    offset, limit = (query.page - 1) * query.per_page, query.page * query.per_page
    if query.sort == "received_on":
        hits = _rows(session, _by_date(session, sets, matched, limit)[offset:limit], [], None)
        return len(matched), facets, hits
    order, tiers = _tier_order(sets, matched, words, max(RESCORE_WINDOW, limit))
    window = order[:RESCORE_WINDOW]
    page_from_rest = order[RESCORE_WINDOW:limit]
    scored = scoring_words(query)
    scoring = tsquery(scored, joiner=" | ") if scored else None
    fetched = _rows(session, window + page_from_rest, window, scoring)
    rows = {row["seq"]: row for row in fetched}
    position = {seq: n for n, seq in enumerate(order)}

    def rescored(seq: int):
        score = rows[seq]["score"]
        return (tiers[seq], score is None, -(score or 0.0), position[seq])

    final = sorted(window, key=rescored) + page_from_rest
    return len(matched), facets, [rows[seq] for seq in final[offset:limit]]


def _tier_order(sets, matched: BitMap, words: list[str], wanted: int):
    """The first `wanted` matches in the first step's order (tier, then the latest indexed),
    and each one's tier."""
    tiers = [matched]
    if words:
        kept = []
        for weights in TIER_WEIGHTS:
            kinds = tuple(weights)
            tier = matched
            for word in words:
                found = [sets[(kind, word)] for kind in kinds if (kind, word) in sets]
                tier = tier & (BitMap.union(*found) if found else BitMap())
            kept.append(tier)
        tiers = [kept[0], kept[1] - kept[0], matched - kept[1]]
    order: list[int] = []
    tier_of: dict[int, int] = {}
    for number, tier in enumerate(tiers):
        if len(order) >= wanted:
            break
        take = min(wanted - len(order), len(tier))
        if take:
            latest = tier[len(tier) - take :].to_array()[::-1].tolist()
            order += latest
            tier_of |= dict.fromkeys(latest, number)
    return order, tier_of


def _received(session: Session, sets, received_from: date | None,
              received_to: date | None) -> BitMap:  # fmt: skip
    """Rows received in the range: whole months' sets, and the rows of a month only partly in
    the range read by date from the table (an index range of one month at most each end)."""
    inside, partial = BitMap(), []
    for (kind, value), members in sets.items():
        if kind != MONTH:
            continue
        year, month = map(int, value.split("-"))
        first = date(year, month, 1)
        last = date(year, month, calendar.monthrange(year, month)[1])
        low, high = max(first, received_from or first), min(last, received_to or last)
        if low > high:
            continue
        if low == first and high == last:
            inside |= members
        else:
            partial.append((low, high))
    for low, high in partial:
        inside.update(session.scalars(
            text("SELECT seq FROM search_rows WHERE received_on BETWEEN :low AND :high"),
            {"low": low, "high": high}))  # fmt: skip
    return inside


def _phrase(session: Session, long_candidates: BitMap, words: list[str]) -> BitMap:
    """The rows with the phrase's terms consecutive in the title, the product names or the
    summary: the union of the field sequences holding the phrase's own sequence (the
    primary key's values read, not the rows), and those of the candidates whose field is
    too long for a sequence set that their vector shows it in (positions)."""
    pattern = SEPARATOR + SEPARATOR.join(words) + SEPARATOR
    found = BitMap()
    for (members,) in session.execute(
        text("SELECT members FROM search_sets WHERE kind = ANY(:kinds)"
             " AND strpos(value, :pattern) > 0"),
        {"kinds": list(SEQUENCE_KINDS.values()), "pattern": pattern},
    ):  # fmt: skip
        found |= BitMap.deserialize(members)
    if long_candidates:
        found.update(session.scalars(
            text("SELECT r.seq FROM search_rows AS r"
                 " JOIN unnest(CAST(:candidates AS bigint[])) AS c(seq) USING (seq)"
                 " WHERE r.meta_terms @@ CAST(:phrase AS tsquery)"),
            {"candidates": long_candidates.to_array().tolist(),
             "phrase": tsquery(words, PHRASE_WEIGHTS, " <-> ")}))  # fmt: skip
    return found


def _by_date(session: Session, sets, matched: BitMap, wanted: int) -> list[int]:
    """The first `wanted` matches by date received, latest first (then the latest indexed):
    month sets counted from the latest until they hold enough, then the day sets of those
    months, each day's matches latest indexed first (no row read)."""
    months = sorted((value for kind, value in sets if kind == MONTH), reverse=True)
    held, first = 0, None
    for month in months:
        held += matched.intersection_cardinality(sets[(MONTH, month)])
        first = month
        if held >= wanted:
            break
    if not held or not wanted:
        return []
    order: list[int] = []
    for (members,) in session.execute(
        text("SELECT members FROM search_sets WHERE kind = :day AND value >= :first"
             " ORDER BY value DESC, chunk DESC"),
        {"day": DAY, "first": f"{first}-01"},
    ):  # fmt: skip
        part = matched & BitMap.deserialize(members)  # a day's chunk: later chunks first
        order += part[max(0, len(part) - (wanted - len(order))) :].to_array()[::-1].tolist()
        if len(order) >= wanted:
            break
    return order


def _rows(session: Session, seqs: list[int], scored: list[int], scoring: str | None) -> list[dict]:
    """The rows of these numbers, in their order, with a score for those in `scored`."""
    if not seqs:
        return []
    score = "ts_rank_cd(meta_terms, CAST(:scoring AS tsquery))" if scoring else "NULL"
    found = {
        row.seq: row
        for row in session.execute(
            text(
                f"SELECT seq, dossier_id, title, product, summary, {score} AS score"
                " FROM search_rows WHERE seq = ANY(:seqs)"
            ),
            {"seqs": list(seqs), "scoring": scoring},
        )  # fmt: skip
    }
    chosen = set(scored)
    return [{"seq": seq, "id": found[seq].dossier_id, "title": found[seq].title,
             "product": found[seq].product, "summary": found[seq].summary,
             "score": found[seq].score if seq in chosen else None}
            for seq in seqs]  # fmt: skip
