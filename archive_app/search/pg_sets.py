"""Document sets of the PostgreSQL search backend: for every term of every field group and
every facet value, clearance level, state and received month, the search rows that have it,
as roaring bitmaps of their `seq` (the document number) in the table `search_sets`.

A query then reads a few bitmaps and counts in C (`pg_set_query.py`) instead of visiting
every match's row: totals, trimmed facets and the tier order of a million rows.

A set is kept in chunks of 65,536 document numbers (one row each, `chunk` = seq >> 16):
numbers are handed out in order, so a drain batch rewrites only the latest chunk of each
touched set, never a whole set of a common word. The sets change in the transaction that
changes the rows (upsert, delete, a dossier marked `destroying`): a row's old number leaves
every set it was in when the row is replaced or deleted, so no set holds anything of a
destroyed dossier once that transaction commits, and readers (one snapshot) see rows and
sets agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from pyroaring import BitMap
from sqlalchemy import Column, Integer, LargeBinary, PrimaryKeyConstraint, Table, Text, text
from sqlalchemy.orm import Session

from .analysis import term_sequence, terms
from .pg_rows import WEIGHTS, kept_text_terms, meta_fields, metadata

search_sets = Table(
    "search_sets",
    metadata,
    Column("kind", Text, nullable=False),
    Column("value", Text, nullable=False),
    Column("chunk", Integer, nullable=False),
    Column("members", LargeBinary, nullable=False),  # FrozenBitMap.serialize()
    PrimaryKeyConstraint("kind", "value", "chunk", name="pk_search_sets"),
)

CHUNK_BITS = 16
EMPTY = BitMap().serialize()
MAX_DOCNUM = 2**32 - 1  # a roaring bitmap's numbers are 32-bit
TEXT = "T"  # the kind of document text's terms; metadata terms are kinds A-D (their weights)
TERM_KINDS = (*WEIGHTS.values(), TEXT)
# Facets, clearance, state and month: a value of the row each.
FACET_KINDS = {"complaint_class": "class", "complaint_type": "type", "year": "year",
               "outcome": "outcome"}  # fmt: skip
PRODUCT, LEVEL, STATE, MONTH = "product", "level", "state", "month"
DAY = "day"  # received on (ISO dates: their text order is their order), for the date sort
# Phrases: each phrase field's whole term sequence (analysis.term_sequence) is a set of its
# own, so a phrase is the union of the sequences that contain it (no positions read), as
# Whoosh's docsets.py finds them. A sequence too long for a b-tree key puts its row in the
# LONG set instead, whose candidates are checked against their vectors.
SEQUENCE_KINDS = {"title": "SA", "product": "SB", "summary": "SC"}
LONG = ("SL", "")
MAX_SEQUENCE_BYTES = 1000

Key = tuple[str, str]  # (kind, value)


def row_keys(row: dict, entry: dict) -> set[Key]:
    """The sets a search row (`pg_rows.row_for`) of this index entry belongs to."""
    received = row["received_on"]
    keys = {(LEVEL, row["confidentiality"]), (STATE, row["state"]),
            (MONTH, f"{received:%Y-%m}"), (DAY, f"{received:%Y-%m-%d}")}  # fmt: skip
    keys |= {(kind, str(row[column])) for column, kind in FACET_KINDS.items()}
    keys |= {(PRODUCT, name) for name in row["product_names"]}
    for name, text_value in meta_fields(entry).items():
        keys |= {(WEIGHTS[name], term) for term in terms(text_value or "")}
    keys |= sequence_keys({name: row[name] for name in SEQUENCE_KINDS})
    keys |= {(TEXT, term) for term in kept_text_terms(entry.get("text"), entry["id"])}
    return keys


_STORED_KEYS = text(
    "SELECT r.dossier_id, r.seq, r.confidentiality, r.state, r.complaint_class,"
    " r.complaint_type, r.outcome, r.year, to_char(r.received_on, 'YYYY-MM-DD'), r.product_names,"
    " ARRAY(SELECT DISTINCT w || chr(31) || u.lexeme"
    "       FROM unnest(r.meta_terms) AS u, unnest(u.weights) AS w),"
    " tsvector_to_array(r.text_terms), r.title, r.product, r.summary"
    " FROM search_rows AS r WHERE r.dossier_id = ANY(:ids)"
)  # fmt: skip


def stored_keys(session: Session, ids: list[str]) -> dict[int, set[Key]]:
    """The sets the stored rows of these dossiers are in, by their seq: read from the rows
    themselves (their vectors), so a row leaves exactly the sets it was put in."""
    found: dict[int, set[Key]] = {}
    if not ids:
        return found
    for row in session.execute(_STORED_KEYS, {"ids": list(ids)}):
        _id, seq, level, state, klass, kind, outcome, year, day, products, meta, text_ = row[:12]
        keys = {(LEVEL, level), (STATE, state), (MONTH, day[:7]), (DAY, day), ("class", klass),
                ("type", kind), ("year", str(year)), ("outcome", outcome)}  # fmt: skip
        keys |= {(PRODUCT, name) for name in products}
        keys |= {tuple(item.split("\x1f", 1)) for item in meta}
        keys |= {(TEXT, term) for term in text_}
        keys |= sequence_keys(dict(zip(SEQUENCE_KINDS, row[12:], strict=True)))
        found[seq] = keys
    return found


def sequence_keys(fields: dict[str, str | None]) -> set[Key]:
    """The phrase fields' sequence sets (as stored: the row's title, product, summary)."""
    keys = set()
    for name, kind in SEQUENCE_KINDS.items():
        if fields[name] and terms(fields[name]):
            sequence = term_sequence(fields[name])
            keys.add(LONG if len(sequence.encode()) > MAX_SEQUENCE_BYTES else (kind, sequence))
    return keys


def by_key(members: dict[int, set[Key]]) -> dict[Key, list[int]]:
    """{seq: keys} turned round: {key: [seq, ...]}."""
    turned: dict[Key, list[int]] = defaultdict(list)
    for seq, keys in members.items():
        if not 0 <= seq <= MAX_DOCNUM:
            raise ValueError(f"search row number {seq} is past a document set's 32 bits")
        for key in keys:
            turned[key].append(seq)
    return turned


def chunks(numbers: Iterable[int]) -> dict[int, list[int]]:
    split: dict[int, list[int]] = defaultdict(list)
    for number in numbers:
        split[number >> CHUNK_BITS].append(number)
    return split


def change(session: Session, added: dict[Key, list[int]], removed: dict[Key, list[int]]) -> None:
    """Add and remove document numbers, in the session's transaction: each touched chunk read
    FOR UPDATE (in one order, so two writers never wait for each other in a circle), changed,
    written back, or deleted when nothing is left in it."""
    work: dict[tuple[str, str, int], tuple[list[int], list[int]]] = {}
    for sign, changes in ((0, added), (1, removed)):
        for (kind, value), numbers in changes.items():
            for chunk, part in chunks(numbers).items():
                work.setdefault((kind, value, chunk), ([], []))[sign].extend(part)
    if not work:
        return
    wanted = sorted(work)
    kinds, values, numbers = (list(column) for column in zip(*wanted, strict=True))
    # Chunks to add to made first if missing (empty): a second writer making the same chunk
    # waits for this one's to commit and then reads it below, instead of overwriting it.
    growing = [key for key in wanted if work[key][0]]
    if growing:
        session.execute(
            text(
                "INSERT INTO search_sets (kind, value, chunk, members)"
                " SELECT *, CAST(:empty AS bytea) FROM unnest(CAST(:k AS text[]),"
                " CAST(:v AS text[]), CAST(:c AS int[])) ON CONFLICT DO NOTHING"
            ),
            {"k": [key[0] for key in growing], "v": [key[1] for key in growing],
             "c": [key[2] for key in growing], "empty": EMPTY},
        )  # fmt: skip
    current = {
        (kind, value, chunk): BitMap.deserialize(members)
        for kind, value, chunk, members in session.execute(
            text(
                "SELECT s.kind, s.value, s.chunk, s.members FROM search_sets AS s"
                " JOIN unnest(CAST(:k AS text[]), CAST(:v AS text[]), CAST(:c AS int[]))"
                "  AS w(kind, value, chunk) USING (kind, value, chunk)"
                " ORDER BY s.kind, s.value, s.chunk FOR UPDATE OF s"
            ),
            {"k": kinds, "v": values, "c": numbers},
        )  # fmt: skip
    }
    kept, emptied = [], []
    for key in wanted:
        members = current.get(key) or BitMap()
        add, remove = work[key]
        members.update(add)
        members.difference_update(BitMap(remove))
        if members:
            kept.append((*key, members))
        else:
            emptied.append(key)
    write(session, kept)
    if emptied:
        session.execute(
            text("DELETE FROM search_sets AS s USING unnest(CAST(:k AS text[]),"
                 " CAST(:v AS text[]), CAST(:c AS int[])) AS w(kind, value, chunk)"
                 " WHERE (s.kind, s.value, s.chunk) = (w.kind, w.value, w.chunk)"),
            {"k": [key[0] for key in emptied], "v": [key[1] for key in emptied],
             "c": [key[2] for key in emptied]})  # fmt: skip


def write(session: Session, rows: list[tuple[str, str, int, BitMap]], batch: int = 2000) -> None:
    """Chunks written whole (inserted, or replacing the stored chunk)."""
    for start in range(0, len(rows), batch):
        part = rows[start : start + batch]
        session.execute(
            text("INSERT INTO search_sets (kind, value, chunk, members)"
                 " SELECT * FROM unnest(CAST(:k AS text[]), CAST(:v AS text[]),"
                 " CAST(:c AS int[]), CAST(:m AS bytea[]))"
                 " ON CONFLICT (kind, value, chunk) DO UPDATE SET members = EXCLUDED.members"),
            {"k": [row[0] for row in part], "v": [row[1] for row in part],
             "c": [row[2] for row in part],
             "m": [_compact(row[3]).serialize() for row in part]})  # fmt: skip


def _compact(members: BitMap) -> BitMap:
    members.run_optimize()  # runs of consecutive numbers (a rebuild's) stored as runs
    return members


def split_chunks(key: Key, members: BitMap) -> list[tuple[str, str, int, BitMap]]:
    """A whole set as its chunks' rows."""
    rows = []
    for chunk in range(members.min() >> CHUNK_BITS, (members.max() >> CHUNK_BITS) + 1):
        window = BitMap()
        window.add_range(chunk << CHUNK_BITS, (chunk + 1) << CHUNK_BITS)
        part = members & window
        if part:
            rows.append((*key, chunk, part))
    return rows


def replace_rows(session: Session, old: dict[int, set[Key]], new: dict[int, set[Key]]) -> None:
    """Rows replaced or deleted (`old`, by their former seq) and rows written (`new`)."""
    change(session, by_key(new), by_key(old))


def load(session: Session, kinds: Iterable[str], terms_by_kind: dict[str, Iterable[str]],
         keys: Iterable[Key] = ()) -> dict[Key, BitMap]:  # fmt: skip
    """Whole sets: every value of `kinds` (facets), the given terms of each term kind and
    the given keys; their chunks ORed together."""
    term_kinds, term_values = [], []
    for kind, values in terms_by_kind.items():
        for value in dict.fromkeys(values):
            term_kinds.append(kind)
            term_values.append(value)
    for kind, value in keys:
        term_kinds.append(kind)
        term_values.append(value)
    parts: dict[Key, list[BitMap]] = defaultdict(list)
    rows = session.execute(
        text("SELECT kind, value, members FROM search_sets WHERE kind = ANY(:kinds)"
             " UNION ALL SELECT s.kind, s.value, s.members FROM search_sets AS s"
             " JOIN unnest(CAST(:k AS text[]), CAST(:v AS text[])) AS w(kind, value)"
             " USING (kind, value)"),
        {"kinds": list(kinds), "k": term_kinds, "v": term_values})  # fmt: skip
    for kind, value, members in rows:
        parts[(kind, value)].append(BitMap.deserialize(members))
    return {key: BitMap.union(*found) if len(found) > 1 else found[0]
            for key, found in parts.items()}  # fmt: skip


READY = ("ready", "")  # a marker row: the sets hold every row (a rebuild, or a new table)


class Collected:
    """A rebuild's sets, gathered in memory batch by batch and written once at its end."""

    def __init__(self):
        self.sets: dict[Key, BitMap] = {}

    def add(self, members: dict[int, set[Key]]) -> None:
        for key, numbers in by_key(members).items():
            found = self.sets.get(key)
            if found is None:
                self.sets[key] = BitMap(numbers)
            else:
                found.update(numbers)

    def write(self, session: Session) -> None:
        rows = [(*READY, 0, BitMap())]  # an empty set: the marker
        for key, members in self.sets.items():
            rows += split_chunks(key, members)
        write(session, rows)
