"""The reviews' JSON API: issue one, list them, one as JSON, PDF or workbook (contract §8)."""

from __future__ import annotations

from pyramid.response import Response
from pyramid.view import view_config

from ..access.audit import log_after_request, log_in_transaction, log_now
from ..access.models import AccessOutcome
from ..access.permissions import Permission
from ..access.signatures import (
    SignatureMeaning,
    SignatureRequest,
    SignedKind,
    checked_signature,
    keep_signature,
    signature_json,
)
from ..attachments import attachment
from ..errors import NotFound
from ..interfaces import IClock, IKeyring
from ..payloads import json_object
from ..records.clearance import identity_of
from ..validation import validated
from .review_approval import approval_content, approval_signatures, approve, check_approvable
from .review_periods import Period
from .review_schemas import ReviewApprovalBody, ReviewBody
from .review_service import find_review, issue_review, list_reviews, review_json
from .review_timeliness import reply_judge
from .reviews import review_settings

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def issue(request, period_text: str) -> dict:
    """Issue the review of `period_text` as the signed-in user (their clearance is its
    scope); logged with the review's own transaction."""
    period = Period.parse(period_text)
    clock = request.find_service(IClock)
    review = issue_review(
        request.dbsession, identity_of(request.user), period, now=clock.now(),
        today=clock.today(), signing_key=request.find_service(IKeyring).signing_key(),
        settings=review_settings(request.registry.settings),
        met=reply_judge(request.registry, period.start),
    )  # fmt: skip
    log_in_transaction(request, "report_issue",
                       detail=f"review {review['review_id']} of {period}")  # fmt: skip
    return review


def summary(row) -> dict:
    return {"review_id": row.id, "period": row.period, "from": row.period_from.isoformat(),
            "to": row.period_to.isoformat(), "issued_at": row.issued_at.isoformat(),
            "author": row.author, "scope": row.scope}  # fmt: skip


@view_config(route_name="api.reports.reviews", request_method="POST", renderer="json",
             permission=Permission.CREATE_REVIEWS)  # fmt: skip
def create_review(request):
    body = validated(ReviewBody(), json_object(request))
    review = issue(request, body["period"])
    request.response.status = 201
    return review


@view_config(route_name="api.reports.reviews", request_method="GET", renderer="json",
             permission=Permission.READ_REVIEWS)  # fmt: skip
def reviews_index(request):
    rows = list_reviews(request.dbsession, identity_of(request.user))
    return {"total": len(rows), "results": [summary(row) for row in rows]}


def opened(request, form: str):
    """The review named by the route, logged as opened in `form` (404 above the caller's
    clearance: the existence of a review is not revealed either)."""
    review_id = request.matchdict["review_id"][:32]
    try:
        row = find_review(request.dbsession, identity_of(request.user), review_id)
    except NotFound:
        # Unknown or above the caller's clearance, alike: the attempt is kept all the same.
        log_now(request, "report_view", AccessOutcome.REFUSED, detail=f"review {review_id}")
        raise
    log_now(request, "report_view" if form in ("json", "page") else "export",
            detail=f"review {row.id} ({form})")  # fmt: skip
    return row


@view_config(route_name="api.reports.review", request_method="GET",
             permission=Permission.READ_REVIEWS)  # fmt: skip
@view_config(route_name="reports.review.json", request_method="GET",
             permission=Permission.READ_REVIEWS)  # fmt: skip
def show_review(request):
    row = opened(request, "json")
    return Response(body=row.body.encode("utf-8"), content_type="application/json",
                    charset="utf-8")  # fmt: skip


@view_config(route_name="api.reports.review.pdf", request_method="GET",
             permission=Permission.READ_REVIEWS)  # fmt: skip
@view_config(route_name="reports.review.pdf", request_method="GET",
             permission=Permission.READ_REVIEWS)  # fmt: skip
def review_pdf(request):
    from .review_pdf import render_review_pdf  # ReportLab and matplotlib: only for a PDF

    row = opened(request, "pdf")
    pdf = render_review_pdf(review_json(row), request.find_service(IClock).zone,
                            approval_signatures(request.dbsession, row))  # fmt: skip
    return attachment(f"review-{row.period}-{row.id}.pdf", "application/pdf", body=pdf)


@view_config(route_name="api.reports.review.xlsx", request_method="GET",
             permission=Permission.READ_REVIEWS)  # fmt: skip
@view_config(route_name="reports.review.xlsx", request_method="GET",
             permission=Permission.READ_REVIEWS)  # fmt: skip
def review_xlsx(request):
    from .review_workbook import review_workbook  # openpyxl: only for a workbook

    row = opened(request, "xlsx")
    return attachment(f"review-{row.period}-{row.id}.xlsx", XLSX,
                      body=review_workbook(review_json(row)))  # fmt: skip


def approve_review(request, row, given: SignatureRequest | None) -> dict:
    """Approve the review `row` as the signed-in archivist: refused before the signature is
    checked when they are its author or it is approved already; the signature (if any) is
    kept over the review as issued."""
    check_approvable(row, request.user.username)
    signed = checked_signature(request, given, SignatureMeaning.APPROVE_REVIEW,
                               f"review {row.id}")  # fmt: skip
    approve(row, request.user.username, request.find_service(IClock).now())
    log_in_transaction(request, "review_approve", detail=f"review {row.id} of {row.period}")
    signature = keep_signature(request, signed, SignatureMeaning.APPROVE_REVIEW,
                               SignedKind.REVIEW, row.id, approval_content(row))  # fmt: skip
    return approval_json(request, row) | (
        {"signature": signature_json(signature)} if signature else {}
    )


def approval_json(request, row) -> dict:
    return {"review_id": row.id, "approved_by": row.approved_by,
            "approved_at": row.approved_at.isoformat() if row.approved_at else None,
            "signatures": [signature_json(signature, matches) for signature, matches
                           in approval_signatures(request.dbsession, row)]}  # fmt: skip


@view_config(route_name="api.reports.review.approval", request_method="POST", renderer="json",
             permission=Permission.CREATE_REVIEWS)  # fmt: skip
def approve_from_api(request):
    body = validated(ReviewApprovalBody(), json_object(request, empty_ok=True))
    return approve_review(request, review_to_approve(request),
                          SignatureRequest.from_body(body["signature"]))  # fmt: skip


def review_to_approve(request):
    """The review named by the route, for a POST: its session holds SQLite's write lock, so
    a refusal is logged once the request has ended, not on a connection of its own now."""
    review_id = request.matchdict["review_id"][:32]
    try:
        return find_review(request.dbsession, identity_of(request.user), review_id)
    except NotFound:
        log_after_request(request, "review_approve", AccessOutcome.REFUSED,
                          detail=f"review {review_id}")  # fmt: skip
        raise


@view_config(route_name="api.reports.review.approval", request_method="GET", renderer="json",
             permission=Permission.READ_REVIEWS)  # fmt: skip
def show_approval(request):
    """The review's approval and its signatures, each with whether it still matches."""
    return approval_json(request, opened(request, "page"))
