"""Signing in and out: the login page, logout, and API tokens."""

from __future__ import annotations

import math
from datetime import timedelta
from urllib.parse import quote, urlsplit

from pyramid.csrf import get_csrf_token, new_csrf_token
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationString, TranslationStringFactory
from pyramid.security import NO_PERMISSION_REQUIRED, forget, remember
from pyramid.view import view_config

from ..errors import (
    BadRequest,
    DirectoryUnavailable,
    OtpInvalid,
    OtpRequired,
    TooManyAttempts,
    Unauthorized,
)
from ..interfaces import IAccessLog, IAccountService, IClock, ICredentials, IDossierClearance
from ..labels import VOCABULARIES
from ..payloads import json_object
from ..validation import validated
from .account import SecondFactorUse
from .api import anomalies_for, log_query
from .audit import log_after_request, log_in_transaction, log_now
from .confinement import confinement_of
from .details import detail_in_words
from .models import AccessOutcome
from .permissions import Permission
from .policy import bearer_token
from .review import PAGE_SIZE, count_entries, page_of_entries, shown_json
from .schemas import TokenBody
from .throttle import refuse_if_throttled

_ = TranslationStringFactory("archive")


def _credentials(request) -> tuple[str, str, str | None]:
    # 400, not 422: the contract's answer to a token request without credentials.
    body = validated(TokenBody(), json_object(request), refusal=BadRequest)
    return body["username"][:64], body["password"][:1024], (body["otp"] or None)


def check_token_otp(request, user, otp: str | None) -> None:
    """An account with a second factor gets a token only with its code (`otp`): 401
    otp_required without one, otp_invalid (a failed sign-in) for a wrong or used one."""
    credentials = request.find_service(ICredentials)
    if not credentials.has_second_factor(user):
        return
    if otp is None:
        raise OtpRequired("this account has a second factor: send its code as `otp`",
                          field="otp")  # fmt: skip
    used = credentials.verify_second_factor(user, otp[:64])
    if used is None:
        log_after_request(request, "login_failed", AccessOutcome.DENIED, username=user.username,
                          detail="api token: wrong second-factor code")  # fmt: skip
        raise OtpInvalid("wrong or used second-factor code", field="otp")
    if used is SecondFactorUse.RECOVERY:
        request.user = user
        log_in_transaction(request, "otp_recovery", detail="recovery code used (api token)")


@view_config(
    route_name="api.auth.token", request_method="POST", renderer="json",
    permission=NO_PERMISSION_REQUIRED,
)  # fmt: skip
def issue_token(request):
    username, password, otp = _credentials(request)
    refuse_if_throttled(request, username)
    accounts = request.find_service(IAccountService)
    user = accounts.authenticate(username, password)  # DirectoryUnavailable: 503
    if user is None:
        log_after_request(request, "login_failed", AccessOutcome.DENIED, username=username,
                          detail=f"api token: {accounts.refusal}")  # fmt: skip
        raise Unauthorized("wrong username or password", field=None)
    check_token_otp(request, user, otp)
    token, expires_at = accounts.issue_token(user)
    request.user = user
    log_in_transaction(request, "login", detail="api token issued")
    return {"token": token, "expires_at": expires_at.isoformat()}


@view_config(
    route_name="api.auth.token", request_method="DELETE", renderer="json",
    permission=NO_PERMISSION_REQUIRED,
)  # fmt: skip
def revoke_token(request):
    token = bearer_token(request)
    if request.user is None or token is None:
        raise Unauthorized("a valid bearer token is required", field=None)
    request.find_service(IAccountService).revoke_token(token)
    log_in_transaction(request, "logout", detail="api token revoked")
    return {"revoked": True}


@view_config(
    route_name="access.login", request_method="GET", renderer="archive_app:templates/login.pt",
    permission=NO_PERMISSION_REQUIRED,
)  # fmt: skip
def login_page(request):
    wanted = next_path(request.GET.get("next"))
    if request.user is not None:
        return HTTPSeeOther(wanted or request.route_url("home"))
    return {"csrf_token": get_csrf_token(request), "error": None, "username": "", "next": wanted}


def next_path(value) -> str | None:
    """Where to go after signing in: a path on this archive (one leading `/`), else None.
    `//host`, `/\\host` (browsers read a backslash as a slash), a scheme or control characters
    would lead elsewhere, or split the Location header."""
    if not isinstance(value, str) or not value.startswith("/") or len(value) > 2000:
        return None
    if value.startswith("//") or "\\" in value or not value.isprintable():
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    # As a Location header can carry it (Latin-1): other characters percent-encoded.
    return quote(value, safe="/?&=#%:;@!$'()*+,~-._[]")


def lockout_words(request, error: TooManyAttempts) -> TranslationString:
    """How long sign-in stays blocked: in minutes, and until when (in the archive's zone)."""
    clock = request.find_service(IClock)
    minutes = max(1, math.ceil(error.retry_after / 60))
    until = clock.now() + timedelta(seconds=error.retry_after)
    return _("Too many failed sign-ins: signing in is locked for ${minutes} more minutes, "
             "until ${time}.", mapping={"minutes": minutes,
                                        "time": f"{until.astimezone(clock.zone):%H:%M} "
                                                f"{clock.zone.key}"})  # fmt: skip


@view_config(
    route_name="access.login", request_method="POST", renderer="archive_app:templates/login.pt",
    permission=NO_PERMISSION_REQUIRED,
)  # fmt: skip
def login_submit(request):
    username = request.POST.get("username", "")[:64]
    password = request.POST.get("password", "")[:1024]
    wanted = next_path(request.POST.get("next"))
    try:
        refuse_if_throttled(request, username)
    except TooManyAttempts as error:
        request.response.status = error.status
        request.response.headers["Retry-After"] = str(error.retry_after)
        return {"csrf_token": get_csrf_token(request), "error": "throttled",
                "username": username, "next": wanted,
                "lockout": lockout_words(request, error)}  # fmt: skip
    accounts = request.find_service(IAccountService)
    try:
        user = accounts.authenticate(username, password)
    except DirectoryUnavailable:  # logged by the directory sign-in; nobody is let in
        request.response.status = 503
        return {"csrf_token": get_csrf_token(request), "error": "directory_unavailable",
                "username": username, "next": wanted}  # fmt: skip
    if user is None:
        log_after_request(request, "login_failed", AccessOutcome.DENIED, username=username,
                          detail=f"web: {accounts.refusal}")  # fmt: skip
        request.response.status = 400
        return {"csrf_token": get_csrf_token(request), "error": "wrong", "username": username,
                "next": wanted}  # fmt: skip
    if request.find_service(ICredentials).has_second_factor(user):
        return ask_for_code(request, user, wanted)
    return signed_in(request, user, wanted)


def signed_in(request, user, wanted: str | None, detail: str = "web") -> HTTPSeeOther:
    """The sign-in is complete: a fresh session, logged; on to `wanted`, or to /account for
    an account that must change its password or enrol a second factor first."""
    headers = remember(request, str(user.id))
    new_csrf_token(request)  # a fresh token with the fresh session
    request.user = user
    log_in_transaction(request, "login", detail=detail)
    if confinement_of(request) is not None:
        wanted = request.route_url("access.account")
    return HTTPSeeOther(wanted or request.route_url("home"), headers=headers)


PENDING_KEY = "pending_sign_in"


def ask_for_code(request, user, wanted: str | None) -> HTTPSeeOther:
    """The password was right and the account has a second factor: the session remembers
    who is half signed in, and when (login_code.py asks for the code)."""
    forget(request)  # an earlier session in this browser ends; nothing of it carries over
    now = request.find_service(IClock).now()
    request.session[PENDING_KEY] = {"user": user.id, "at": now.timestamp(), "next": wanted}
    new_csrf_token(request)
    return HTTPSeeOther(request.route_url("access.login.code"))


@view_config(
    route_name="access.logout", request_method="GET", renderer="archive_app:templates/logout.pt",
    permission=NO_PERMISSION_REQUIRED,
)  # fmt: skip
def logout_page(request):
    """Signing out changes state, so it is a POST; a bookmarked /logout shows its button."""
    if request.user is None:
        return HTTPSeeOther(request.route_url("access.login"))
    return {"csrf_token": get_csrf_token(request)}


@view_config(route_name="access.logout", request_method="POST", permission=NO_PERMISSION_REQUIRED)
def logout(request):
    """Ends the session on the server as well as in the browser (CSRF-checked like every
    page POST, so another site cannot sign a user out either)."""
    if request.user is not None:
        log_now(request, "logout", detail="web")
    headers = forget(request)
    return HTTPSeeOther(request.route_url("access.login"), headers=headers)


@view_config(route_name="access.log", renderer="archive_app:templates/access/log.pt",
             permission=Permission.REVIEW_ACCESS_LOG)  # fmt: skip
def review_page(request):
    """The filterable log: per complaint number or dossier, user, action, outcome and dates;
    details in words, downloads naming their file; flagged patterns."""
    access_log = request.find_service(IAccessLog)
    chosen, page = log_query(request)
    total = count_entries(request.dbsession, chosen)
    entries = [
        shown_json(access_log.as_json, row)
        for row in page_of_entries(request.dbsession, chosen, page)
    ]
    # Downloads name their file; a withheld entry names no document, so none is looked up.
    documents = request.find_service(IDossierClearance).documents(
        request.dbsession, {entry["document_id"] for entry in entries if entry["document_id"]}
    )
    translate = request.localizer.translate
    for entry in entries:
        entry["words"] = detail_in_words(translate, entry["detail"])
        entry["document"] = documents.get(entry["document_id"])
    chain = access_log.verify(request.dbsession)
    flags = anomalies_for(request)
    log_now(request, "review", detail=f"access log page {page} (web): {total} entries match")
    query = {key: value for key, value in request.GET.items() if key != "page" and value}
    return {
        "entries": entries, "total": total, "page": page, "pages": max(1, -(-total // PAGE_SIZE)),
        "filters": request.GET, "query": query, "chain": chain, "flags": flags,
        "actions": list(VOCABULARIES["log_action"]), "outcomes": list(AccessOutcome),
    }  # fmt: skip
