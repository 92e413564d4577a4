"""The reviews' configuration: their settings, routes and views."""

from __future__ import annotations

from ..settings import as_int
from .review_service import ReviewSettings

THRESHOLD = "archive.review.recurrence_threshold"


def review_settings(settings) -> ReviewSettings:
    """`archive.review.recurrence_threshold` (default 3): the dossiers of one product and
    complaint type in 12 months that make a recurrence."""
    return ReviewSettings(recurrence_threshold=as_int({THRESHOLD: "3"} | dict(settings),
                                                      THRESHOLD, 2))  # fmt: skip


def includeme(config):
    review_settings(config.get_settings())  # a bad value stops the start, with its name
    prefix = "/api/v1/reports/reviews"
    # The .pdf and .xlsx routes first: {review_id} would otherwise swallow "abc.pdf".
    for suffix in (".pdf", ".xlsx"):
        config.add_route("api.reports.review" + suffix, prefix + "/{review_id}" + suffix)
    config.add_route("api.reports.review.approval", prefix + "/{review_id}/approval")
    config.add_route("api.reports.review", prefix + "/{review_id}")
    config.add_route("api.reports.reviews", prefix)
    config.add_route("reports.reviews", "/reports/reviews")
    for suffix in (".pdf", ".xlsx", ".json"):
        config.add_route("reports.review" + suffix, "/reports/reviews/{review_id}" + suffix)
    config.add_route("reports.review.approval", "/reports/reviews/{review_id}/approval")
    config.add_route("reports.review", "/reports/reviews/{review_id}")
    config.scan(".review_api")
    config.scan(".review_views")
