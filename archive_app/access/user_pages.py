"""The admins' accounts page (`/users`): the list, creating a user, changing a role or a
clearance, deactivating and reactivating. Every change goes through the account service, as
the API's (users.py) do, with the same rules; a refusal is shown beside its field."""

from __future__ import annotations

from functools import partial

from pyramid.csrf import get_csrf_token
from pyramid.i18n import TranslationString, TranslationStringFactory
from pyramid.view import view_config
from sqlalchemy import func, select

from ..errors import ArchiveError, NotFound
from ..interfaces import IAccountService, IClock, ICredentials
from ..labels import NO, YES, error_message
from ..pages import chosen_step, shows_refusals
from .account_pages import password_words
from .audit import log_in_transaction, log_now
from .models import AccessLogEntry, AccessOutcome
from .permissions import Level, Permission, Role
from .services import MIN_PASSWORD_LENGTH
from .throttle import locked_until

_ = TranslationStringFactory("archive")

SHORTEST = {"count": MIN_PASSWORD_LENGTH}
# What the page says for the service's refusals, by (error code, field): the service's own
# details are the API's English.
REFUSALS: dict[tuple[str, str], TranslationString] = {
    ("invalid", "username"): _(
        "2 to 64 letters, digits, dots, underscores or hyphens, starting with a letter or digit."
    ),
    ("conflict", "username"): _(
        "This name is taken (names are the same whatever their letter case)."
    ),
    ("invalid", "role"): _("Choose a role."),
    ("invalid", "clearance"): _("Choose a clearance."),
    ("invalid", "password"): _("At least ${count} characters.", mapping=SHORTEST),
    ("forbidden", "role"): _("You cannot change your own role; another administrator can."),
    ("forbidden", "active"): _("You cannot deactivate yourself; another administrator can."),
    ("conflict", "role"): _(
        "This is the last active administrator: make another administrator first."
    ),
    ("conflict", "active"): _(
        "This is the last active administrator: make another administrator first."
    ),
    ("not_found", "username"): _("No such user."),
    ("invalid", "full_name"): _("A name on one line, at most 128 characters."),
}


def refusal_words(error: ArchiveError) -> TranslationString:
    """The sentence for a refusal: the page's own, else the code's (labels.error_message)."""
    return password_words(error) or REFUSALS.get((error.code, error.field or ""),
                                                 error_message(error))  # fmt: skip


def last_sign_ins(session) -> dict[str, object]:
    """{user name in lower case: the time of the last successful sign-in}."""
    name = func.lower(AccessLogEntry.username)
    query = (select(name, func.max(AccessLogEntry.at))
             .where(AccessLogEntry.action == "login", AccessLogEntry.outcome == AccessOutcome.OK)
             .group_by(name))  # fmt: skip
    return dict(session.execute(query).all())


CREATE_FIELDS = ("username", "full_name", "role", "clearance", "password")
ROW_FIELDS = {"role": "change", "clearance": "change", "full_name": "change",
              "active": "activity", "password": "reset"}  # fmt: skip


def error_place(error: ArchiveError | None, row: str | None) -> tuple[str, str] | None:
    """Where the page shows a refusal: ("create", field) beside the new account's field,
    (user name in lower case, "change" or "activity") in that user's row, ("page", "") atop."""
    if error is None:
        return None
    if row is None and error.field in CREATE_FIELDS:
        return ("create", error.field)
    if row is not None and error.field in ROW_FIELDS:
        return (row.lower(), ROW_FIELDS[error.field])
    return ("page", "")


def page_values(request, *, message=None, error=None, form=None, row=None) -> dict:
    """The page: every account with its sign-in facts; `error` where error_place puts it."""
    session = request.dbsession
    users = request.find_service(IAccountService).list_users()
    now = request.find_service(IClock).now()
    signed_in = last_sign_ins(session)
    locked = locked_until(session, request.registry.settings, now)
    accounts = [{"user": user, "full_name": getattr(user, "full_name", None),
                 "last_sign_in": signed_in.get(user.username.lower()),
                 "locked_until": locked.get(user.username.lower()),
                 "is_me": user.id == request.user.id} for user in users]  # fmt: skip
    return {
        "accounts": accounts, "roles": list(Role), "levels": list(Level),
        "csrf_token": get_csrf_token(request), "message": message,
        "error_words": refusal_words(error) if error is not None else None,
        "error_at": error_place(error, row), "form": form or {}, "yes": YES, "no": NO,
        "min_password": MIN_PASSWORD_LENGTH,
    }  # fmt: skip


@view_config(route_name="access.users", request_method="GET",
             renderer="archive_app:templates/access/users.pt",
             permission=Permission.MANAGE_USERS)  # fmt: skip
def users_page(request):
    log_now(request, "users", detail="accounts page (web)")
    return page_values(request)


def shown_again(request, error: ArchiveError) -> dict:
    """The page with a refusal where error_place puts it; the new account's form keeps what
    was typed in it."""
    if request.POST.get("action") == "create":
        form = {name: request.POST.get(name, "")
                for name in ("username", "full_name", "role", "clearance")}  # fmt: skip
        return page_values(request, error=error, form=form)
    return page_values(request, error=error, row=request.POST.get("username", "")[:64])


@view_config(route_name="access.users", request_method="POST",
             renderer="archive_app:templates/access/users.pt",
             permission=Permission.MANAGE_USERS)  # fmt: skip
@shows_refusals(shown_again)
def users_action(request):
    step = chosen_step(request, {
        "create": _create, "reset": _reset, "remove_factor": _remove_factor,
        **{action: partial(_change, action=action)
           for action in ("change", "deactivate", "reactivate")},
    })  # fmt: skip
    return page_values(request, message=step(request))


def _create(request) -> TranslationString:
    post = request.POST
    user = request.find_service(IAccountService).add_user(
        post.get("username", "")[:64], post.get("role", ""), post.get("password", "")[:1024],
        post.get("clearance") or Level.INTERNAL, full_name=post.get("full_name", "")[:200],
    )  # fmt: skip
    log_in_transaction(request, "user_add", detail=f"user {user.username} role {user.role} "
                       f"clearance {user.clearance} (web)")  # fmt: skip
    return _("Account ${name} created.", mapping={"name": user.username})


def _change(request, action: str) -> TranslationString:
    accounts = request.find_service(IAccountService)
    user = accounts.find_user(request.POST.get("username", "")[:64])
    if user is None:
        raise NotFound("no such user", field="username")
    if action == "change":
        wanted = {"role": request.POST.get("role") or None,
                  "clearance": request.POST.get("clearance") or None,
                  "full_name": request.POST.get("full_name")}  # fmt: skip
        if wanted["full_name"] is not None:
            wanted["full_name"] = wanted["full_name"][:200]
    else:
        wanted = {"active": action == "reactivate"}
    changes = accounts.change_user(user, by=request.user, **wanted)
    if not changes:
        return _("Nothing changed for ${name}.", mapping={"name": user.username})
    log_in_transaction(request, "user_change",
                       detail=f"user {user.username}: {', '.join(changes)}")  # fmt: skip
    if action == "deactivate":
        return _("${name} is deactivated: every session and token of theirs has ended.",
                 mapping={"name": user.username})  # fmt: skip
    if action == "reactivate":
        return _("${name} is active again.", mapping={"name": user.username})
    return _("Changes to ${name} saved.", mapping={"name": user.username})


def _reset(request) -> TranslationString:
    """A new password typed by the admin for a user who lost theirs: the user must choose
    their own at the next sign-in; every session and token of theirs ends now."""
    user = request.find_service(IAccountService).find_user(request.POST.get("username", "")[:64])
    if user is None:
        raise NotFound("no such user", field="username")
    request.find_service(ICredentials).reset_password(user, request.POST.get("password", "")[:1024])
    log_in_transaction(
        request,
        "password_reset",
        detail=f"user {user.username}: password reset, change required (web)",
    )
    return _("The password of ${name} is reset: they must choose their own at the next sign-in.",
             mapping={"name": user.username})  # fmt: skip


def _remove_factor(request) -> TranslationString:
    user = request.find_service(IAccountService).find_user(request.POST.get("username", "")[:64])
    if user is None:
        raise NotFound("no such user", field="username")
    request.find_service(ICredentials).remove_second_factor(user)
    log_in_transaction(
        request,
        "otp_remove",
        detail=f"user {user.username}: second factor removed by an admin (web)",
    )
    return _("The second factor of ${name} is removed.", mapping={"name": user.username})
