"""The security policy: identity from a bearer token (API) or a session cookie (pages).

The two never mix. Under `/api/v1` only an `Authorization: Bearer` header counts, so a cookie
the browser sends by itself (from a page on any origin) never speaks for an API call, and the
API needs no CSRF token. Everywhere else only the session cookie counts, and every unsafe
request must carry the session's CSRF token.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from pyramid.authorization import ACLHelper, Authenticated, Everyone

from ..interfaces import IClock, IDatabase, IDirectorySignIn
from ..settings import as_int
from .principals import principals_for
from .services import AccountService

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
# A session's last use is written at most this often: once a request would be a write for
# every page view, and idle timeouts are counted in minutes anyway.
TOUCH_EVERY = timedelta(minutes=1)


def is_api_request(request) -> bool:
    path = request.path_info
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def bearer_token(request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def accounts_for(request, session) -> AccountService:
    """The account service over `session`, with the clock and the limits of the settings."""
    settings = request.registry.settings
    return AccountService(
        session,
        request.find_service(IClock),
        timedelta(hours=as_int(settings, "archive.token_ttl_hours", 1)),
        session_idle=timedelta(minutes=as_int(settings, "archive.session_idle_minutes", 1)),
        session_lifetime=timedelta(hours=as_int(settings, "archive.session_max_hours", 1)),
        directory=request.find_service(IDirectorySignIn),
        later=lambda work: request.add_finished_callback(lambda _request: work()),
    )


def load_user(request):
    """The signed-in user, or None: by bearer token under `/api/v1`, by session elsewhere.

    Looked up in a short read session of its own, so that the request's own session starts
    only when the view needs it (on SQLite a writing session takes the write lock at BEGIN).
    """
    if is_api_request(request):
        token = bearer_token(request)
        if token is None:
            return None
        with request.find_service(IDatabase).read() as session:
            return accounts_for(request, session).user_for_token(token)
    sid = request.session.get("sid")
    if not isinstance(sid, str):
        return None
    with request.find_service(IDatabase).read() as session:
        accounts = accounts_for(request, session)
        row = accounts.live_session(sid)
        if row is None:
            return None
        if accounts.clock.now() - row.last_seen_at >= TOUCH_EVERY:
            _touch_when_finished(request, sid)
        return row.user


def _touch_when_finished(request, sid: str) -> None:
    # After the request's own transaction, on a connection of its own: the request may hold
    # the write lock already (a route factory reads through a writing session on POST).
    def touch(request) -> None:
        try:
            with request.find_service(IDatabase).write() as session, session.begin():
                accounts_for(request, session).touch_session(sid)
        except Exception:  # the answer is given; an idle timeout counted early is the cost
            log.exception("the web session's last use could not be recorded")

    request.add_finished_callback(touch)


def uses_cookie_auth(request) -> bool:
    """CSRF matters where the browser sends credentials by itself (cookies): every page.
    The API ignores cookies altogether, so nothing there can be forged that way."""
    return not is_api_request(request)


class SecurityPolicy:
    def __init__(self):
        self.helper = ACLHelper()

    def identity(self, request):
        return request.user

    def authenticated_userid(self, request):
        user = request.user
        return str(user.id) if user is not None else None

    def effective_principals(self, request) -> list[str]:
        principals = [Everyone]
        user = request.user
        if user is not None:
            principals += [Authenticated, *principals_for(user)]
        return principals

    def permits(self, request, context, permission):
        return self.helper.permits(context, self.effective_principals(request), permission)

    def remember(self, request, userid, **kw):
        """A new session, recorded on the server, at every sign-in: no fixation."""
        self.forget(request)
        request.session["sid"] = accounts_for(request, request.dbsession).open_session(int(userid))
        return []

    def forget(self, request, **kw):
        """Ends the session on the server too: its cookie, replayed, signs nobody in."""
        sid = request.session.get("sid")
        if isinstance(sid, str):
            accounts_for(request, request.dbsession).end_session(sid)
        request.session.invalidate()
        return []
