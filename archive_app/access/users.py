"""User management for admins: list, create, change role, clearance, full name or activity,
reset a password (JSON API)."""

from __future__ import annotations

from pyramid.view import view_config

from ..errors import NotFound
from ..interfaces import IAccountService, ICredentials
from ..payloads import json_object
from ..validation import validated
from .audit import log_in_transaction
from .permissions import Permission
from .schemas import PasswordResetBody, UserBody, UserChangeBody


def user_json(user) -> dict:
    return {"username": user.username, "full_name": user.full_name, "role": user.role,
            "clearance": user.clearance, "active": user.active,
            "created_at": user.created_at.isoformat(),
            "must_change_password": user.must_change_password,
            "second_factor": user.totp_secret is not None,
            "source": user.source}  # fmt: skip


@view_config(route_name="api.users", request_method="GET", renderer="json",
             permission=Permission.MANAGE_USERS)  # fmt: skip
def list_users(request):
    return {"results": [user_json(u) for u in request.find_service(IAccountService).list_users()]}


@view_config(route_name="api.users", request_method="POST", renderer="json",
             permission=Permission.MANAGE_USERS)  # fmt: skip
def create_user(request):
    body = validated(UserBody(), json_object(request))
    user = request.find_service(IAccountService).add_user(
        body["username"], body["role"], body["password"], body["clearance"],
        full_name=body["full_name"],
    )  # fmt: skip
    log_in_transaction(request, "user_add", detail=f"user {user.username} role {user.role} "
                       f"clearance {user.clearance}")  # fmt: skip
    request.response.status = 201
    return user_json(user)


@view_config(route_name="api.user", request_method="PATCH", renderer="json",
             permission=Permission.MANAGE_USERS)  # fmt: skip
def change_user(request):
    accounts = request.find_service(IAccountService)
    user = accounts.find_user(request.matchdict["username"][:64])
    if user is None:
        raise NotFound("no such user", field="username")
    body = validated(UserChangeBody(), json_object(request))
    changes = accounts.change_user(user, by=request.user, **body)
    if changes:
        log_in_transaction(request, "user_change",
                           detail=f"user {user.username}: {', '.join(changes)}")  # fmt: skip
    return user_json(user)


@view_config(route_name="api.user.password", request_method="POST", renderer="json",
             permission=Permission.MANAGE_USERS)  # fmt: skip
def reset_password(request):
    """A new password for a user who lost theirs: every token and session of theirs ends,
    and (unless `must_change` is false) they must choose their own at the next sign-in."""
    user = request.find_service(IAccountService).find_user(request.matchdict["username"][:64])
    if user is None:
        raise NotFound("no such user", field="username")
    body = validated(PasswordResetBody(), json_object(request))
    request.find_service(ICredentials).reset_password(user, body["password"],
                                                      must_change=body["must_change"])  # fmt: skip
    log_in_transaction(request, "password_reset", detail=f"user {user.username}: password "
                       f"reset{', change required' if body['must_change'] else ''}")  # fmt: skip
    return user_json(user)


@view_config(route_name="api.user.second_factor", request_method="DELETE", renderer="json",
             permission=Permission.MANAGE_USERS)  # fmt: skip
def remove_second_factor(request):
    """For a user who lost their device and their recovery codes: the second factor goes
    (their role may require them to set up a new one before anything else)."""
    user = request.find_service(IAccountService).find_user(request.matchdict["username"][:64])
    if user is None:
        raise NotFound("no such user", field="username")
    request.find_service(ICredentials).remove_second_factor(user)
    log_in_transaction(
        request, "otp_remove", detail=f"user {user.username}: second factor removed by an admin"
    )
    return user_json(user)
