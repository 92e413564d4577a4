"""The security policy: identity from a bearer token (API) or a session cookie (web)."""

from __future__ import annotations

from datetime import timedelta

from pyramid.authorization import ACLHelper, Authenticated, Everyone

from .principals import principals_for
from .services import AccountService


def bearer_token(request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def load_user(request):
    """The signed-in user, or None; a request with an Authorization header uses only that.

    Looked up in a short read session of its own, so that the request's own session starts
    only when the view needs it (on SQLite a writing session takes the write lock at BEGIN).
    """
    token = bearer_token(request) if "Authorization" in request.headers else None
    user_id = request.session.get("user_id") if "Authorization" not in request.headers else None
    if token is None and not isinstance(user_id, int):
        return None
    with request.registry["dbsession_read_factory"]() as session:
        accounts = AccountService(session, request.registry["archive.clock"], timedelta(0))
        return accounts.user_for_token(token) if token else accounts.get_user(user_id)


def uses_cookie_auth(request) -> bool:
    """CSRF matters only where the browser sends credentials by itself (cookies)."""
    return "Authorization" not in request.headers


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
        request.session.invalidate()  # a new session at every sign-in: no fixation
        request.session["user_id"] = int(userid)
        return []

    def forget(self, request, **kw):
        request.session.invalidate()
        return []
