"""The access review's page (`/users/review`) and API (`/api/v1/access-reviews`): the review
as of now, signing it off, past sign-offs; and, for admins, ending a user's web session."""

from __future__ import annotations

from pyramid.csrf import get_csrf_token
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.view import view_config

from ..errors import Forbidden, NotFound
from ..interfaces import IAccessLog, IAccountService
from ..pages import chosen_step, shows_refusals
from ..payloads import json_object
from ..validation import validated
from .access_review import dormant_days, end_session, fingerprint, past_reviews, review_body
from .access_review import sign_off as keep_sign_off
from .audit import log_in_transaction, log_now
from .details import detail_in_words
from .permissions import Permission
from .schemas import AccessReviewSignOff
from .signatures import (
    SignatureMeaning,
    SignatureRequest,
    SignedKind,
    checked_signature,
    signature_json,
    signatures_of,
)

_ = TranslationStringFactory("archive")


def current_review(request) -> dict:
    return review_body(request.find_service(IAccountService), request.find_service(IAccessLog),
                       dormant_days(request.registry.settings))  # fmt: skip


def sign_off(request, seen: str, given: SignatureRequest | None):
    """Sign the review off as the signed-in reviewer. The sign-off is a signature by its
    nature: it is refused without one even where other signatures are optional."""
    checked_signature(request, given, SignatureMeaning.ACCESS_REVIEW, "access review",
                      required=True)  # fmt: skip
    review = keep_sign_off(request.find_service(IAccountService),
                           request.find_service(IAccessLog),
                           dormant_days(request.registry.settings), request.user, seen)  # fmt: skip
    log_in_transaction(request, "access_review", detail=f"access review {review.id} signed off")
    return review


def page_values(request, *, message=None, error=None) -> dict:
    body = current_review(request)
    past = past_reviews(request.dbsession)
    return {
        "review": body,
        "expected": fingerprint(body),
        "past": past,
        "csrf_token": get_csrf_token(request),
        "message": message,
        "error": error,
        "may_revoke": bool(request.has_permission(Permission.MANAGE_USERS)),
        "meanings": list(SignatureMeaning),
        "meaning": SignatureMeaning.ACCESS_REVIEW,
        "detail_text": lambda detail: detail_in_words(request.localizer.translate, detail),
    }


@view_config(route_name="access.review", request_method="GET",
             renderer="archive_app:templates/access/review.pt",
             permission=Permission.REVIEW_ACCESS)  # fmt: skip
def review_page(request):
    log_now(request, "access_review", detail="access review page")
    return page_values(request)


@view_config(route_name="access.review", request_method="POST",
             renderer="archive_app:templates/access/review.pt",
             permission=Permission.REVIEW_ACCESS)  # fmt: skip
@shows_refusals(lambda request, error: page_values(request, error=error))
def review_action(request):
    chosen_step(request, {"sign_off": _sign_off, "revoke": _revoke})(request)
    return HTTPSeeOther(request.route_url("access.review"))


def _sign_off(request) -> None:
    sign_off(request, request.POST.get("expected", "")[:64],
             SignatureRequest.from_form(request.POST))  # fmt: skip


def _revoke(request) -> None:
    """An admin ends one web session of a user (a lost laptop, a departure)."""
    if not request.has_permission(Permission.MANAGE_USERS):
        raise Forbidden(_("Only administrators end sessions."), field="session_id")
    try:
        session_id = int(request.POST.get("session_id", ""))
    except ValueError:
        raise NotFound("no such session", field="session_id") from None
    username = end_session(request.dbsession, session_id)
    log_in_transaction(request, "session_revoke",
                       detail=f"user {username}: web session {session_id} ended (web)")  # fmt: skip


@view_config(route_name="api.access_reviews", request_method="GET", renderer="json",
             permission=Permission.REVIEW_ACCESS)  # fmt: skip
def review_as_json(request):
    """The review as of now, with the `fingerprint` a sign-off posts back, and the past
    sign-offs with their signatures."""
    log_now(request, "access_review", detail="access review (api)")
    body = current_review(request)
    past = [{"id": row.id, "reviewed_at": row.reviewed_at.isoformat(), "reviewer": row.reviewer,
             "signatures": [signature_json(s) for s in signed]}
            for row, signed in past_reviews(request.dbsession)]  # fmt: skip
    return body | {"fingerprint": fingerprint(body), "past_reviews": past}


@view_config(route_name="api.access_reviews", request_method="POST", renderer="json",
             permission=Permission.REVIEW_ACCESS)  # fmt: skip
def sign_off_from_api(request):
    body = validated(AccessReviewSignOff(), json_object(request))
    review = sign_off(request, body["expected"], SignatureRequest.from_body(body["signature"]))
    signed = signatures_of(request.dbsession, SignedKind.ACCESS_REVIEW,
                           [review.id]).get(review.id, [])  # fmt: skip
    request.response.status = 201
    return {
        "id": review.id,
        "reviewed_at": review.reviewed_at.isoformat(),
        "reviewer": review.reviewer,
        "signatures": [signature_json(s) for s in signed],
    }
