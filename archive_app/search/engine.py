"""The Whoosh index of dossiers: one serialised writer, a shared searcher, security trimming.

The index is a cache of the database (DESIGN.md): it lives in a generation folder named by
`storage/index/CURRENT`, so a rebuild writes a new generation and swaps the pointer.
"""

from __future__ import annotations

import gc
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as day_time
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.codec import default_codec
from whoosh.index import LockError
from whoosh.query import And, DateRange, Every, Or, Phrase, Term
from whoosh.reading import SegmentReader
from zope.interface import implementer

from ..errors import Invalid, QueryTooCostly, ServiceUnavailable
from ..faults import crash_point
from ..interfaces import ISearchService
from ..records.vocabulary import LIVING_STATES
from ..vault.durability import write_atomically
from . import segment_files, segment_views, snippets
from .analysis import query_terms, term_sequence
from .docsets import Deadline, DocSetCache, DocSets, Segment
from .ranking import ReadableStatistics, by_relevance
from .schema import dossier_schema
from .segment_writer import DirectMpWriter, DirectSegmentWriter

TEXT_FIELDS = ("title", "product", "manufacturer", "summary", "text")
METADATA_TEXT_FIELDS = tuple(name for name in TEXT_FIELDS if name != "text")
PHRASE_FIELDS = ("title", "product", "summary")
FACETS = ("complaint_class", "complaint_type", "year", "outcome", "product_name")
HIGHLIGHTED = ("title", "product", "summary")
# What each segment's file keeps (`segment_files`): what a first query would otherwise build.
DERIVED = (
    *(("facet", name) for name in (*FACETS, "confidentiality", "state")),  # trimming's too
    ("dates", "received_on"),
    *(("common", name) for name in TEXT_FIELDS),
    *(("frequencies", name) for name in TEXT_FIELDS),  # the common terms' weights
    *(("lengths", name) for name in TEXT_FIELDS),
    *(("length_sets", name) for name in TEXT_FIELDS),
    *(("sequences", name) for name in PHRASE_FIELDS),
)
MAX_QUERY_CHARS = 500
SEGMENT_DOCS = 20_000  # entries per segment written by a rebuild
PURGE_LIMIT_MB = 32  # postings pool of a segment rewrite (spilled to disk beyond it)
MAX_SEGMENT_REWRITES = 1_000
MAX_TERMS = 64
QUOTED = re.compile(r'"([^"]*)"')


class IndexUnavailable(ServiceUnavailable):
    """The index folder is missing or cannot be opened: rebuild it."""


class IndexBusy(ServiceUnavailable):
    """Another process kept the writer lock for too long."""


class QueryTimedOut(QueryTooCostly):
    """The query ran past its time limit (it matches too much to count and rank in time)."""

    def __init__(self, detail: str, field: str = "q"):
        super().__init__(detail, field)


class QueryError(Invalid):
    """The query cannot be run as given; `detail` says why, `field` names the parameter."""

    def __init__(self, detail: str, field: str = "q"):
        super().__init__(detail, field)


@dataclass(frozen=True)
class SearchQuery:
    q: str = ""
    batch_no: str | None = None
    product: str | None = None
    complaint_no: str | None = None
    complaint_class: str | None = None
    complaint_type: str | None = None
    outcome: str | None = None
    received_from: date | None = None
    received_to: date | None = None
    include_destroyed: bool = False
    page: int = 1
    per_page: int = 20
    sort: str = "relevance"
    # Whether `q` matches document text: a right of roles that may read documents (contract
    # §3); without it `q` searches metadata only, in hits, totals and facets alike.
    document_text: bool = True

    def text_fields(self) -> tuple[str, ...]:
        return TEXT_FIELDS if self.document_text else METADATA_TEXT_FIELDS


@dataclass
class SearchResult:
    total: int
    page: int
    per_page: int
    hits: list[dict] = field(default_factory=list)
    facets: dict[str, dict] = field(default_factory=dict)


@implementer(ISearchService)
class SearchIndex:
    def __init__(self, root: Path, writer_timeout: float = 30.0, query_timeout: float = 2.0,
                 monotonic: Callable[[], float] = time.monotonic):  # fmt: skip
        self.root = Path(root)
        self.writer_timeout = writer_timeout
        self.query_timeout = query_timeout
        self.monotonic = monotonic  # a query's time limit
        self._write_lock = threading.Lock()
        self._searcher_lock = threading.Lock()
        self._index = None
        self._index_folder = None  # the generation self._index was opened from
        self._searcher = None
        self._docsets = DocSetCache(derived=DERIVED)  # bitmaps by segment, across searchers
        self._searcher_folder = None
        segment_views.install()  # segments' files read through views of their maps, not copies

    # -- opening and rebuilding ------------------------------------------------------------

    def _pointer(self) -> Path:
        return self.root / "CURRENT"

    def _current_folder(self) -> Path | None:
        try:
            name = self._pointer().read_text().strip()
        except FileNotFoundError:
            return None
        return self.root / name if name else None

    def exists(self) -> bool:
        """Whether there is a live index; IndexUnavailable if its table of contents cannot
        be read (Whoosh's own check reads it, and raises assorted errors on a damaged one)."""
        folder = self._current_folder()
        if folder is None:
            return False
        try:
            return whoosh_index.exists_in(str(folder))
        except Exception as error:
            raise IndexUnavailable(f"the search index cannot be read: {error}") from None

    def upgrade(self) -> str | None:
        """Bring each segment's file of derived data to this version's format (`archive
        init` after an upgrade): rewriting ten of them takes a few seconds at 100,000
        dossiers, which a first search would otherwise spend, past its time limit."""
        with self._write_lock:
            _derive_segments(self.open(), self._index_folder)
        return None

    def open(self):
        """The live index; IndexUnavailable if it is missing or broken (rebuild then)."""
        folder = self._current_folder()
        if folder != self._index_folder:
            self._index = None  # another process rebuilt and swapped in a new generation
        if self._index is None:
            if folder is None or not whoosh_index.exists_in(str(folder)):
                raise IndexUnavailable(f"no search index in {self.root}")
            try:
                self._index = whoosh_index.open_dir(str(folder))
            except Exception as error:  # whoosh raises assorted errors for damaged files
                raise IndexUnavailable(f"the search index cannot be opened: {error}") from None
            self._index_folder = folder
        return self._index

    def create_empty(self) -> None:
        self.rebuild([])

    def rebuild(self, documents: Iterable[dict], batch_size: int = 1000, processes: int = 1) -> int:
        """Build a new generation, commit per batch, then swap it in atomically. With
        `processes` > 1, Whoosh forks that many writers: only from a single-threaded
        command (`archive reindex`), never from the web server."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._write_lock:
            # The old generation's writer lock, held until the swap: an update from another
            # process waits (or fails and stays queued) rather than landing in a generation
            # about to be dropped, after this build has read the database.
            holding = self._old_writer()
            if holding is not None:
                self._remove_stale_generations()
            try:
                folder, count = self._build(documents, batch_size, processes)
                crash_point("reindex_built")  # built, not swapped in: the old one still serves
                with self._searcher_lock:
                    old = self._current_folder()
                    pointer = self._pointer()
                    write_atomically(pointer, folder.name.encode())
                    self._close()
            finally:
                if holding is not None:
                    holding.cancel()
            if old is not None and old != folder:
                shutil.rmtree(old, ignore_errors=True)
        return count

    def _remove_stale_generations(self) -> None:
        """Generation folders other than the current one: a killed rebuild's leftovers."""
        current = self._current_folder()
        for folder in self.root.glob("gen-*"):
            if folder.is_dir() and folder != current:
                shutil.rmtree(folder, ignore_errors=True)

    def _old_writer(self):
        """A writer on the current generation, if there is one that opens (a rebuild is
        also how a damaged index is replaced)."""
        try:
            if not self.exists():
                return None
            return self._writer()
        except IndexUnavailable:
            return None

    def _build(self, documents: Iterable[dict], batch_size: int,
               processes: int) -> tuple[Path, int]:  # fmt: skip
        folder = self.root / f"gen-{int(time.time())}-{secrets.token_hex(4)}"
        folder.mkdir()
        (folder / "MAIN_WRITELOCK").touch(0o600)  # Whoosh would open it 0777 & ~umask: 0700
        built = whoosh_index.create_in(str(folder), dossier_schema())
        count, known = 0, set(built.schema.names())
        writer = _build_writer(built, processes)
        try:
            for document in documents:
                writer.add_document(**_fields(document, known))
                count += 1
                if count % SEGMENT_DOCS == 0:
                    # Segments of bounded size, never merged into one: a purge rewrites
                    # whole segments, so their size bounds its memory and time.
                    writer.commit(merge=False)
                    writer = _build_writer(built, processes)
        except BaseException:
            writer.cancel()
            shutil.rmtree(folder, ignore_errors=True)
            raise
        writer.commit(merge=False)
        _derive_segments(built, folder)
        return folder, count

    def _close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
        self._searcher, self._index = None, None
        self._searcher_folder = self._index_folder = None

    # -- writing -------------------------------------------------------------------------------

    def _writer(self, limitmb: int = 128):
        if not self.exists():
            self._close()  # the folder went away under us: open() says so
        deadline = time.monotonic() + self.writer_timeout
        while True:
            try:
                return self.open().writer(timeout=2.0, limitmb=limitmb)
            except LockError:
                if time.monotonic() > deadline:
                    raise IndexBusy("the search index writer stayed locked") from None
                time.sleep(0.2)

    def upsert(self, documents: list[dict], removed: Iterable[str] = ()) -> None:
        """Add or replace entries and remove others, in one commit."""
        removed = list(removed)
        if not documents and not removed:
            return
        with self._write_lock:
            writer = self._writer()
            try:
                for dossier_id in removed:
                    writer.delete_by_term("id", dossier_id)
                known = set(writer.schema.names())
                for document in documents:
                    writer.update_document(**_fields(document, known))
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
            _derive_segments(self.open(), self._index_folder)

    def delete(self, ids: list[str], merge: bool = False) -> None:
        with self._write_lock:
            writer = self._writer()
            for dossier_id in ids:
                writer.delete_by_term("id", dossier_id)
            # Merging all segments rewrites them without the deleted documents' terms.
            writer.commit(optimize=merge)
            if merge:
                _derive_segments(self.open(), self._index_folder)
                self._let_go()

    def purge(self, ids: list[str]) -> None:
        """Remove dossiers so that none of their terms stays anywhere on disk: delete them,
        then rewrite each segment that holds deleted entries, one segment per commit (the
        old segment's files are removed by the commit). A crash in between is finished by
        the next purge, which rewrites whatever segment still holds deletions."""
        if not self.exists():  # no index yet: nothing of theirs is on disk
            return
        with self._write_lock:
            writer = self._writer()
            # Under the current generation's writer lock no rebuild is running (a rebuild
            # holds it too), so other generations are leftovers of a killed rebuild, and may
            # hold the terms being purged.
            self._remove_stale_generations()
            for dossier_id in ids:
                writer.delete_by_term("id", dossier_id)
            writer.commit(merge=False)
            for _ in range(MAX_SEGMENT_REWRITES):
                dirty = [s for s in self.open()._segments() if s.has_deletions()]
                if not dirty:
                    break
                writer = self._writer(limitmb=PURGE_LIMIT_MB)
                writer.commit(mergetype=_rewrite_only(dirty[0].segment_id()))
            _derive_segments(self.open(), self._index_folder)
            self._let_go()

    def _let_go(self) -> None:
        """Right after segments are replaced: close the shared searcher (it keeps the old
        segments' files open, deleted, with the purged terms in them) and forget their
        bitmaps, instead of waiting for the next search to notice."""
        with self._searcher_lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None
            self._docsets.retain({segment.segment_id() for segment in self.open()._segments()})
        # Whoosh maps each segment file; a closed reader's views into the map (kept by
        # reference cycles among its readers) hold it, and its file, until they are
        # collected: collect them now.
        gc.collect()

    def ids(self) -> set[str]:
        with self._searcher_lock:
            searcher = self._fresh_searcher()
            return {fields["id"] for fields in searcher.all_stored_fields()}

    def doc_count(self) -> int:
        return self.open().doc_count()

    # -- searching -----------------------------------------------------------------------------

    def _fresh_searcher(self):
        if not self._pointer().exists():
            self._close()  # deleted under us (or never built): the caller rebuilds
            raise IndexUnavailable(f"no search index in {self.root}")
        try:
            if self._searcher is not None and (
                self._searcher_folder != self._current_folder()  # swapped by another process
                or not self._searcher.up_to_date()
            ):
                # A new searcher, not refresh(): refresh reuses segment readers, which after
                # a merge (purge) counted deleted documents again.
                self._searcher.close()
                self._searcher = None
            if self._searcher is None:
                self._searcher = self.open().searcher()
                self._searcher_folder = self._index_folder
        except IndexUnavailable:
            raise
        except Exception as error:  # files gone or damaged under a cached searcher
            self._close()
            raise IndexUnavailable(f"the search index cannot be read: {error}") from None
        return self._searcher

    def search(self, query: SearchQuery, levels: tuple[str, ...]) -> SearchResult:
        wanted = build_query(query)
        # The caller's clearance (and living dossiers): one document set applied to hits,
        # totals and facets alike.
        allowed = security_filter(query, levels)
        limit = query.page * query.per_page
        deadline = self.monotonic() + self.query_timeout
        with self._searcher_lock:
            searcher = self._fresh_searcher()
            sets = DocSets(self._docsets, searcher, deadline, self.monotonic,
                           self._searcher_folder)  # fmt: skip
            try:
                parts = zip(sets.evaluate(allowed), sets.live(), strict=True)
                readable = [cleared & live for cleared, live in parts]
                matched = [
                    found & lanes
                    for found, lanes in zip(sets.evaluate(wanted), readable, strict=True)
                ]
                facets = {name: sets.facet_counts(matched, name) for name in FACETS}
                if query.sort == "received_on":
                    ranked = [
                        (docnum, None) for _, docnum in sets.newest(matched, "received_on", limit)
                    ]
                else:
                    words = query_words(query)
                    # Ranking statistics from the readable set alone (contract §3: order).
                    statistics = ReadableStatistics(
                        sets, readable, (levels, query.include_destroyed)
                    )
                    ranked = by_relevance(searcher, sets, matched, words, scoring_query(query),
                                          limit, statistics)  # fmt: skip
            except Deadline:
                detail = (f"the search took longer than {self.query_timeout:g} s: add words or "
                          "filters to narrow it")  # fmt: skip
                raise QueryTimedOut(detail) from None
            marked = highlighted_terms(wanted)
            hits = [self._hit(searcher, docnum, score, marked)
                    for docnum, score in ranked[limit - query.per_page : limit]]  # fmt: skip
        facets["product"] = facets.pop("product_name")
        return SearchResult(sets.total(matched), query.page, query.per_page, hits, facets)

    def _hit(self, searcher, docnum: int, score, marked: dict[str, frozenset]) -> dict:
        stored = searcher.stored_fields(docnum)
        highlights = {}
        for name, words in marked.items():
            # Whoosh's highlighter's snippets, made without its token stream (snippets.py).
            snippet = snippets.highlight(stored[name], words) if words and stored.get(name) else ""
            if snippet:
                highlights[name] = snippet
        return {"id": stored["id"], "score": score, "highlights": highlights}


def highlighted_terms(wanted) -> dict[str, frozenset]:
    """The query's words in each stored text field (the ones highlighted in hits)."""
    terms = list(wanted.iter_all_terms(phrases=True))
    return {name: frozenset(text for field, text in terms if field == name)
            for name in HIGHLIGHTED}  # fmt: skip


def _derive_segments(index, folder: Path) -> None:
    """Write the file of derived data beside each segment that has none, or one of an
    earlier format (after a commit, so that a first query reads them instead of building
    them). A cache of its own: the shared one belongs to the searches, and they read the
    files."""
    cache = DocSetCache(derived=DERIVED)
    with index.reader() as reader:
        for leaf, _ in reader.leaf_readers():
            segment = leaf.segment()
            if segment is None or segment_files.is_current(
                segment_files.path_for(folder, segment.segment_id())
            ):
                continue
            Segment(cache, leaf, None, 0, folder)  # no file: computes and writes it


def _build_writer(built, processes: int):
    # Without length statistics: Whoosh would read each posting's field length back from the
    # segment's lengths column to note every block's shortest and longest document (a quarter
    # of a rebuild's time), bounds only its own top-N collectors use to skip blocks; relevance
    # here scores documents one by one from the lengths column (ranking.py), which is kept.
    # The postings go straight to the segment files, without Whoosh's posting pool
    # (segment_writer.py).
    codec = default_codec()
    codec.length_stats = False
    if processes > 1:
        # Whoosh's multiprocess writer: each process indexes a share of the entries into a
        # segment of its own (never merged: see SEGMENT_DOCS). Analysis and postings are
        # most of a rebuild's time, so this uses the second core.
        return DirectMpWriter(built, procs=processes, codec=codec)
    return DirectSegmentWriter(built, codec=codec)


def _rewrite_only(segment_id: str):
    """A Whoosh merge policy that rewrites one segment (dropping its deleted entries and
    every term only they had) and leaves the others as they are."""

    def merge(writer, segments):
        kept = []
        for segment in segments:
            if segment.segment_id() == segment_id:
                reader = SegmentReader(writer.storage, writer.schema, segment)
                writer.add_reader(reader)
                reader.close()
            else:
                kept.append(segment)
        return kept

    return merge


def security_filter(query: SearchQuery, levels: tuple[str, ...]):
    """What the caller may see: their clearance levels, and living dossiers unless asked."""
    parts = [Or([Term("confidentiality", level) for level in levels] or [Term("id", "")])]
    if not query.include_destroyed:
        parts.append(Or([Term("state", state) for state in LIVING_STATES]))
    return And(parts)


def build_query(query: SearchQuery):
    """The user's words and filters (`search` adds the security filter)."""
    parts = _text_parts(query.q or "", query.text_fields())
    if query.product:
        terms = query_terms(query.product[:MAX_QUERY_CHARS])
        parts += [Term("product", term) for term in terms[:MAX_TERMS]]
    if query.batch_no:
        parts.append(Term("batch_no", query.batch_no.strip().lower()))
    for name in ("complaint_no", "complaint_class", "complaint_type", "outcome"):
        value = getattr(query, name)
        if value:
            parts.append(Term(name, value))
    if query.received_from or query.received_to:
        start = datetime.combine(query.received_from, day_time.min) if query.received_from else None
        end = datetime.combine(query.received_to, day_time.max) if query.received_to else None
        parts.append(DateRange("received_on", start, end))
    return And(parts) if len(parts) > 1 else (parts[0] if parts else Every())


def query_words(query: SearchQuery) -> list[str]:
    """The terms of `q`, phrases' included, once each."""
    return list(dict.fromkeys(query_terms((query.q or "").replace('"', " "))))


def scoring_query(query: SearchQuery):
    """What relevance scores: the words of `q` (a phrase's words too) in the text fields and
    the product filter's in product names. The other filters only narrow, so they are left
    out: scoring a date range or a phrase per document is what costs in Whoosh."""
    fields = query.text_fields()
    parts = [Or([Term(name, word) for name in fields]) for word in query_words(query)]
    if query.product:
        parts += [Term("product", word) for word in query_terms(query.product)[:MAX_TERMS]]
    return And(parts) if parts else None


def _text_parts(text: str, fields: tuple[str, ...]) -> list:
    """Plain words, never Whoosh syntax: each word's terms ANDed; quoted text a phrase."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is longer than {MAX_QUERY_CHARS} characters")
    parts = []
    for phrase in QUOTED.findall(text):
        terms = query_terms(phrase)
        if len(terms) > 1:
            parts.append(Or([Phrase(name, terms) for name in PHRASE_FIELDS]))
        elif terms:
            parts.append(Or([Term(name, terms[0]) for name in fields]))
    terms = query_terms(QUOTED.sub(" ", text).replace('"', " "))
    if len(terms) > MAX_TERMS:
        raise QueryError(f"the query has more than {MAX_TERMS} terms")
    parts += [Or([Term(name, term) for name in fields]) for term in dict.fromkeys(terms)]
    return parts


def _fields(document: dict, known: set[str]) -> dict:
    """An entry as Whoosh fields; only those in `known`, the schema of the index written
    (an index built by an earlier version lacks fields added since, until a reindex)."""
    values = dict(document)
    for name in ("batch_no", "product_name"):
        if isinstance(values.get(name), list):
            values[name] = ",".join(value.replace(",", " ") for value in values[name])
    if isinstance(values.get("product"), list):
        values["product"] = " ".join(values["product"])
    for name in PHRASE_FIELDS:
        if values.get(name):
            values[f"{name}_seq"] = term_sequence(values[name])
    for name in ("received_on", "closed_on"):
        if isinstance(values.get(name), date) and not isinstance(values[name], datetime):
            values[name] = datetime.combine(values[name], day_time.min)
    return {key: value for key, value in values.items()
            if value not in (None, "") and key in known}  # fmt: skip
