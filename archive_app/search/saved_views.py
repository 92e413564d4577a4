"""The saved-search pages: `/search/saved` lists the caller's own, a form on the search page
saves one, and each can be deleted by its owner (POSTs, CSRF-checked as every page's)."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from translationstring import TranslationStringFactory

from ..access.permissions import Permission
from ..errors import NotFound
from ..interfaces import IClock
from ..pages import shows_refusals
from .saved import delete_saved_search, save_search, saved_searches_of

_ = TranslationStringFactory("archive")

PAGE = "archive_app:templates/search/saved.pt"


def _page(request, **extra) -> dict:
    saved = saved_searches_of(request.dbsession, request.user.username)
    return {"saved": saved, "error": None, "created": request.GET.get("created") == "1",
            "name": ""} | extra  # fmt: skip


@view_config(route_name="search.saved", request_method="GET", renderer=PAGE,
             permission=Permission.READ_DOSSIERS)  # fmt: skip
def saved_page(request):
    return _page(request)


@view_config(route_name="search.saved", request_method="POST", renderer=PAGE,
             permission=Permission.READ_DOSSIERS)  # fmt: skip
@shows_refusals(lambda request, error: _page(request, error=error, name=_name(request)[:100]))
def save(request):
    save_search(request.dbsession, request.user.username, _name(request),
                request.POST.get("query", "")[:10_000],
                request.find_service(IClock).now())  # fmt: skip
    return HTTPSeeOther(request.route_url("search.saved", _query={"created": "1"}))


def _name(request) -> str:
    return request.POST.get("name", "")[:1000]


@view_config(route_name="search.saved.delete", request_method="POST",
             permission=Permission.READ_DOSSIERS)  # fmt: skip
def delete(request):
    saved_id = request.matchdict["saved_id"]
    if not (saved_id.isascii() and saved_id.isdigit() and len(saved_id) <= 9):
        raise NotFound(_("no such saved search"), field="saved_id")
    delete_saved_search(request.dbsession, request.user.username, int(saved_id))
    return HTTPSeeOther(request.route_url("search.saved"))
