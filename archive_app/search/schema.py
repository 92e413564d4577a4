"""The index schema: what is searchable, what is stored, and nothing personal."""

from __future__ import annotations

from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, TEXT, Schema

from .analysis import cjk_analyzer


def dossier_schema() -> Schema:
    analyzer = cjk_analyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        complaint_no=ID(stored=True),
        # Exact match only: a partial batch number finds nothing.
        batch_no=KEYWORD(commas=True, lowercase=True, scorable=False),
        title=TEXT(analyzer=analyzer, stored=True),
        product=TEXT(analyzer=analyzer, stored=True),
        manufacturer=TEXT(analyzer=analyzer),
        summary=TEXT(analyzer=analyzer, stored=True),
        # Document text: indexed, never stored, and without positions (phrase queries over
        # long text cost seconds in Whoosh; an AND of bigrams finds the same dossiers).
        text=TEXT(analyzer=analyzer, phrase=False),
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
