"""One's own account (`/account`): change the password (current, then the new one twice),
set up a second factor (QR code and the secret in text, confirmed by a first code), see the
recovery codes once, renew them or turn the second factor off. An account confined by
confinement.py (a reset or expired password, a second factor its role needs) lands here."""

from __future__ import annotations

from pyramid.csrf import get_csrf_token
from pyramid.i18n import TranslationString, TranslationStringFactory
from pyramid.view import view_config

from ..errors import ArchiveError, Invalid
from ..interfaces import IAccountRules, IClock, ICredentials
from ..labels import error_message
from ..pages import chosen_step, shows_refusals
from .account import Confinement, CredentialService
from .audit import log_after_request, log_in_transaction
from .models import AccessOutcome, User
from .password_policy import MIN_LENGTH, PasswordRefused
from .permissions import Permission
from .second_factor import qr_svg
from .throttle import refuse_if_throttled

_ = TranslationStringFactory("archive")
TEMPLATE = "archive_app:templates/access/account.pt"

PASSWORD_WORDS: dict[str, TranslationString] = {
    "short": _("At least ${count} characters.", mapping={"count": MIN_LENGTH}),
    "name": _("The password must not be the user name."),
    "common": _("This password is among the most common ones; choose another."),
    "same": _("The new password must differ from the current one."),
}
REASONS: dict[str, TranslationString] = {
    Confinement.PASSWORD_CHANGE: _(
        "An administrator has reset your password: choose your own before going on."
    ),
    Confinement.PASSWORD_EXPIRED: _("Your password has expired: choose a new one to go on."),
    Confinement.SECOND_FACTOR: _(
        "Your role must use a second factor: set it up below before going on."
    ),
}
FIELD_WORDS: dict[str, TranslationString] = {
    "current": _("The current password is wrong."),
    "new2": _("The two new passwords differ."),
    "code": _("The code does not match. Check the time on your device and try again."),
}


def password_words(error: ArchiveError) -> TranslationString | None:
    """The page's sentence for a refused new password (also the accounts page's)."""
    if isinstance(error, PasswordRefused):
        return PASSWORD_WORDS.get(error.reason)
    return None


def refusal_words(error: ArchiveError) -> TranslationString:
    return password_words(error) or FIELD_WORDS.get(error.field or "") or error_message(error)


def page_values(request, *, message=None, error=None, secret=None, codes=None) -> dict:
    credentials: CredentialService = request.find_service(ICredentials)
    rules = request.find_service(IAccountRules)
    user = request.dbsession.get(User, request.user.id)
    reason = rules.confinement(user, request.find_service(IClock).now())
    pending = None if user.totp_secret is not None else (secret or credentials.pending_secret(user))
    enrolment = None
    if pending is not None:
        enrolment = {"secret": pending, "qr": qr_svg(credentials.enrolment_uri(user, pending))}
    return {
        "account": user, "csrf_token": get_csrf_token(request), "message": message,
        "reason": REASONS.get(reason) if reason is not None else None,
        "error_field": error.field if error is not None else None,
        "error_words": refusal_words(error) if error is not None else None,
        "min_password": MIN_LENGTH, "expires_at": rules.password_expires_at(user),
        "enrolled": user.totp_secret is not None, "enrolment": enrolment,
        "required": rules.needs_second_factor(user), "codes": codes,
        "codes_left": credentials.recovery_codes_left(user) if user.totp_secret else 0,
    }  # fmt: skip


@view_config(route_name="access.account", request_method="GET", renderer=TEMPLATE,
             permission=Permission.OWN_ACCOUNT)  # fmt: skip
def account_page(request):
    return page_values(request)


@view_config(route_name="access.account", request_method="POST", renderer=TEMPLATE,
             permission=Permission.OWN_ACCOUNT)  # fmt: skip
@shows_refusals(lambda request, error: page_values(request, error=error))
def account_action(request):
    step = chosen_step(request, {"password": _change_password, "enrol": _begin_enrolment,
                                 "confirm": _confirm_enrolment, "renew_codes": _renew_codes,
                                 "remove_factor": _remove_factor})  # fmt: skip
    return step(request, request.find_service(ICredentials))


def _change_password(request, credentials: CredentialService) -> dict:
    post = request.POST
    refuse_if_throttled(request, request.user.username)
    current, new = post.get("current", "")[:1024], post.get("new", "")[:1024]
    if new != post.get("new2", "")[:1024]:
        raise Invalid("the two new passwords differ", field="new2")
    try:
        credentials.change_own_password(request.user, current, new,
                                        keep_session=request.session.get("sid"))  # fmt: skip
    except Invalid as error:
        if error.field == "current":
            log_after_request(request, "login_failed", AccessOutcome.DENIED,
                              detail="password change (web): wrong current password")  # fmt: skip
        raise
    log_in_transaction(request, "password_change", detail="own password changed (web); other "
                       "sessions and tokens ended")  # fmt: skip
    return page_values(
        request,
        message=_("Your password is changed. Every other session and token of yours has ended."),
    )


def _begin_enrolment(request, credentials: CredentialService) -> dict:
    secret = credentials.begin_enrolment(request.user)
    return page_values(
        request,
        secret=secret,
        message=_("Scan the QR code with your authenticator app, then enter the code it shows."),
    )


def _confirm_enrolment(request, credentials: CredentialService) -> dict:
    try:
        codes = credentials.confirm_enrolment(request.user, request.POST.get("code", "")[:64])
    except Invalid:
        log_after_request(request, "otp_failed", AccessOutcome.REFUSED,
                          detail="second-factor enrolment: wrong first code")  # fmt: skip
        raise
    log_in_transaction(request, "otp_enrol", detail="second factor enrolled (TOTP); "
                       f"{len(codes)} recovery codes issued")  # fmt: skip
    return page_values(
        request,
        codes=codes,
        message=_(
            "The second factor is set up. Keep these recovery codes somewhere safe: they are "
            "shown only now, and each works once."
        ),
    )


def _checked_code(request, credentials: CredentialService, what: str) -> None:
    """Renewing codes or turning the factor off needs a current code (or recovery code):
    a session left open is not enough. A wrong one is a failed sign-in (throttled)."""
    refuse_if_throttled(request, request.user.username)
    used = credentials.verify_second_factor(request.user, request.POST.get("code", "")[:64])
    if used is None:
        log_after_request(request, "login_failed", AccessOutcome.DENIED,
                          detail=f"{what} (web): wrong second-factor code")  # fmt: skip
        raise Invalid("wrong or used code", field="code")


def _renew_codes(request, credentials: CredentialService) -> dict:
    _checked_code(request, credentials, "new recovery codes")
    codes = credentials.new_recovery_codes(request.user)
    log_in_transaction(request, "otp_recovery_codes", detail=f"{len(codes)} new recovery "
                       "codes; the earlier ones no longer work")  # fmt: skip
    return page_values(
        request,
        codes=codes,
        message=_("New recovery codes: the earlier ones no longer work. They are shown only now."),
    )


def _remove_factor(request, credentials: CredentialService) -> dict:
    _checked_code(request, credentials, "second factor removal")
    credentials.remove_second_factor(request.user)
    log_in_transaction(request, "otp_remove", detail="second factor removed by its owner")
    return page_values(request, message=_("The second factor is turned off."))
