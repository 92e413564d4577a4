"""Document sets as bitmaps: what a query matches, counted, trimmed and faceted in C.

Whoosh's collectors walk every matching document in Python to filter, count and facet it:
at 100,000 dossiers a word found in most of them costs more than a second. Here a term's
postings in one segment become a bitmap, a Python int with one byte per document (0 or 1),
so `&`, `|` and `bit_count()` run over the whole segment in C. Whoosh never changes a
segment once written (deletions go to a set beside it, applied here as the segment's live
documents), so a segment's bitmaps stay valid until a merge replaces it: they are cached
by segment id, across searchers, and dropped with the segment.
"""

from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from itertools import accumulate, compress, islice

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.columns import NumericColumn
from whoosh.matching.wrappers import FilterMatcher
from whoosh.query import And, DateRange, Every, Or, Phrase, Term
from whoosh.util.numeric import byte_to_length, length_to_byte

from .analysis import SEPARATOR

CACHE_BYTES = 64 * 1024 * 1024  # term bitmaps kept (a byte per document each)
ENTRY_BYTES = 256  # about what a cache entry's key and tuple take besides its bitmap


class Deadline(Exception):
    """The query ran past its time limit."""


def posting_ids(reader, field: str, text) -> list[int]:
    """A term's document numbers in a segment (deleted ones too: callers apply `live`).

    Read a block at a time from Whoosh's W3 postings, which takes half the time of its
    matcher's one-at-a-time `all_ids` (the first query for a common word builds bitmaps
    from 100,000 postings). That reads the matcher's private fields: whoosh-reloaded is
    pinned to the version they were read from, and any other matcher goes the public way.
    """
    matcher = reader.postings(field, text)
    if isinstance(matcher, FilterMatcher):  # the segment has deletions
        matcher = matcher.child
    if not isinstance(matcher, W3LeafMatcher):
        return list(matcher.all_ids())
    ids: list[int] = []
    while matcher.is_active():
        if matcher._ids is None:
            matcher._read_ids()
        ids.extend(matcher._ids[matcher._i :])
        matcher._next_block()
    return ids


def length_bytes(reader, field: str, size: int) -> bytes:
    """Each document's length in `field` as Whoosh stores it (one byte, `byte_to_length`).

    Read as one block from the W3 lengths column (the same pinned private fields as
    `posting_ids`); any other reader goes document by document."""
    perdoc = getattr(reader, "_perdoc", None)
    column = None
    if perdoc is not None and hasattr(perdoc, "_cached_reader"):
        column = perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
    if column is None and perdoc is not None:
        return bytes(size)  # no document of the segment has the field
    if type(column) is NumericColumn.Reader and column._typecode == "B":
        count = min(column._count, size)
        return column._dbfile.get(column._basepos, count) + bytes(size - count)
    return bytes(length_to_byte(reader.doc_field_length(docnum, field, 0) or 0)
                 for docnum in range(size))  # fmt: skip


def bitmap(docnums, size: int) -> int:
    marks = bytearray(size)
    for docnum in docnums:
        marks[docnum] = 1
    return int.from_bytes(marks, "little")


class DocSetCache:
    """Per-segment bitmaps of terms (least recently used dropped past CACHE_BYTES), and of
    each segment's facet values and received-on order. One searching thread at a time."""

    def __init__(self, limit: int = CACHE_BYTES):
        self.limit = limit
        self.terms: OrderedDict[tuple, tuple[int, int]] = OrderedDict()  # -> (bitmap, bytes)
        self.term_bytes = 0
        self.segments: dict[str, dict] = {}  # segment id -> facets, dates, live documents
        self.retained: set[str] = set()

    def retain(self, segment_ids: set[str]) -> None:
        """Forget what belongs to segments a merge or rebuild has replaced."""
        if segment_ids == self.retained:
            return  # the same segments as the last search: nothing to forget
        self.retained = segment_ids
        for key in [key for key in self.terms if key[0] not in segment_ids]:
            self.term_bytes -= self.terms.pop(key)[1]
        for segment_id in set(self.segments) - segment_ids:
            del self.segments[segment_id]

    def term(self, segment_id: str, field: str, text, build) -> int:
        key = (segment_id, field, text)
        if key in self.terms:
            self.terms.move_to_end(key)
            return self.terms[key][0]
        lanes, size = build()
        cost = size + ENTRY_BYTES  # an absent term costs its key: never unbounded entries
        self.terms[key] = (lanes, cost)
        self.term_bytes += cost
        while self.term_bytes > self.limit and len(self.terms) > 1:
            self.term_bytes -= self.terms.popitem(last=False)[1][1]
        return lanes

    def segment(self, segment_id: str) -> dict:
        return self.segments.setdefault(segment_id, {})


class Segment:
    """One segment of the searcher: its reader, offset, size and cached bitmaps."""

    def __init__(self, cache: DocSetCache, reader, searcher, offset: int):
        self.cache, self.reader, self.searcher, self.offset = cache, reader, searcher, offset
        self.id = reader.segment().segment_id()
        self.size = reader.doc_count_all()
        self.cached = cache.segment(self.id)

    def term(self, field: str, text) -> int:
        def build():
            if (field, text) not in self.reader:
                return 0, 0
            return bitmap(posting_ids(self.reader, field, text), self.size), self.size

        return self.cache.term(self.id, field, text, build)

    def live(self) -> int:
        """Every document not deleted (deletions only grow while a segment lives)."""
        deleted = self.reader.deleted_docs_set
        known, lanes = self.cached.get("live", (-1, 0))
        if known != len(deleted):
            marks = bytearray(b"\x01" * self.size)
            for docnum in deleted:
                marks[docnum] = 0
            lanes = int.from_bytes(marks, "little")
            self.cached["live"] = (len(deleted), lanes)
        return lanes

    def facet(self, field: str) -> dict[str, int]:
        """Each value of a facet field with its documents' bitmap."""
        key = ("facet", field)
        if key not in self.cached:
            schema_field = self.reader.schema[field]
            values = {}
            for term in schema_field.sortable_terms(self.reader, field):
                docnums = posting_ids(self.reader, field, term)
                values[str(schema_field.from_bytes(term))] = bitmap(docnums, self.size)
            self.cached[key] = values
        return self.cached[key]

    def dates(self, field: str) -> tuple[list[int], list[int], list[int]]:
        """A sortable field's column values in ascending order, the documents in that order
        (ranges by bisection, newest first by walking backwards), and each document's value."""
        key = ("dates", field)
        if key not in self.cached:
            column = self.reader.column_reader(field, translate=False)  # raw numbers
            by_docnum = [column[docnum] for docnum in range(self.size)]
            ordered = sorted(range(self.size), key=by_docnum.__getitem__)
            self.cached[key] = ([by_docnum[d] for d in ordered], ordered, by_docnum)
        return self.cached[key]

    def readable_lengths(self, key, lanes: int, field: str) -> tuple[int, int]:
        """(documents, their total length in `field`) of `lanes`, the caller's readable set
        named by `key` (clearance levels and states): cached until the segment's deletions
        change, the only way that set changes while the segment lives."""
        deleted = len(self.reader.deleted_docs_set)
        cache_key = ("readable", key, field)
        known = self.cached.get(cache_key)
        if known is None or known[0] != deleted:
            if ("lengths", field) not in self.cached:
                self.cached[("lengths", field)] = length_bytes(self.reader, field, self.size)
            marks = lanes.to_bytes(self.size, "little")
            lengths = compress(self.cached[("lengths", field)], marks)
            known = (deleted, lanes.bit_count(), sum(map(byte_to_length, lengths)))
            self.cached[cache_key] = known
        return known[1], known[2]

    def phrase(self, field: str, words: list[str]) -> int:
        """The documents whose `field` has `words` as consecutive terms: the distinct term
        sequences of the field (cached, one string) searched for the phrase's sequence."""
        key = ("sequences", field)
        if key not in self.cached:
            sequences = [term.decode() for term in self.reader.lexicon(f"{field}_seq")]
            starts = list(accumulate((len(text) + 1 for text in sequences), initial=0))
            self.cached[key] = ("\n".join(sequences), starts)
        joined, starts = self.cached[key]
        pattern = SEPARATOR + SEPARATOR.join(words) + SEPARATOR
        marks = bytearray(self.size)
        at = joined.find(pattern)
        while at >= 0:
            number = bisect_right(starts, at) - 1
            sequence = joined[starts[number] : starts[number + 1] - 1]
            for docnum in posting_ids(self.reader, f"{field}_seq", sequence):
                marks[docnum] = 1
            at = joined.find(pattern, starts[number + 1])
        return int.from_bytes(marks, "little")

    def date_range(self, query: DateRange) -> int:
        values, docnums, _ = self.dates(query.fieldname)
        start = 0 if query.start is None else (
            bisect_right(values, query.start) if query.startexcl
            else bisect_left(values, query.start))  # fmt: skip
        end = len(values) if query.end is None else (
            bisect_left(values, query.end) if query.endexcl
            else bisect_right(values, query.end))  # fmt: skip
        return bitmap(docnums[start:end], self.size)


class DocSets:
    """Bitmaps for one searcher's segments; `deadline` bounds the walks Whoosh must do."""

    def __init__(self, cache: DocSetCache, searcher, deadline: float):
        self.cache, self.deadline = cache, deadline
        # An index without documents has one reader and no segment: nothing to evaluate.
        self.segments = [Segment(cache, subsearcher.reader(), subsearcher, offset)
                         for subsearcher, offset in searcher.leaf_searchers()
                         if subsearcher.reader().segment() is not None]  # fmt: skip
        cache.retain({segment.id for segment in self.segments})

    def evaluate(self, query) -> list[int]:
        """The documents matching `query`, a bitmap per segment (deleted ones included: the
        caller intersects with `live`)."""
        return [self._evaluate(query, segment) for segment in self.segments]

    def live(self) -> list[int]:
        return [segment.live() for segment in self.segments]

    def _evaluate(self, query, segment: Segment) -> int:
        if isinstance(query, Term):
            return segment.term(query.fieldname, query.text)
        if isinstance(query, And):
            result = None
            for part in query.subqueries:
                lanes = self._evaluate(part, segment)
                result = lanes if result is None else result & lanes
                if not result:
                    break
            return result or 0
        if isinstance(query, Or):
            result = 0
            for part in query.subqueries:
                result |= self._evaluate(part, segment)
            return result
        if isinstance(query, Every):
            return segment.live()
        if isinstance(query, DateRange) and segment.reader.has_column(query.fieldname):
            return segment.date_range(query)
        if isinstance(query, Phrase):
            if f"{query.fieldname}_seq" in segment.reader.schema:
                find = lambda: segment.phrase(query.fieldname, query.words)  # noqa: E731
            else:  # an index built before term sequences: Whoosh checks positions (about a
                # second per 10,000 candidates) until `archive reindex`
                find = lambda: self._walk(query, segment)  # noqa: E731
            key = ("phrase", query.fieldname), tuple(query.words)
            return self.cache.term(segment.id, *key, lambda: (find(), segment.size))
        return self._walk(query, segment)  # anything else: Whoosh's matcher

    def _walk(self, query, segment: Segment) -> int:
        matcher = query.matcher(segment.searcher, segment.searcher.boolean_context())
        marks = bytearray(segment.size)
        while matcher.is_active():
            marks[matcher.id()] = 1
            self.check()
            matcher.next()
        return int.from_bytes(marks, "little")

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise Deadline

    # -- counting and ordering -------------------------------------------------------------

    @staticmethod
    def total(sets: list[int]) -> int:
        return sum(lanes.bit_count() for lanes in sets)

    def facet_counts(self, sets: list[int], field: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for lanes, segment in zip(sets, self.segments, strict=True):
            if not lanes:
                continue
            for value, value_lanes in segment.facet(field).items():
                count = (lanes & value_lanes).bit_count()
                if count:
                    counts[value] = counts.get(value, 0) + count
        return counts

    def newest(self, sets: list[int], field: str, limit: int) -> list[tuple[int, int]]:
        """Up to `limit` (value, global document number) of the set, newest first."""
        found = []
        for lanes, segment in zip(sets, self.segments, strict=True):
            if not lanes:
                continue
            _, docnums, by_docnum = segment.dates(field)
            marks = lanes.to_bytes(segment.size, "little")
            for docnum in islice(filter(marks.__getitem__, reversed(docnums)), limit):
                found.append((by_docnum[docnum], segment.offset + docnum))
        found.sort(key=lambda pair: (-pair[0], -pair[1]))  # the walk's order: later first
        return found[:limit]

    def latest(self, sets: list[int], limit: int) -> list[int]:
        """Up to `limit` global document numbers of the set, the most recently indexed first
        (the highest numbers: neighbours in the postings, so scoring them reads few blocks)."""
        found: list[int] = []
        for lanes, segment in reversed(list(zip(sets, self.segments, strict=True))):
            marks = lanes.to_bytes(segment.size, "little")
            end = segment.size
            while len(found) < limit and (end := marks.rfind(1, 0, end)) >= 0:
                found.append(segment.offset + end)
            if len(found) >= limit:
                break
        return found
