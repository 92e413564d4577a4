"""Index drift: the dossiers the search index lacks or should not have, as `archive verify`
reports them (`archive reindex` repairs both)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..records.models import Dossier
from ..records.vocabulary import DYING_STATES, DossierState
from .engine import IndexUnavailable, SearchIndex


def index_drift(index: SearchIndex, session: Session) -> list[str]:
    """One line per dossier living but not indexed, or indexed but not living."""
    states = dict(session.execute(select(Dossier.id, Dossier.state)).all())
    living = {i for i, state in states.items() if state not in DYING_STATES}
    # A dossier a killed retention run left "destroying" may or may not be indexed still:
    # the next run purges it either way, so it is not drift.
    dying = {i for i, state in states.items() if state == DossierState.DESTROYING}
    try:
        indexed = index.ids()
    except IndexUnavailable:
        return ["search index: missing or unreadable (archive reindex rebuilds it)"]
    lines = [f"search index: dossier {i} is not indexed" for i in sorted(living - indexed)]
    lines += [f"search index: dossier {i} is indexed but not living"
              for i in sorted(indexed - living - dying)]  # fmt: skip
    return lines
