"""The second step of signing in (`/login/code`): after the right password, an account with
a second factor gives a code of its authenticator app or one of its recovery codes."""

from __future__ import annotations

from pyramid.csrf import get_csrf_token
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from ..errors import TooManyAttempts
from ..interfaces import IClock, ICredentials
from .account import SecondFactorUse
from .audit import log_after_request, log_in_transaction
from .models import AccessOutcome, User
from .throttle import refuse_if_throttled
from .views import PENDING_KEY, lockout_words, signed_in

# The code is asked for this long after the password was given; then the password again.
PENDING_SECONDS = 300
TEMPLATE = "archive_app:templates/access/login_code.pt"


def pending_sign_in(request) -> dict | None:
    """Who gave the right password in this browser, still waiting for their code."""
    value = request.session.get(PENDING_KEY)
    if not isinstance(value, dict):
        return None
    user_id, at = value.get("user"), value.get("at")
    if not isinstance(user_id, int) or not isinstance(at, int | float):
        return None
    age = request.find_service(IClock).now().timestamp() - at
    return value if 0 <= age <= PENDING_SECONDS else None


def _page(request, error=None, lockout=None) -> dict:
    return {"csrf_token": get_csrf_token(request), "error": error, "lockout": lockout}


@view_config(route_name="access.login.code", request_method="GET", renderer=TEMPLATE,
             permission=NO_PERMISSION_REQUIRED)  # fmt: skip
def code_page(request):
    if pending_sign_in(request) is None:
        return HTTPSeeOther(request.route_url("access.login"))
    return _page(request)


@view_config(route_name="access.login.code", request_method="POST", renderer=TEMPLATE,
             permission=NO_PERMISSION_REQUIRED)  # fmt: skip
def code_submit(request):
    pending = pending_sign_in(request)
    user = request.dbsession.get(User, pending["user"]) if pending is not None else None
    if user is None or not user.active:
        return HTTPSeeOther(request.route_url("access.login"))
    try:
        refuse_if_throttled(request, user.username)
    except TooManyAttempts as error:
        request.response.status = error.status
        request.response.headers["Retry-After"] = str(error.retry_after)
        return _page(request, "throttled", lockout_words(request, error))
    code = request.POST.get("code", "")[:64]
    used = request.find_service(ICredentials).verify_second_factor(user, code)
    if used is None:
        # A failed sign-in like a wrong password: it counts towards the sign-in throttle.
        log_after_request(request, "login_failed", AccessOutcome.DENIED, username=user.username,
                          detail="web: wrong second-factor code")  # fmt: skip
        request.response.status = 400
        return _page(request, "wrong")
    request.user = user
    if used is SecondFactorUse.RECOVERY:
        log_in_transaction(request, "otp_recovery", detail="recovery code used (web sign-in)")
    return signed_in(request, user, pending.get("next"), detail="web, second factor")
