"""The PostgreSQL search table: one row per living dossier, its analysed terms as `tsvector`s.

The same analysis as the Whoosh schema (`analysis.terms`: CJK bigrams, Latin and digit runs),
written as tsvector literals, so PostgreSQL's own parser (which knows no CJK bigrams) never
re-reads the text; that is the `simple` configuration's behaviour (lexemes as given, no
stemming, no stop words). Metadata fields share one vector, told apart by weight (title A,
product B, summary C, manufacturer D) and by position ranges with a gap between fields, so a
phrase (`<->`) never runs from one field into the next. Document text has a vector of its own,
without positions, as Whoosh keeps it in its own field without positions.

The table lives on its own `MetaData`, not `Base.metadata`: it exists only on PostgreSQL
(migration 0015_search_rows), and SQLite's `create_all` must not meet a `tsvector`.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR

from ..db import NAMING_CONVENTION
from .analysis import terms

log = logging.getLogger(__name__)

metadata = MetaData(naming_convention=NAMING_CONVENTION)

search_rows = Table(
    "search_rows",
    metadata,
    Column("dossier_id", String(32), primary_key=True),
    # Set from a sequence at every write: "the latest indexed first", Whoosh's tie order.
    Column("seq", BigInteger, nullable=False),
    Column("complaint_no", String(32), nullable=False),
    Column("batch_nos", ARRAY(Text), nullable=False),  # lower-cased, exact
    Column("product_names", ARRAY(Text), nullable=False),  # whole names, the product facet
    Column("complaint_class", String(3), nullable=False),
    Column("complaint_type", String(32), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("confidentiality", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("year", Integer, nullable=False),
    Column("received_on", Date, nullable=False),
    Column("closed_on", Date, nullable=True),
    # Stored for highlights (already redacted, as Whoosh stores them): never personal data.
    Column("title", Text, nullable=True),
    Column("product", Text, nullable=True),
    Column("summary", Text, nullable=True),
    Column("meta_terms", TSVECTOR, nullable=False),
    Column("text_terms", TSVECTOR, nullable=False),
    Index("ix_search_rows_meta_terms", "meta_terms", postgresql_using="gin"),
    Index("ix_search_rows_text_terms", "text_terms", postgresql_using="gin"),
    Index("ix_search_rows_batch_nos", "batch_nos", postgresql_using="gin"),
    Index("ix_search_rows_complaint_no", "complaint_no"),
    Index("ix_search_rows_received_on", "received_on"),
    Index("ix_search_rows_seq", "seq"),
)

SEQUENCE = "search_rows_seq"
# Each metadata field's weight: tiers and phrases select fields by weight.
WEIGHTS = {"title": "A", "product": "B", "summary": "C", "manufacturer": "D"}
MAX_POSITION = 16383  # PostgreSQL's: later positions are stored as this one
# A tsvector holds at most 1 MB: document text keeps its distinct terms up to this size
# (lexeme bytes plus PostgreSQL's 4-byte entry each), the rest is left out and logged.
MAX_TEXT_VECTOR_BYTES = 900_000


def lexeme(term: str) -> str:
    """A term as a quoted tsvector/tsquery lexeme (terms are CJK, Latin or digit runs; the
    quoting is there all the same)."""
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def meta_vector(fields: dict[str, str | None]) -> str:
    """The metadata fields' terms as one tsvector literal: each term with its positions and
    its field's weight; each field's positions begin one past the previous field's end."""
    positions: dict[tuple[str, str], list[int]] = defaultdict(list)
    start = 1
    for name, weight in WEIGHTS.items():
        found = terms(fields.get(name) or "")
        for offset, term in enumerate(found):
            positions[(term, weight)].append(min(start + offset, MAX_POSITION))
        start += len(found) + 1  # a gap: no phrase spans two fields
    by_term: dict[str, list[str]] = defaultdict(list)
    for (term, weight), where in positions.items():
        by_term[term] += [f"{position}{weight}" for position in dict.fromkeys(where)]
    return " ".join(f"{lexeme(term)}:{','.join(where)}" for term, where in by_term.items())


def kept_text_terms(text: str | None, dossier_id: str = "") -> list[str]:
    """Document text's distinct terms, up to MAX_TEXT_VECTOR_BYTES (what its vector holds)."""
    kept, size = [], 0
    for term in dict.fromkeys(terms(text or "")):
        size += len(term.encode()) + 4
        if size > MAX_TEXT_VECTOR_BYTES:
            log.warning("dossier %s: document text past %d bytes of terms is not indexed",
                        dossier_id, MAX_TEXT_VECTOR_BYTES)  # fmt: skip
            break
        kept.append(term)
    return kept


def text_vector(text: str | None, dossier_id: str = "") -> str:
    """Document text's distinct terms as a tsvector literal without positions."""
    return " ".join(lexeme(term) for term in kept_text_terms(text, dossier_id))


def meta_fields(entry: dict) -> dict[str, str | None]:
    """The metadata fields' texts of an index entry, as the metadata vector reads them (the
    product names joined)."""
    return {
        "title": entry.get("title"),
        "product": " ".join(_listed(entry.get("product"))),
        "summary": entry.get("summary"),
        "manufacturer": entry.get("manufacturer"),
    }


def _listed(value) -> list[str]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def row_for(entry: dict) -> dict:
    """An index entry (`Indexer.entry`) as the table's columns, vectors as literals."""
    products = _listed(entry.get("product"))
    product = " ".join(products)
    return {
        "dossier_id": entry["id"],
        "complaint_no": entry["complaint_no"],
        "batch_nos": list(dict.fromkeys(b.strip().lower() for b in _listed(entry.get("batch_no")))),
        "product_names": list(dict.fromkeys(_listed(entry.get("product_name")))),
        "complaint_class": entry["complaint_class"],
        "complaint_type": entry["complaint_type"],
        "outcome": entry["outcome"],
        "confidentiality": entry["confidentiality"],
        "state": entry["state"],
        "year": entry["year"],
        "received_on": entry["received_on"],
        "closed_on": entry.get("closed_on"),
        "title": entry.get("title") or None,
        "product": product or None,
        "summary": entry.get("summary") or None,
        "meta_terms": meta_vector(meta_fields(entry)),
        "text_terms": text_vector(entry.get("text"), entry["id"]),
    }
