"""One's own account in the JSON API: `POST /api/v1/account/password` (contract §9)."""

from __future__ import annotations

from pyramid.view import view_config

from ..errors import Invalid
from ..interfaces import ICredentials
from ..payloads import json_object
from ..validation import validated
from .audit import log_after_request, log_in_transaction
from .models import AccessOutcome
from .permissions import Permission
from .policy import bearer_token
from .schemas import PasswordChangeBody
from .throttle import refuse_if_throttled


@view_config(route_name="api.account.password", request_method="POST", renderer="json",
             permission=Permission.OWN_ACCOUNT)  # fmt: skip
def change_password(request):
    """The caller's own new password. The caller's token goes on; every other token and web
    session of the account ends (whoever else holds one must sign in with the new one)."""
    body = validated(PasswordChangeBody(), json_object(request))
    user = request.user
    # A wrong current password counts as a failed sign-in: a stolen token is no way round
    # the sign-in throttle to guess the password.
    refuse_if_throttled(request, user.username)
    try:
        request.find_service(ICredentials).change_own_password(
            user, body["current"][:1024], body["new"][:1024], keep_token=bearer_token(request)
        )  # fmt: skip
    except Invalid as error:
        if error.field == "current":
            log_after_request(request, "login_failed", AccessOutcome.DENIED,
                              detail="password change (api): wrong current password")  # fmt: skip
        raise
    log_in_transaction(request, "password_change", detail="own password changed (api); other "
                       "tokens and sessions ended")  # fmt: skip
    return {"changed": True}
