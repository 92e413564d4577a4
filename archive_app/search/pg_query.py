"""SQL for a `SearchQuery` on the PostgreSQL backend's table (`pg_rows.search_rows`): its
words and filters as `engine.build_query` reads them for Whoosh, and the caller's clearance,
as one WHERE clause with named parameters; tsquery literals of the analysed terms (never
PostgreSQL's own parsing of the user's text)."""

from __future__ import annotations

from collections.abc import Iterable

from ..records.vocabulary import LIVING_STATES
from .analysis import query_terms
from .engine import (
    MAX_QUERY_CHARS,
    MAX_TERMS,
    PHRASE_FIELDS,
    QUOTED,
    QueryError,
    SearchQuery,
    query_words,
)
from .pg_rows import WEIGHTS, lexeme

PHRASE_WEIGHTS = "".join(WEIGHTS[name] for name in PHRASE_FIELDS)  # ABC
TIER_WEIGHTS = ("AB", "ABC")  # ranking.TIER_FIELDS: title and product; then the summary too


def tsquery(words: Iterable[str], weights: str = "", joiner: str = " & ") -> str:
    """A tsquery literal of these terms, each restricted to `weights` (fields) when given."""
    suffix = f":{weights}" if weights else ""
    return joiner.join(f"{lexeme(word)}{suffix}" for word in words)


class Where:
    """A WHERE clause being built: SQL fragments ANDed, their values as named parameters."""

    def __init__(self):
        self.parts: list[str] = []
        self.params: dict = {}

    def value(self, value) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def add(self, fragment: str) -> None:
        self.parts.append(fragment)

    def sql(self) -> str:
        return " AND ".join(self.parts) if self.parts else "TRUE"


def matches(query: SearchQuery, where: Where) -> None:
    """The user's words and filters, as `engine.build_query` reads them."""
    text_value = query.q or ""
    if len(text_value) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is longer than {MAX_QUERY_CHARS} characters")
    for phrase in QUOTED.findall(text_value):
        found = query_terms(phrase)
        if len(found) > 1:  # consecutive in title, product or summary
            literal = tsquery(found, PHRASE_WEIGHTS, " <-> ")
            where.add(f"meta_terms @@ CAST({where.value(literal)} AS tsquery)")
        elif found:
            _term(query, where, found[0])
    found = query_terms(QUOTED.sub(" ", text_value).replace('"', " "))
    if len(found) > MAX_TERMS:
        raise QueryError(f"the query has more than {MAX_TERMS} terms")
    if query.document_text:
        for term in dict.fromkeys(found):
            _term(query, where, term)
    elif found:  # metadata only: every term in one vector, one index look-up
        where.add(f"meta_terms @@ CAST({where.value(tsquery(dict.fromkeys(found)))} AS tsquery)")
    if query.product:
        product = query_terms(query.product[:MAX_QUERY_CHARS])[:MAX_TERMS]
        if product:
            literal = tsquery(dict.fromkeys(product), WEIGHTS["product"])
            where.add(f"meta_terms @@ CAST({where.value(literal)} AS tsquery)")
    if query.batch_no:
        batch = query.batch_no.strip().lower()
        where.add(f"batch_nos @> CAST({where.value([batch])} AS text[])" if storable(batch)
                  else "FALSE")  # fmt: skip
    for name in ("complaint_no", "complaint_class", "complaint_type", "outcome"):
        value = getattr(query, name)
        if value:
            where.add(f"{name} = {where.value(value)}" if storable(value) else "FALSE")
    if query.received_from:
        where.add(f"received_on >= {where.value(query.received_from)}")
    if query.received_to:
        where.add(f"received_on <= {where.value(query.received_to)}")


def storable(value: str) -> bool:
    """PostgreSQL text holds no NUL character: a value with one equals no stored value (and
    as a parameter it would fail the statement)."""
    return "\x00" not in value


def _term(query: SearchQuery, where: Where, term: str) -> None:
    """One term, in any text field (document text only for those who may read it)."""
    literal = where.value(lexeme(term))
    if query.document_text:
        where.add(f"(meta_terms @@ CAST({literal} AS tsquery) "
                  f"OR text_terms @@ CAST({literal} AS tsquery))")  # fmt: skip
    else:
        where.add(f"meta_terms @@ CAST({literal} AS tsquery)")


def cleared(query: SearchQuery, levels: tuple[str, ...], where: Where) -> None:
    """The caller's clearance and, unless asked otherwise, living dossiers: in the SQL."""
    where.add(f"confidentiality = ANY({where.value([str(level) for level in levels])})")
    if not query.include_destroyed:
        where.add(f"state = ANY({where.value([str(state) for state in LIVING_STATES])})")


def scoring_words(query: SearchQuery) -> list[str]:
    """What relevance scores (engine.scoring_query): the words of `q`, the product filter's."""
    words = query_words(query)
    if query.product:
        words += query_terms(query.product[:MAX_QUERY_CHARS])[:MAX_TERMS]
    return list(dict.fromkeys(words))
