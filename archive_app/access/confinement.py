"""Confinement: an account that must change its password (an admin's reset, expiry) or
enrol a second factor (its role requires one) reaches only /account until it has.

A view deriver, so no view can forget it: pages answer with a redirect to /account, the
API with 403 `password_change_required` or `second_factor_required`. Views open to anyone
(sign-in, sign-out, the OpenAPI document) and the account's own views stay open."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED

from ..errors import PasswordChangeRequired, SecondFactorRequired
from ..interfaces import IAccountRules, IClock
from .account import Confinement
from .permissions import Permission
from .policy import is_api_request

OPEN = {NO_PERMISSION_REQUIRED, Permission.OWN_ACCOUNT}
# Open to anyone only so that it can send a signed-out visitor to /login: a confined user
# is sent to /account from there as from every other page.
HOME_ROUTE = "home"


def refusal(reason: Confinement):
    if reason is Confinement.SECOND_FACTOR:
        return SecondFactorRequired("your role must use a second factor: enrol one on "
                                    "/account first", field=None)  # fmt: skip
    return PasswordChangeRequired("choose a new password first: POST /api/v1/account/password",
                                  field=None)  # fmt: skip


def confinement_of(request) -> Confinement | None:
    user = request.user
    if user is None:
        return None
    now = request.find_service(IClock).now()
    return request.find_service(IAccountRules).confinement(user, now)


def confined_view(view, info):
    if info.exception_only:
        return view
    permission = info.options.get("permission")
    if permission in OPEN and info.options.get("route_name") != HOME_ROUTE:
        return view

    def confined(context, request):
        reason = None if request.exception is not None else confinement_of(request)
        if reason is None:
            return view(context, request)
        if is_api_request(request):
            raise refusal(reason)
        return HTTPSeeOther(request.route_url("access.account"))

    return confined
