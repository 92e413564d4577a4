"""The index schema: what is searchable, what is stored, and nothing personal."""

from __future__ import annotations

from collections import Counter, defaultdict
from functools import lru_cache

from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.formats import Frequency, Positions
from whoosh.system import pack_uint

from .analysis import cjk_analyzer, terms


class BigramText(TEXT):
    """A TEXT field of `cjk_analyzer` whose postings are computed from `analysis.terms` (one
    list of the terms) instead of Whoosh's stream of Token objects: the same postings
    (tests/unit/search/test_search_analysis.py compares them with TEXT's), in a fraction of
    the time. Module-level: the schema is pickled into the index."""

    def __init__(self, **options):
        # `terms` is this analyzer's output: no other analyzer can be given.
        super().__init__(analyzer=cjk_analyzer(), **options)

    def index(self, value, **kwargs):
        if not isinstance(value, str) or type(self.format) not in (Frequency, Positions):
            yield from super().index(value, **kwargs)
            return
        boost = self.format.field_boost
        found = terms(value)
        if type(self.format) is Frequency:
            for word, count in Counter(found).items():
                yield word.encode(), count, count * boost, _count_bytes(count)
            return
        positions = defaultdict(list)
        for position, word in enumerate(found):
            positions[word].append(position)
        for word, where in positions.items():
            yield word.encode(), len(where), len(where) * boost, _positions_bytes(tuple(where))


# The encoded values of a posting depend only on the count or the positions, and the same
# few recur in every document: encoded once each (a rebuild encoded millions).
@lru_cache(maxsize=4096)
def _count_bytes(count: int) -> bytes:
    return pack_uint(count)


@lru_cache(maxsize=65536)
def _positions_bytes(where: tuple[int, ...]) -> bytes:
    return Positions().encode(where)  # Positions.encode reads nothing of its instance


def dossier_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        complaint_no=ID(stored=True),
        # Exact match only: a partial batch number finds nothing.
        batch_no=KEYWORD(commas=True, lowercase=True, scorable=False),
        title=BigramText(stored=True),
        product=BigramText(stored=True),
        # The parties and references: manufacturers, the supplier, the ADR and recall report
        # numbers (indexing.parties_and_references; one field, so the engine is unchanged).
        manufacturer=BigramText(),
        summary=BigramText(stored=True),
        # Document text: indexed, never stored, and without positions (phrase queries over
        # long text cost seconds in Whoosh; an AND of bigrams finds the same dossiers).
        text=BigramText(phrase=False),
        complaint_class=ID(stored=True),
        complaint_type=ID(stored=True),
        outcome=ID(stored=True),
        channel=ID,
        department=ID,
        confidentiality=ID(stored=True),
        state=ID(stored=True),
        year=NUMERIC(int, stored=True),
        received_on=DATETIME(stored=True, sortable=True),
        closed_on=DATETIME(stored=True),
        # Whole product names, for the product facet (`product` holds their bigrams).
        product_name=KEYWORD(commas=True, scorable=False),
        # Each phrase field's term sequence as one term (analysis.term_sequence), for phrases.
        title_seq=ID,
        product_seq=ID,
        summary_seq=ID,
    )
