"""The reviews' pages: the list with a form to issue one (`/reports/reviews`), and one review
with its charts (`/reports/reviews/{id}`)."""

from __future__ import annotations

from pyramid.csrf import get_csrf_token
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ..access.audit import log_now
from ..access.permissions import Permission
from ..access.signatures import SignatureMeaning, SignatureRequest
from ..errors import ArchiveError
from ..pages import refused, shows_refusals
from ..records.clearance import identity_of
from . import review_words as w
from .review_api import approve_review, issue, opened, review_to_approve
from .review_approval import approval_signatures
from .review_service import list_reviews, review_json

# Complaint numbers linked on the page; a yearly review's hundred thousand are in the
# workbook and the PDF, not in one page's links.
PAGE_NUMBERS = 2000


def list_values(request, error=None, period="") -> dict:
    return {
        "reviews": list_reviews(request.dbsession, identity_of(request.user)),
        "may_create": bool(request.has_permission(Permission.CREATE_REVIEWS)),
        "csrf_token": get_csrf_token(request),
        "error": error,
        "period": period,
    }


@view_config(route_name="reports.reviews", request_method="GET",
             renderer="archive_app:templates/reports/reviews.pt",
             permission=Permission.READ_REVIEWS)  # fmt: skip
def reviews_page(request):
    log_now(request, "report_view", detail="reviews list")
    return list_values(request)


@view_config(route_name="reports.reviews", request_method="POST",
             renderer="archive_app:templates/reports/reviews.pt",
             permission=Permission.CREATE_REVIEWS)  # fmt: skip
@shows_refusals(lambda request, error: list_values(request, error, _period(request)))
def issue_from_page(request):
    review = issue(request, _period(request))
    return HTTPSeeOther(request.route_url("reports.review", review_id=review["review_id"]))


def _period(request) -> str:
    return request.POST.get("period", "").strip()[:16]


@view_config(route_name="reports.review", request_method="GET",
             renderer="archive_app:templates/reports/review.pt",
             permission=Permission.READ_REVIEWS)  # fmt: skip
def review_page(request):
    return review_values(request, opened(request, "page"))


@view_config(route_name="reports.review.approval", request_method="POST",
             renderer="archive_app:templates/reports/review.pt",
             permission=Permission.CREATE_REVIEWS)  # fmt: skip
def approve_from_page(request):
    row = review_to_approve(request)
    try:
        approve_review(request, row, SignatureRequest.from_form(request.POST))
    except ArchiveError as error:
        refused(request, error)
        return review_values(request, row, error=error)
    return HTTPSeeOther(request.route_url("reports.review", review_id=row.id))


def review_values(request, row, error=None) -> dict:
    from .review_charts import as_svg, figures  # matplotlib: only for this page

    review = review_json(row)
    words = w.words_for(request.localizer.translate)
    charts = [as_svg(figure, review["review_id"]) for _name, figure in figures(review, words)]
    periods = [entry["period"] for entry in review["previous"]] + [review["period"]]
    every = [entry["counts"] for entry in review["previous"]] + [review["counts"]]
    tables = []
    for dimension, heading in w.DIMENSION_HEADINGS.items():
        values = sorted({value for counts in every for value in counts.get(dimension, {})})
        tables.append({"heading": heading, "rows": [
            (value, [counts.get(dimension, {}).get(value, 0) for counts in every])
            for value in values]})  # fmt: skip
    numbers = review["complaint_nos"]
    more = len(numbers) - PAGE_NUMBERS
    may_approve = (row.approved_by is None and row.author.lower() != request.user.username.lower()
                   and bool(request.has_permission(Permission.CREATE_REVIEWS)))  # fmt: skip
    return {"review": review, "charts": charts, "periods": periods, "tables": tables,
            "w": w, "percent": w.as_percent, "numbers": numbers[:PAGE_NUMBERS],
            "more": w.more_numbers(more) if more > 0 else None,
            "row": row, "approvals": approval_signatures(request.dbsession, row),
            "may_approve": may_approve, "error": error, "csrf_token": get_csrf_token(request),
            "meanings": list(SignatureMeaning)}  # fmt: skip
