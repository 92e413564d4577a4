"""The review request, one colander schema: it validates the body and is the OpenAPI
document's description of it (apidoc.py)."""

from __future__ import annotations

import colander

from ..access.schemas import signature
from ..validation import StrictString


class ReviewBody(colander.MappingSchema):
    """Issuing a review of a quarter or a year that has ended."""

    period = colander.SchemaNode(
        StrictString(), validator=colander.Regex(r"^[0-9]{4}([Qq][1-4])?$",
                                                 "a year (2026) or a quarter (2026Q3)"),
        missing_msg="is required", description="a year (2026) or a quarter (2026Q3), ended",
    )  # fmt: skip


class ReviewApprovalBody(colander.MappingSchema):
    """Approving an issued review (an archivist other than its author): signed (批准评审,
    `approve_review`) where signatures are required. An empty body is `{}`."""

    signature = signature()
