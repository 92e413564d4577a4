"""Saved searches: a user's named search-page query strings, listed, run and deleted by their
owner alone. `saved_searches_of` is also what a home page lists."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from translationstring import TranslationStringFactory

from ..errors import Conflict, Invalid, NotFound
from .models import SavedSearch
from .schemas import ExportParameters, search_query

_ = TranslationStringFactory("archive")  # the details are what the saved-search page says

MAX_NAME_CHARS = 100
MAX_QUERY_CHARS = 2000
MAX_SAVED_PER_USER = 100
# What a saved search keeps of the page's query string: the search, not where one was in it.
KEPT = tuple(node.name for node in ExportParameters().children)


def kept_query(params) -> str:
    """The parts of a query string that make the search (words, filters, order), encoded."""
    return urlencode([(name, value) for name, value in params.items()
                      if name in KEPT and value])  # fmt: skip


def saved_searches_of(session: Session, username: str) -> list[SavedSearch]:
    """The user's saved searches, newest first."""
    query = select(SavedSearch).where(SavedSearch.username == username)
    return list(session.scalars(query.order_by(SavedSearch.created_at.desc(),
                                               SavedSearch.id.desc())))  # fmt: skip


def save_search(session: Session, username: str, name: str, query_string: str,
                now: datetime) -> SavedSearch:  # fmt: skip
    """Keep a search under a name; the query string must be one the search accepts."""
    name = " ".join(name.split())
    if not name:
        raise Invalid(_("Give the search a name."), field="name")
    if len(name) > MAX_NAME_CHARS:
        raise Invalid(_("The name is longer than 100 characters."), field="name")
    params = dict(parse_qsl(query_string, keep_blank_values=False))
    search_query(params, ExportParameters())  # a saved search runs: never keep one that cannot
    query_string = kept_query(params)
    if not query_string:
        raise Invalid(_("Only a search with words or a filter can be saved."), field="query")
    if len(query_string) > MAX_QUERY_CHARS:
        raise Invalid(_("The search is too long to be saved."), field="query")
    count = session.scalar(select(func.count()).where(SavedSearch.username == username))
    if count >= MAX_SAVED_PER_USER:
        raise Conflict(_("At most 100 saved searches: delete one first."), field="name")
    saved = SavedSearch(username=username, name=name, query_string=query_string, created_at=now)
    session.add(saved)
    session.flush()
    return saved


def delete_saved_search(session: Session, username: str, saved_id: int) -> None:
    """Delete one of the user's saved searches; another user's is as unknown as none."""
    done = session.execute(
        delete(SavedSearch).where(SavedSearch.id == saved_id, SavedSearch.username == username)
    )
    if done.rowcount != 1:
        raise NotFound("no such saved search", field=None)
