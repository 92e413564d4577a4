"""The PostgreSQL search backend (`archive.search.backend = postgres`): the same search
contract as the Whoosh `SearchIndex`, served by the archive's own database (`pg_rows.py`).

Every query is one WHERE clause: the user's words and filters, ANDed with the caller's
clearance levels and the living states, so hits, totals and facets (GROUP BY over the same
WHERE) never count a dossier the caller may not read. Relevance is `ts_rank_cd`, which reads
only the scored row's own vector and the query: no collection statistics at all, so nothing
of a dossier outside the caller's readable set enters any score (contract §3, "and their
order"). The order is Whoosh's two steps: tiers of where all the words are (title or product
names; then with the summary; then anywhere), the latest indexed first within a tier, and the
first `RESCORE_WINDOW` of that order sorted by tier, then score.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager

from sqlalchemy import event, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from zope.interface import implementer

from ..interfaces import ISearchService
from ..records.models import Dossier
from ..records.vocabulary import DYING_STATES, LIVING_STATES
from . import engine, pg_query, pg_set_query, pg_sets, snippets
from .engine import (
    IndexBusy,
    IndexUnavailable,
    SearchQuery,
    SearchResult,
    highlighted_terms,
    query_words,
)
from .pg_query import TIER_WEIGHTS, Where, cleared, scoring_words, tsquery
from .pg_rows import SEQUENCE, row_for, search_rows

log = logging.getLogger(__name__)

RESCORE_WINDOW = 100  # as ranking.RESCORE_WINDOW
BATCH = 500  # rows per INSERT of a rebuild
COLUMNS = [column.name for column in search_rows.columns if column.name != "seq"]
FACET_COLUMNS = ("complaint_class", "complaint_type", "year", "outcome")  # and product
WRITE_LOCK_TIMEOUT = "30s"  # an update waiting longer for a rebuild stays queued (IndexBusy)
# A purge's rewrite waits this long for running searches and writes; past it the purge fails,
# and the retention run with it: its dossiers stay `destroying`, and the next run purges again.
VACUUM_LOCK_TIMEOUT = "60s"
# How long a purge's rewrite waits for transactions older than the deletion to end.
VACUUM_WAIT = 300
WORK_MEM = "64MB"  # a search's: the matches of a common word, grouped and sorted in memory

_UPSERT = text(
    f"INSERT INTO search_rows ({', '.join(COLUMNS)}, seq) VALUES ("
    + ", ".join(
        f"CAST(:{name} AS tsvector)" if name.endswith("_terms")
        else f"CAST(:{name} AS text[])" if name in ("batch_nos", "product_names")
        else f":{name}"
        for name in COLUMNS
    )
    + f", nextval('{SEQUENCE}')) ON CONFLICT (dossier_id) DO UPDATE SET "
    + ", ".join(f"{name} = EXCLUDED.{name}" for name in (*COLUMNS[1:], "seq"))
)  # fmt: skip


def highlights(stored: dict, marked: dict[str, frozenset]) -> dict[str, str]:
    """The page's snippets, as the Whoosh backend makes them (`snippets.highlight`, with the
    same analysis: PostgreSQL's ts_headline parses text with its own parser, which knows no
    CJK bigrams)."""
    found = {}
    for name, words in marked.items():
        value = stored.get(name)
        if words and value:
            snippet = snippets.highlight(value, words)
            if snippet:
                found[name] = snippet
    return found


def _cancelled(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) == "57014"  # query_canceled


def _lock_timed_out(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) == "55P03"  # lock_not_available


@implementer(ISearchService)
class PostgresSearch:
    """`ISearchService` over the `search_rows` table; the writer's side (upsert, purge,
    rebuild) as `engine.SearchIndex` offers it to the `Indexer`."""

    def __init__(self, database, query_timeout: float = 2.0,
                 monotonic: Callable[[], float] = time.monotonic):  # fmt: skip
        self.database = database
        self.query_timeout = query_timeout
        self.monotonic = monotonic
        self._exists = False
        self._lock = threading.Lock()
        self.last_vacuum: list[str] = []  # what the last purge vacuumed (tests, reports)
        self._vacuums: list[threading.Thread] = []

    # -- the table -------------------------------------------------------------------------

    def exists(self) -> bool:
        if not self._exists:
            with self.database.read() as session:
                self._exists = bool(session.scalar(text("SELECT to_regclass('search_rows')")))
        return self._exists

    def upgrade(self) -> str | None:
        """Rows written before the document sets (migration 0018) have none: searches answer
        from the SQL statement until a reindex writes them, and the operator is told."""
        self._require()
        with self.database.read() as session:
            if session.scalar(text("SELECT count(*) FROM search_rows")) == 0:
                return None
            if pg_sets.READY in pg_sets.load(session, (), {}, [pg_sets.READY]):
                return None
        return (
            "the search sets are not built for the rows already indexed: run "
            "`archive reindex` once (searches of many matches are slow until then)"
        )

    def _require(self) -> None:
        if not self.exists():
            raise IndexUnavailable("no search_rows table: run `archive init` (migrations)")

    def create_empty(self) -> None:
        self.rebuild([])

    def ids(self) -> set[str]:
        self._require()
        with self.database.read() as session:
            return set(session.scalars(text("SELECT dossier_id FROM search_rows")))

    def doc_count(self) -> int:
        self._require()
        with self.database.read() as session:
            return session.scalar(text("SELECT count(*) FROM search_rows"))

    # -- writing -----------------------------------------------------------------------------

    def upsert(self, documents: list[dict], removed: Iterable[str] = ()) -> None:
        """Add or replace entries and remove others, in one transaction. Only dossiers still
        living when it commits are written: their rows are locked (FOR SHARE) first, so a
        retention run marking one `destroying` (FOR UPDATE) either waits for this and then
        deletes the row in its own transaction (`remove_dying_rows`), or goes first and this
        writes nothing for it."""
        removed = list(removed)
        if not documents and not removed:
            return
        self._require()
        with self._writing() as session:
            wanted = [document["id"] for document in documents]
            # The rows replaced or deleted leave their sets (their numbers change).
            old = pg_sets.stored_keys(session, removed + wanted)
            if removed:
                session.execute(text("DELETE FROM search_rows WHERE dossier_id = ANY(:ids)"),
                                {"ids": removed})  # fmt: skip
            living = set(session.scalars(
                text("SELECT id FROM dossiers WHERE id = ANY(:ids) AND state = ANY(:living) "
                     "FOR SHARE"),
                {"ids": wanted, "living": [str(state) for state in LIVING_STATES]}))  # fmt: skip
            written = [(row_for(document), document) for document in documents
                       if document["id"] in living]  # fmt: skip
            if written:
                session.execute(_UPSERT, [row for row, _ in written])
            pg_sets.replace_rows(session, old, _numbered(session, written))

    def delete(self, ids: list[str], merge: bool = False) -> None:
        self.upsert([], ids)

    def purge(self, ids: list[str]) -> None:
        """Retention's purge: the rows are normally gone already (deleted in the transaction
        that marked their dossiers `destroying`); deleted here again in case, committed, then
        the table rewritten without them once no transaction can see them any more (`vacuum`,
        in a thread: the retention run's own request is one of those transactions)."""
        if not ids or not self.exists():
            return
        with self._writing() as session:
            _delete_rows(session, list(ids))
            # An id of its own (a DELETE of nothing takes none), later than the marking's.
            deleted_by = session.scalar(text("SELECT txid_current() % 4294967296"))
        # Not a daemon: a command's process waits for it before it exits.
        thread = threading.Thread(target=self._vacuum_after, args=(deleted_by,),
                                  name="archive-search-vacuum")  # fmt: skip
        self._vacuums.append(thread)
        thread.start()

    def wait_for_vacuum(self, timeout: float | None = None) -> bool:
        """Wait for the purges' rewrites started so far; whether they are all done."""
        for thread in list(self._vacuums):
            thread.join(timeout)
        self._vacuums = [thread for thread in self._vacuums if thread.is_alive()]
        return not self._vacuums

    def _vacuum_after(self, deleted_by: int) -> None:
        """VACUUM keeps a deleted row while any transaction older than its deletion is open
        (it might still read it): so wait until none is, in this database, then rewrite."""
        deadline = self.monotonic() + VACUUM_WAIT
        try:
            while self._older_transactions(deleted_by) and self.monotonic() < deadline:
                time.sleep(0.1)
            if self.monotonic() >= deadline:
                log.warning("search purge: transactions older than the deletion still open "
                            "after %d s; the table is rewritten all the same, rows they can "
                            "see stay until the next purge", VACUUM_WAIT)  # fmt: skip
            self.vacuum()
        except Exception as error:  # logged: the next retention run purges (and rewrites) again
            log.error("search purge: the rewrite of search_rows failed (%s)",
                      type(error).__name__)  # fmt: skip

    def _older_transactions(self, deleted_by: int) -> int:
        with self.database.engine.connect() as connection:
            return connection.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND ("
                "age(backend_xid) >= age(CAST(CAST(:x AS text) AS xid)) OR "
                "age(backend_xmin) >= age(CAST(CAST(:x AS text) AS xid)))"),
                {"x": deleted_by})  # fmt: skip

    def vacuum(self) -> None:
        """Outside any transaction (VACUUM cannot run in one): VACUUM FULL rewrites the table,
        its TOAST table and its indexes into new files without the deleted rows. A plain
        VACUUM would only mark their space free: the bytes of the deleted vectors stay in the
        heap pages' free space, and GIN never drops a key from its entry tree, even one left
        without postings. The rewrite holds an exclusive lock while it runs: searches wait
        for it (`bench/RESULTS.md`: its time)."""
        statements = [f"SET lock_timeout = '{VACUUM_LOCK_TIMEOUT}'",
                      "VACUUM (FULL, ANALYZE) search_rows",
                      "VACUUM (FULL, ANALYZE) search_sets"]  # fmt: skip
        with self.database.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            try:
                for statement in statements:
                    connection.execute(text(statement))
            finally:
                connection.execute(text("RESET lock_timeout"))
        self.last_vacuum = statements[1:]

    def rebuild(self, documents: Iterable[dict], batch_size: int = BATCH,
                processes: int = 1) -> int:  # fmt: skip
        """Every row replaced in one transaction: readers see the old rows until it commits,
        then the new ones (MVCC: no generation to swap). Other writers wait for it (a SHARE
        ROW EXCLUSIVE lock on the table). `processes` is the Whoosh backend's: ignored."""
        self._require()
        count = 0
        with self._lock, self.database.write() as session, session.begin():
            session.execute(text("LOCK TABLE search_rows IN SHARE ROW EXCLUSIVE MODE"))
            session.execute(text("DELETE FROM search_rows"))
            session.execute(text("DELETE FROM search_sets"))
            sets = pg_sets.Collected()
            batch: list[tuple[dict, dict]] = []
            for document in documents:
                batch.append((row_for(document), document))
                count += 1
                if len(batch) >= batch_size:
                    session.execute(_UPSERT, [row for row, _ in batch])
                    sets.add(_numbered(session, batch))
                    batch = []
            if batch:
                session.execute(_UPSERT, [row for row, _ in batch])
                sets.add(_numbered(session, batch))
            sets.write(session)
        return count

    @contextmanager
    def _writing(self):
        """A write transaction that waits at most WRITE_LOCK_TIMEOUT for a rebuild's lock."""
        with self._lock, self.database.write() as session:
            try:
                with session.begin():
                    session.execute(text(f"SET LOCAL lock_timeout = '{WRITE_LOCK_TIMEOUT}'"))
                    yield session
            except DBAPIError as error:
                if _lock_timed_out(error):
                    raise IndexBusy("the search table stayed locked (a rebuild)") from None
                raise

    # -- searching ---------------------------------------------------------------------------

    def search(self, query: SearchQuery, levels: tuple[str, ...]) -> SearchResult:
        wanted = engine.build_query(query)  # validates, and names the words to highlight
        where = Where()
        cleared(query, levels, where)
        pg_query.matches(query, where)
        deadline = self.monotonic() + self.query_timeout
        self._require()

        def check() -> None:
            if self.monotonic() > deadline:
                raise engine.QueryTimedOut(self._too_long())

        try:
            with self.database.read() as session, session.begin():
                # One snapshot, as Whoosh's one searcher gives (set with the BEGIN).
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
                self._limit_time(session, deadline)
                found = None
                if pg_set_query.covered(query):
                    found = pg_set_query.answer(session, query, levels, check)
                if found is None:
                    statement, params = answer_statement(query, where)
                    answer = session.execute(text(statement), params).one()
                    found = (*facet_counts(answer.facets or []), answer.hits or [])
        except DBAPIError as error:
            if not _cancelled(error):
                raise
            raise engine.QueryTimedOut(self._too_long()) from None
        total, facets, rows = found
        marked = highlighted_terms(wanted)
        hits = [{"id": hit["id"], "score": hit["score"], "highlights": highlights(hit, marked)}
                for hit in rows]  # fmt: skip
        return SearchResult(total, query.page, query.per_page, hits, facets)

    def _too_long(self) -> str:
        return (f"the search took longer than {self.query_timeout:g} s: add words or filters "
                "to narrow it")  # fmt: skip

    def _limit_time(self, session: Session, deadline: float) -> None:
        """What is left of the query's time, as the statement's timeout; and the matches of a
        common word (tens of thousands of narrow rows) grouped and sorted in memory, not
        spilled to disk. Both for this transaction only, in one round trip."""
        left = deadline - self.monotonic()
        if left <= 0:
            raise engine.QueryTimedOut(self._too_long())
        session.execute(text("SELECT set_config('statement_timeout', :timeout, true), "
                             "set_config('work_mem', :memory, true)"),
                        {"timeout": str(max(1, int(left * 1000))), "memory": WORK_MEM})  # fmt: skip


def answer_statement(query: SearchQuery, where: Where) -> tuple[str, dict]:
    """One statement for the whole answer, so the matches are found once: the trimmed
    matches (narrow columns, materialised), their first `wanted` in the first step's order,
    the page (the window of the first 100 sorted by tier, then score), the facets grouped
    over the matches; the page and the facets as JSON."""
    offset, limit = (query.page - 1) * query.per_page, query.page * query.per_page
    params = dict(where.params, offset=offset, per_page=query.per_page, window=RESCORE_WINDOW)
    words, scored = query_words(query), scoring_words(query)
    tier, score = "0", "NULL"
    if query.sort == "received_on":
        first, final = "received_on DESC, seq DESC", "t.n"
        params["wanted"] = limit
    else:
        if words:
            params |= {f"tier{n}": tsquery(words, weights)
                       for n, weights in enumerate(TIER_WEIGHTS)}  # fmt: skip
            tier = ("CASE " + " ".join(f"WHEN meta_terms @@ CAST(:tier{n} AS tsquery) THEN {n}"
                                       for n in range(len(TIER_WEIGHTS)))
                    + f" ELSE {len(TIER_WEIGHTS)} END")  # fmt: skip
        if scored:
            params["scoring"] = tsquery(scored, joiner=" | ")
            score = "ts_rank_cd(r.meta_terms, CAST(:scoring AS tsquery))"
        first = "tier, seq DESC"  # then the latest indexed first
        final = "(t.n > :window), t.tier, s.score DESC NULLS LAST, t.n"
        params["wanted"] = max(RESCORE_WINDOW, limit)
    # The product facet groups by each dossier's (deduplicated) list of names: a few
    # distinct lists, their names counted in Python, instead of unnesting every match.
    grouping = ", ".join((*FACET_COLUMNS, "product_names"))
    sets = ", ".join(f"({name})" for name in (*FACET_COLUMNS, "product_names"))
    statement = (
        "WITH matched AS MATERIALIZED ("
        f"  SELECT dossier_id, seq, received_on, {grouping}, {tier} AS tier"
        f"  FROM search_rows WHERE {where.sql()}), "
        "top AS (SELECT dossier_id, tier, "
        f"  row_number() OVER (ORDER BY {first}) AS n"
        f"  FROM (SELECT * FROM matched ORDER BY {first} LIMIT :wanted) AS cut), "
        "page AS (SELECT r.dossier_id, r.title, r.product, r.summary, s.score,"
        f"  row_number() OVER (ORDER BY {final}) AS position"
        "  FROM top AS t JOIN search_rows AS r USING (dossier_id)"
        f"  CROSS JOIN LATERAL (SELECT CASE WHEN t.n <= :window THEN {score} END AS score) AS s), "
        f"facets AS (SELECT GROUPING({grouping}) AS unused, {grouping}, count(*) AS n"
        f"  FROM matched GROUP BY GROUPING SETS ((), {sets})) "
        "SELECT (SELECT json_agg(json_build_object('id', dossier_id, 'title', title,"
        "    'product', product, 'summary', summary, 'score', score) ORDER BY position)"
        "  FROM page WHERE position > :offset AND position <= :offset + :per_page) AS hits,"
        f" (SELECT json_agg(json_build_array(unused, {grouping}, n)) FROM facets) AS facets"
    )  # fmt: skip
    return statement, params


def facet_counts(grouped: list) -> tuple[int, dict[str, dict]]:
    """The total and each facet's {value: count} from the grouping sets' rows ([GROUPING
    bits, class, type, year, outcome, product names, count]: a bit set is a column not
    grouped; a dossier's product names are a list without repeats)."""
    columns = (*FACET_COLUMNS, "product")
    facets: dict[str, dict] = {name: {} for name in columns}
    total, everything = 0, 2 ** len(columns) - 1
    for unused, *values, count in grouped:
        if unused == everything:
            total = count
            continue
        grouped_by = next(i for i in range(len(columns))
                          if not unused & (1 << (len(columns) - 1 - i)))  # fmt: skip
        if columns[grouped_by] == "product":
            for name in values[grouped_by]:
                facets["product"][name] = facets["product"].get(name, 0) + count
        else:
            facets[columns[grouped_by]][str(values[grouped_by])] = count
    return total, facets


def remove_dying_rows(session: Session, flush_context, instances) -> None:
    """`before_flush`: a dossier becoming `destroying` (or `destroyed`) loses its search row in
    the same transaction, whichever search backend is configured (the table exists on every
    PostgreSQL archive: rows left from a time it was the backend must go too)."""
    dying = []
    for instance in session.dirty:
        if isinstance(instance, Dossier):
            added = inspect(instance).attrs.state.history.added
            if added and added[-1] in DYING_STATES:
                dying.append(instance.id)
    if dying and _has_table(session):
        _delete_rows(session, dying)


def _delete_rows(session: Session, ids: list[str]) -> None:
    """Rows deleted, and their numbers taken out of every document set they were in."""
    old = pg_sets.stored_keys(session, ids)
    session.connection().execute(
        text("DELETE FROM search_rows WHERE dossier_id = ANY(:ids)"), {"ids": ids}
    )
    pg_sets.replace_rows(session, old, {})


def _numbered(session: Session, written: list[tuple[dict, dict]]) -> dict[int, set]:
    """The sets of rows just written, by the numbers (seq) they were given."""
    if not written:
        return {}
    seqs = dict(session.execute(
        text("SELECT dossier_id, seq FROM search_rows WHERE dossier_id = ANY(:ids)"),
        {"ids": [row["dossier_id"] for row, _ in written]}).all())  # fmt: skip
    return {seqs[row["dossier_id"]]: pg_sets.row_keys(row, entry) for row, entry in written}


_TABLES: dict[str, bool] = {}  # engine URL -> whether it has search_rows


def _has_table(session: Session) -> bool:
    connection = session.connection()
    key = str(connection.engine.url)
    if not _TABLES.get(key):
        _TABLES[key] = bool(connection.scalar(text("SELECT to_regclass('search_rows')")))
    return _TABLES[key]


def remove_rows_with_their_dossiers(database) -> None:
    """On PostgreSQL: every session of this database removes a dying dossier's search row
    in the transaction that marks it (`remove_dying_rows`)."""
    for factory in (database.read, database.write):
        if not event.contains(factory, "before_flush", remove_dying_rows):
            event.listen(factory, "before_flush", remove_dying_rows)
