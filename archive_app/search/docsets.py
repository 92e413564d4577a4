"""Document sets as bitmaps: what a query matches, counted, trimmed and faceted in C.

Whoosh's collectors walk every matching document in Python to filter, count and facet it:
at 100,000 dossiers a word found in most of them costs more than a second. Here a term's
postings in one segment become a roaring bitmap (`pyroaring`: sorted arrays for rare terms,
bitsets for common ones, runs for ranges), so `&`, `|`, `-` and their counts run over the
whole segment in C. Whoosh never changes a segment once written (deletions go to a set
beside it, applied here as the segment's live documents), so a segment's bitmaps stay valid
until a merge replaces it: they are cached by segment id, across searchers, and dropped with
the segment. Cached bitmaps are `FrozenBitMap`s: an in-place `|=` or `&=` on one would
change every later query's answer, so none is possible.
"""

from __future__ import annotations

import sys
import threading
import time
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from itertools import accumulate, islice
from pathlib import Path

from cachetools import LRUCache
from pyroaring import BitMap, FrozenBitMap
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.columns import NumericColumn
from whoosh.matching.wrappers import FilterMatcher
from whoosh.query import And, DateRange, Every, Or, Phrase, Term
from whoosh.util.numeric import byte_to_length, length_to_byte

from . import segment_files
from .analysis import SEPARATOR

CACHE_BYTES = 64 * 1024 * 1024  # term bitmaps kept
ENTRY_BYTES = 256  # about what a cache entry's key and tuple take besides its bitmap
CONTAINER_BYTES = 32  # CRoaring's bookkeeping for each container (key, type, pointer, header)


# Fields whose facet values are their terms as written (ID fields: `from_bytes` decodes), so
# a term's bitmap can be a facet value's; not a NUMERIC field, whose terms are encoded.
EXACT_FACETS = frozenset({"complaint_class", "complaint_type", "outcome", "product_name",
                          "confidentiality", "state"})  # fmt: skip
EMPTY = FrozenBitMap()
# A term in this many documents of a segment has its bitmap kept with the segment (`common`):
# reading its postings takes 4 blocks or more (each unzipped and unpickled by Whoosh), which
# made the first query of a phrase or word of middling frequency cost over 100 ms at 100,000
# (a threshold of 4,096 kept 0.5 MB a segment of 10,000 there, 512 keeps 1.3 MB).
COMMON_POSTINGS = 512


class Deadline(Exception):
    """The query ran past its time limit."""


def posting_ids(reader, field: str, text) -> list[int]:
    """A term's document numbers in a segment (deleted ones too: callers apply `live`)."""
    return postings(reader, field, text)[0]


def postings(reader, field: str, text) -> tuple[list[int], array]:
    """A term's document numbers in a segment (deleted ones too: callers apply `live`) and
    each one's weight (its count in the document: what BM25F scores), in the same order.

    Read a block at a time from Whoosh's W3 postings, which takes half the time of its
    matcher's one-at-a-time `all_ids` (the first query for a common word builds bitmaps
    from 100,000 postings); a block's weights are in the same pickle as its ids, so they
    cost no extra read. That reads the matcher's private fields: whoosh-reloaded is pinned
    to the version they were read from, and any other matcher goes the public way.
    """
    matcher = reader.postings(field, text)
    if isinstance(matcher, FilterMatcher):  # the segment has deletions
        # Filtering moved the child past the deleted documents at the start: back to the
        # first posting, so that the bitmap holds every posting (its size is the term's
        # document frequency) and the weights stay aligned with any bitmap of the term.
        matcher = matcher.child
        matcher.reset()
    ids: list[int] = []
    weights = array("f")
    if not isinstance(matcher, W3LeafMatcher):
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
        return ids, weights
    while matcher.is_active():
        if matcher._data is None:
            matcher._read_data()
        start = matcher._i
        if matcher._ids is None:
            # The block's ids are stored as differences: summed in C by `accumulate`, not by
            # Whoosh's generator one id at a time.
            ids.extend(accumulate(matcher._data[0]))
        else:
            ids.extend(matcher._ids[start:])
        block = matcher._data[1]  # minified as Whoosh writes it: None (all 1), one float, all
        if block is None or isinstance(block, float):
            weights.extend([1.0 if block is None else block] * (matcher._blocklength - start))
        else:
            weights.extend(block[start:])
        matcher._next_block()
    return ids, weights


def column_values(reader, field: str, size: int) -> list[int]:
    """Each document's raw value in a numeric column (a date's sortable number), read as one
    block from the W3 column (the pinned private fields of `postings`; document by
    document, a third of a first date query at 100,000); any other column goes document by
    document."""
    column = reader.column_reader(field, translate=False)
    if type(column) is not NumericColumn.Reader:
        return [column[docnum] for docnum in range(size)]
    count = min(column._count, size)
    values = array(column._typecode, column._dbfile.get(column._basepos, count * column._fixedlen))
    if sys.byteorder == "little":
        values.byteswap()  # written big-endian ("!")
    return values.tolist() + [column._default] * (size - count)


def length_bytes(reader, field: str, size: int) -> bytes:
    """Each document's length in `field` as Whoosh stores it (one byte, `byte_to_length`).

    Read as one block from the W3 lengths column (the same pinned private fields as
    `postings`); any other reader goes document by document."""
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


def bitmap(docnums) -> FrozenBitMap:
    """The set of these document numbers (any order)."""
    return FrozenBitMap(docnums)


def bitmap_bytes(lanes: BitMap | FrozenBitMap) -> int:
    """About the memory a bitmap holds: its containers' data and their bookkeeping (from
    CRoaring's statistics, a few microseconds, not a serialisation)."""
    stats = lanes.get_statistics()
    data = (stats["n_bytes_array_containers"] + stats["n_bytes_run_containers"]
            + stats["n_bytes_bitset_containers"])  # fmt: skip
    return data + CONTAINER_BYTES * stats["n_containers"]


def _entry_bytes(entry: tuple[object, int]) -> int:
    return entry[1]


def _array_bytes(values: array) -> int:
    return len(values) * values.itemsize


class DocSetCache:
    """Per-segment bitmaps of terms (a `cachetools.LRUCache`: least recently used dropped
    past `limit` bytes), and of each segment's facet values and received-on order. Searches
    run one at a time (the engine's searcher lock); the cache has its own lock all the same,
    as cachetools' caches are not thread-safe and a purge forgets segments from its thread."""

    def __init__(self, limit: int = CACHE_BYTES, derived: tuple = ()):
        self._lock = threading.Lock()
        # The per-segment entries kept in a file beside each segment (`segment_files`), as
        # (kind, field): ("facet", "year"), ("dates", "received_on"), ("lengths", "title"),
        # ("sequences", "title"). Empty: nothing is read from nor written to such files.
        self.derived = derived
        # key (segment id, field, text) -> (bitmap, bytes it is counted for)
        self.terms: LRUCache = LRUCache(limit, getsizeof=_entry_bytes)
        self.segments: dict[str, dict] = {}  # segment id -> facets, dates, live documents
        self.retained: set[str] = set()

    @property
    def limit(self) -> int:
        return self.terms.maxsize

    @limit.setter
    def limit(self, limit: int) -> None:
        """A new bound: the entries move to a cache of that size, least recently used first
        (so the bound drops those)."""
        with self._lock:
            old, self.terms = self.terms, LRUCache(limit, getsizeof=_entry_bytes)
            while old:
                key, entry = old.popitem()  # the least recently used
                if entry[1] <= limit:
                    self.terms[key] = entry

    @property
    def term_bytes(self) -> int:
        return self.terms.currsize

    def retain(self, segment_ids: set[str]) -> None:
        """Forget what belongs to segments a merge or rebuild has replaced."""
        with self._lock:
            if segment_ids == self.retained:
                return  # the same segments as the last search: nothing to forget
            self.retained = segment_ids
            for key in [key for key in self.terms if key[0] not in segment_ids]:
                del self.terms[key]
            for segment_id in set(self.segments) - segment_ids:
                del self.segments[segment_id]

    def term(self, segment_id: str, field: str, text, build) -> FrozenBitMap:
        return self._entry((segment_id, field, text), build, bitmap_bytes)

    def weights(self, segment_id: str, field: str, text, build) -> array:
        """A term's weights in a segment, in the order of its bitmap's documents."""
        return self._entry((segment_id, ("weights", field), text), build, _array_bytes)

    def keep_weights(self, segment_id: str, field: str, text, weights: array) -> None:
        """Weights read with a term's bitmap, kept for the window's scores."""
        self._entry((segment_id, ("weights", field), text), lambda: weights, _array_bytes)

    def _entry(self, key: tuple, build, size: Callable[[object], int]):
        with self._lock:
            entry = self.terms.get(key)  # a hit counts as a use
        if entry is not None:
            return entry[0]
        value = build()  # outside the lock: reading postings is the slow part
        cost = size(value) + ENTRY_BYTES  # an absent term costs its key too
        if cost <= self.limit:  # an entry larger than the whole bound is not kept
            with self._lock:
                self.terms[key] = (value, cost)
        return value

    def segment(self, segment_id: str) -> dict:
        return self.segments.setdefault(segment_id, {})


class Segment:
    """One segment of the searcher: its reader, offset, size and cached bitmaps."""

    def __init__(self, cache: DocSetCache, reader, searcher, offset: int,
                 folder: Path | None = None):  # fmt: skip
        self.cache, self.reader, self.searcher, self.offset = cache, reader, searcher, offset
        self.id = reader.segment().segment_id()
        self.size = reader.doc_count_all()
        self.cached = cache.segment(self.id)
        if folder is not None and cache.derived and "derived" not in self.cached:
            self._load_derived(segment_files.path_for(folder, self.id))

    def _load_derived(self, path: Path) -> None:
        """The derived entries from the segment's file; a missing or damaged file (or one of
        another segment) is computed again from the postings and rewritten."""
        stored = segment_files.load(path, self.id, self.size)
        if stored is None or not all(key in stored for key in self._derivable()):
            self.derive()
            try:
                segment_files.save(path, self.id, self.size, self.cached)
            except OSError:
                pass  # a read-only or full index folder: the data stays computed in memory
        else:
            self.cached.update(stored)
        self.cached["derived"] = True

    def _derivable(self) -> list[tuple[str, str]]:
        """The cache's derived entries this segment has (phrase sequences need the field)."""
        reader = self.reader
        return [(kind, field) for kind, field in self.cache.derived
                if (kind != "sequences" or f"{field}_seq" in reader.schema)
                and (kind != "dates" or reader.has_column(field))]  # fmt: skip

    def derive(self) -> None:
        """Compute every derived entry of the segment (a writer does, after its commit)."""
        for kind, field in self._derivable():
            getattr(self, kind)(field)

    def term(self, field: str, text) -> FrozenBitMap:
        values = self.cached.get(("facet", field))
        if values is not None and isinstance(text, str) and field in EXACT_FACETS:
            # A value of a field kept with the segment (the clearance levels and states
            # every query is trimmed by): its bitmap is that term's postings, already built.
            return values.get(text, EMPTY)
        common = self.cached.get(("common", field))
        if common is not None and text in common:
            return common[text]

        def build():
            if (field, text) not in self.reader:
                return FrozenBitMap()
            ids, weights = postings(self.reader, field, text)
            # Read with the ids at no extra cost: the window's scores need them next.
            self.cache.keep_weights(self.id, field, text, weights)
            return bitmap(ids)

        return self.cache.term(self.id, field, text, build)

    def weights(self, field: str, text: str) -> array:
        """The term's weight in each of its documents, in the order of `term`'s bitmap (the
        i-th weight is of the document of rank i + 1): kept with the segment for its common
        terms, read with the bitmap for the others."""
        kept = self.cached.get(("frequencies", field))
        if kept is not None and text in kept:
            raw = kept[text]
            return self.cache.weights(self.id, field, text,
                                      lambda: segment_files.decode_weights(raw))  # fmt: skip

        def build():
            if (field, text) not in self.reader:
                return array("f")
            return postings(self.reader, field, text)[1]

        return self.cache.weights(self.id, field, text, build)

    def live(self) -> FrozenBitMap:
        """Every document not deleted (deletions only grow while a segment lives)."""
        deleted = self.reader.deleted_docs_set
        known, lanes = self.cached.get("live", (-1, None))
        if known != len(deleted):
            # A range is one run container; the deletions cut it.
            lanes = FrozenBitMap(range(self.size)) - bitmap(deleted)
            self.cached["live"] = (len(deleted), lanes)
        return lanes

    def facet(self, field: str) -> dict[str, FrozenBitMap]:
        """Each value of a facet field with its documents' bitmap."""
        key = ("facet", field)
        if key not in self.cached:
            schema_field = self.reader.schema[field]
            values = {}
            for term in schema_field.sortable_terms(self.reader, field):
                docnums = posting_ids(self.reader, field, term)
                values[str(schema_field.from_bytes(term))] = bitmap(docnums)
            self.cached[key] = values
        return self.cached[key]

    def dates(self, field: str) -> tuple[list[int], list[int], list[int]]:
        """A sortable field's column values in ascending order, the documents in that order
        (ranges by bisection, newest first by walking backwards), and each document's value."""
        key = ("dates", field)
        if key not in self.cached:
            by_docnum = column_values(self.reader, field, self.size)  # raw numbers
            ordered = sorted(range(self.size), key=by_docnum.__getitem__)
            self.cached[key] = ([by_docnum[d] for d in ordered], ordered, by_docnum)
        return self.cached[key]

    def readable_lengths(self, key, lanes: FrozenBitMap, field: str) -> tuple[int, int]:
        """(documents, their total length in `field`) of `lanes`, the caller's readable set
        named by `key` (clearance levels and states): cached until the segment's deletions
        change, the only way that set changes while the segment lives."""
        deleted = len(self.reader.deleted_docs_set)
        cache_key = ("readable", key, field)
        known = self.cached.get(cache_key)
        if known is None or known[0] != deleted:
            # Each length byte's documents counted against the readable set in C: a
            # Python pass over the readable documents' bytes was 19-31 ms of a first query
            # at 100,000 (there are at most 256 bytes, usually a few dozen).
            total = sum(byte_to_length(byte) * lanes.intersection_cardinality(documents)
                        for byte, documents in self.length_sets(field).items())  # fmt: skip
            known = (deleted, len(lanes), total)
            self.cached[cache_key] = known
        return known[1], known[2]

    def common(self, field: str) -> dict[str, FrozenBitMap]:
        """The field's terms in at least `COMMON_POSTINGS` documents, with their bitmaps:
        the terms whose postings take the longest to read (a block per 128 documents, each
        unzipped and unpickled), kept with the segment; a rarer term reads a few blocks."""
        key = ("common", field)
        if key not in self.cached:
            found, weights = {}, {}
            for text, info in self.reader.iter_field(field):
                if info.doc_frequency() >= COMMON_POSTINGS:
                    word = text.decode()
                    ids, weights[word] = postings(self.reader, field, word)
                    found[word] = bitmap(ids)
            self.cached[key] = found
            self.cached[("frequencies", field)] = {
                word: segment_files.encode_weights(values) for word, values in weights.items()
            }
        return self.cached[key]

    def frequencies(self, field: str) -> dict[str, bytes]:
        """The weights of the field's common terms (`weights`), read with their bitmaps,
        encoded as in the segment's file (`segment_files.encode_weights`)."""
        key = ("frequencies", field)
        if key not in self.cached:
            self.cached.pop(("common", field), None)
            self.common(field)
        return self.cached[key]

    def lengths(self, field: str) -> bytes:
        """Each document's length byte in `field`."""
        key = ("lengths", field)
        if key not in self.cached:
            self.cached[key] = length_bytes(self.reader, field, self.size)
        return self.cached[key]

    def length_sets(self, field: str) -> dict[int, FrozenBitMap]:
        """The documents of each length byte in `field` (deleted ones included: the
        readable set they are counted against has none)."""
        key = ("length_sets", field)
        if key not in self.cached:
            documents: dict[int, list[int]] = {}
            for docnum, byte in enumerate(self.lengths(field)):
                documents.setdefault(byte, []).append(docnum)
            self.cached[key] = {byte: bitmap(found) for byte, found in documents.items()}
        return self.cached[key]

    def sequences(self, field: str) -> tuple[str, list[int]]:
        """The field's distinct term sequences as one string, one a line, and where each
        starts."""
        key = ("sequences", field)
        if key not in self.cached:
            sequences = [term.decode() for term in self.reader.lexicon(f"{field}_seq")]
            starts = list(accumulate((len(text) + 1 for text in sequences), initial=0))
            self.cached[key] = ("\n".join(sequences), starts)
        return self.cached[key]

    def phrase(self, field: str, words: list[str]) -> FrozenBitMap:
        """The documents whose `field` has `words` as consecutive terms: the distinct term
        sequences of the field (cached, one string) searched for the phrase's sequence."""
        joined, starts = self.sequences(field)
        pattern = SEPARATOR + SEPARATOR.join(words) + SEPARATOR
        found = BitMap()
        at = joined.find(pattern)
        while at >= 0:
            number = bisect_right(starts, at) - 1
            sequence = joined[starts[number] : starts[number + 1] - 1]
            found.update(posting_ids(self.reader, f"{field}_seq", sequence))
            at = joined.find(pattern, starts[number + 1])
        return FrozenBitMap(found)

    def date_range(self, query: DateRange) -> FrozenBitMap:
        values, docnums, _ = self.dates(query.fieldname)
        start = 0 if query.start is None else (
            bisect_right(values, query.start) if query.startexcl
            else bisect_left(values, query.start))  # fmt: skip
        end = len(values) if query.end is None else (
            bisect_left(values, query.end) if query.endexcl
            else bisect_right(values, query.end))  # fmt: skip
        return bitmap(docnums[start:end])


class DocSets:
    """Bitmaps for one searcher's segments; `deadline` bounds the walks Whoosh must do."""

    def __init__(self, cache: DocSetCache, searcher, deadline: float,
                 monotonic: Callable[[], float] = time.monotonic,
                 folder: Path | None = None):  # fmt: skip
        self.cache, self.deadline, self.monotonic = cache, deadline, monotonic
        # An index without documents has one reader and no segment: nothing to evaluate.
        self.segments = [Segment(cache, subsearcher.reader(), subsearcher, offset, folder)
                         for subsearcher, offset in searcher.leaf_searchers()
                         if subsearcher.reader().segment() is not None]  # fmt: skip
        cache.retain({segment.id for segment in self.segments})

    def evaluate(self, query) -> list[FrozenBitMap]:
        """The documents matching `query`, a bitmap per segment (deleted ones included: the
        caller intersects with `live`)."""
        return [self._evaluate(query, segment) for segment in self.segments]

    def live(self) -> list[FrozenBitMap]:
        return [segment.live() for segment in self.segments]

    def _evaluate(self, query, segment: Segment) -> FrozenBitMap:
        if isinstance(query, Term):
            return segment.term(query.fieldname, query.text)
        if isinstance(query, And):
            result = None
            for part in query.subqueries:
                lanes = self._evaluate(part, segment)
                result = lanes if result is None else result & lanes
                if not result:
                    break
            return FrozenBitMap() if result is None else result
        if isinstance(query, Or):
            return FrozenBitMap().union(*(self._evaluate(part, segment)
                                          for part in query.subqueries))  # fmt: skip
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
            return self.cache.term(segment.id, *key, find)
        return self._walk(query, segment)  # anything else: Whoosh's matcher

    def _walk(self, query, segment: Segment) -> FrozenBitMap:
        matcher = query.matcher(segment.searcher, segment.searcher.boolean_context())
        found = BitMap()
        while matcher.is_active():
            found.add(matcher.id())
            self.check()
            matcher.next()
        return FrozenBitMap(found)

    def check(self) -> None:
        if self.monotonic() > self.deadline:
            raise Deadline

    # -- counting and ordering -------------------------------------------------------------

    @staticmethod
    def total(sets: list[FrozenBitMap]) -> int:
        return sum(map(len, sets))

    def facet_counts(self, sets: list[FrozenBitMap], field: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for lanes, segment in zip(sets, self.segments, strict=True):
            if not lanes:
                continue
            for value, value_lanes in segment.facet(field).items():
                count = lanes.intersection_cardinality(value_lanes)
                if count:
                    counts[value] = counts.get(value, 0) + count
        return counts

    def newest(self, sets: list[FrozenBitMap], field: str,
               limit: int) -> list[tuple[int, int]]:  # fmt: skip
        """Up to `limit` (value, global document number) of the set, newest first."""
        found = []
        for lanes, segment in zip(sets, self.segments, strict=True):
            if not lanes:
                continue
            _, docnums, by_docnum = segment.dates(field)
            for docnum in islice(filter(lanes.__contains__, reversed(docnums)), limit):
                found.append((by_docnum[docnum], segment.offset + docnum))
        found.sort(key=lambda pair: (-pair[0], -pair[1]))  # the walk's order: later first
        return found[:limit]

    def latest(self, sets: list[FrozenBitMap], limit: int) -> list[int]:
        """Up to `limit` global document numbers of the set, the most recently indexed first
        (the highest numbers: neighbours in the postings, so scoring them reads few blocks)."""
        found: list[int] = []
        for lanes, segment in reversed(list(zip(sets, self.segments, strict=True))):
            # The top of the set by rank: a slice from `len - wanted` selects that many.
            top = lanes[max(0, len(lanes) - (limit - len(found))) :]
            found += [segment.offset + docnum for docnum in reversed(top.to_array())]
            if len(found) >= limit:
                break
        return found
