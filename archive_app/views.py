"""The home page, the language switch, and the error views (JSON for the API, pages for people)."""

from __future__ import annotations

import logging

from pyramid.csrf import get_csrf_token
from pyramid.exceptions import BadCSRFToken
from pyramid.httpexceptions import HTTPException, HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.renderers import render_to_response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import (
    exception_view_config,
    forbidden_view_config,
    notfound_view_config,
    view_config,
)

from .access.audit import log_after_request
from .access.permissions import Permission
from .errors import (
    ArchiveError,
    BadRequest,
    Forbidden,
    Internal,
    MethodNotAllowed,
    NotFound,
    Unauthorized,
    storage_full,
)
from .homes import home_values
from .records.clearance import may_read

_ = TranslationStringFactory("archive")

log = logging.getLogger(__name__)

# What a refused request was trying to do, for its access-log entry.
ACTIONS = {
    ("api.dossiers", "POST"): "file",
    ("api.dossiers", "GET"): "search",
    ("api.dossier", "GET"): "view",
    ("api.dossier.documents", "POST"): "append",
    ("api.dossier.document", "GET"): "download",
    ("records.new", "GET"): "file",
    ("records.new", "POST"): "file",
    ("records.detail", "GET"): "view",
    ("records.detail", "POST"): "append",
    ("records.detail.download", "GET"): "download",
    ("records.detail.preview", "GET"): "preview",
}


def is_api(request) -> bool:
    return request.path.startswith("/api/")


def attempted_action(request) -> str:
    route = request.matched_route.name if request.matched_route else None
    return ACTIONS.get((route, request.method), "request")


def error_response(request, error: ArchiveError):
    if is_api(request):
        response = request.response
        response.status = error.status
        response.content_type = "application/json"
        response.json_body = error.as_json()
        if error.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="archive"'
        if getattr(error, "retry_after", None):
            response.headers["Retry-After"] = str(error.retry_after)
        return response
    response = render_to_response(
        "archive_app:templates/error.pt", {"error": error}, request=request
    )
    response.status = error.status
    return response


@view_config(route_name="home", renderer="archive_app:templates/home.pt",
             permission=NO_PERMISSION_REQUIRED)  # fmt: skip
def home(request):
    """The signed-in home: what everyone has, then the role's own section (homes.py)."""
    if request.user is None:
        return HTTPSeeOther(request.route_url("access.login"))
    return {"csrf_token": get_csrf_token(request), **home_values(request)}


@exception_view_config(ArchiveError)
def archive_error(error, request):
    # Every refusal is logged: denied (who may not), refused (bad input, guessed ids,
    # conflicts), failed (the archive could not, e.g. a full disk).
    outcome = ("denied" if error.status in (401, 403)
               else "failed" if error.status >= 500 else "refused")  # fmt: skip
    detail = f"{error.status} {error.code}: {error.detail}"[:500]
    log_after_request(request, attempted_action(request), outcome, detail=detail)
    return error_response(request, error)


@forbidden_view_config()
def forbidden(exception, request):
    permission = getattr(exception.result, "permission", None)
    context = request.context
    action = attempted_action(request)
    if request.user is None:
        log_after_request(request, action, "denied", detail="not signed in")
        if not is_api(request):
            return HTTPSeeOther(request.route_url("access.login", _query={"next": request.path_qs}))
        return error_response(request, Unauthorized(_("sign in first"), field=None))
    hides = getattr(context, "hides_existence_from", None)
    if hides is not None and hides(request, permission):
        # Above the caller's clearance: answer as if it did not exist, but log the truth.
        log_after_request(request, action, "denied", detail=f"clearance below level ({permission})")
        return error_response(request, NotFound(_("no such dossier"), field="dossier_id"))
    log_after_request(request, action, "denied", detail=f"missing permission {permission}")
    denied = Forbidden(_("your role may not do this"), field=None)
    dossier = getattr(context, "dossier", None)
    if (route_name(request) == "records.detail" and not is_api(request) and dossier is not None
            and may_read(request.user, dossier.confidentiality)
            and request.has_permission(Permission.REVIEW_ACCESS_LOG)):  # fmt: skip
        # A privacy officer may not read the dossier, but may see who did (within clearance:
        # above it, the answer is the same as for an id that does not exist).
        denied.who_saw_it = request.route_url("access.log", _query={"dossier_id": dossier.id})
    return error_response(request, denied)


def route_name(request) -> str | None:
    return request.matched_route.name if request.matched_route else None


@exception_view_config(BadCSRFToken)
def bad_csrf(exception, request):
    log_after_request(request, attempted_action(request), "denied", detail="bad CSRF token")
    return error_response(request, BadRequest(_("the form expired; reload and retry"), field=None))


@notfound_view_config()
def not_found(exception, request):
    allowed = allowed_methods(request) if request.matched_route is not None else set()
    if allowed and request.method not in allowed:
        # The path exists, the method does not (RFC 9110 §15.5.6: 405 with Allow).
        response = error_response(request, MethodNotAllowed(
            f"{request.method} is not allowed here", field=None))  # fmt: skip
        response.headers["Allow"] = ", ".join(sorted(allowed))
        return response
    return error_response(request, NotFound(_("no such page"), field=None))


def allowed_methods(request) -> set[str]:
    """The methods some view of the matched route answers (from Pyramid's introspector)."""
    introspector = request.registry.introspector
    route = introspector.get("routes", request.matched_route.name)
    methods = set()
    for view in introspector.related(route) if route is not None else ():
        if view.category_name == "views":
            wanted = view["request_methods"]  # None, one name, or a tuple of names
            if isinstance(wanted, str):
                wanted = (wanted,)
            methods |= set(wanted) if wanted else {"GET", "POST", "PUT", "PATCH", "DELETE"}
    return methods


@exception_view_config(Exception)
def unexpected(exception, request):
    if isinstance(exception, HTTPException):
        return exception  # redirects and other deliberate HTTP answers pass through
    full = storage_full(exception)
    if full is not None:
        log.error("storage full on %s %s: %s", request.method, request.path, exception)
        return error_response(request, full)
    log.exception("unexpected error on %s %s", request.method, request.path)
    return error_response(request, Internal(_("an internal error occurred; it was logged")))
