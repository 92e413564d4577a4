"""The retention requests, one colander schema each: it validates the request and is the
OpenAPI document's description of it (apidoc.py). Holds, corrections, runs, the due list."""

from __future__ import annotations

import colander

from ..access.schemas import signature
from ..records.schemas import MAX_PRODUCTS, Expiry
from ..validation import (
    ClosedMapping,
    StrictBoolean,
    StrictDate,
    StrictString,
    choice,
    lowered,
)

# A hold's or a release's reason is kept to this many characters (longer ones are cut).
REASON_CHARS = 2000


def reason(**kw):
    return colander.SchemaNode(
        StrictString(), validator=colander.Length(min=1), missing_msg="is required",
        description=f"why; kept to its first {REASON_CHARS} characters", **kw,
    )  # fmt: skip


class ReasonBody(colander.MappingSchema):
    """Placing a hold on one dossier."""

    reason = reason()


class ReleaseBody(ReasonBody):
    """Releasing a hold: signed (解除保全, `release_hold`) where signatures are required."""

    signature = signature()


class DecisionBody(colander.MappingSchema):
    """A proposal's decision; an approval is signed (批准销毁, `approve_destruction`) where
    signatures are required. An empty body is `{}`."""

    signature = signature()


def _scope(description: str):
    # An empty name is refused, not read as absent: it would hold nothing, or everything.
    return colander.SchemaNode(
        StrictString(allow_empty=True), validator=colander.Length(min=1, max=255),
        missing=None, description=description,
    )  # fmt: skip


class QueryHoldBody(colander.MappingSchema):
    """A hold on every dossier of a product or a batch: exactly one of the two."""

    product_name = _scope("the product's exact name")
    batch_no = _scope("the batch number")
    reason = reason()


class ProductCorrection(colander.MappingSchema):
    @staticmethod
    def schema_type():
        return ClosedMapping("cannot be corrected")

    batch_no = colander.SchemaNode(StrictString(), missing_msg="is required",
                                   description="names the product line")  # fmt: skip
    expiry = colander.SchemaNode(
        StrictString(keep_null=True, allow_empty=True), validator=Expiry(),
        missing=colander.drop, description="null clears it",
    )  # fmt: skip
    certified_on = colander.SchemaNode(StrictDate(nullable=True, empty_is_absent=False),
                                       missing=colander.drop,
                                       description="null clears it")  # fmt: skip


class ProductCorrections(colander.SequenceSchema):
    product = ProductCorrection()
    validator = colander.Length(max=MAX_PRODUCTS)


class CorrectionBody(colander.MappingSchema):
    """What feeds the retention rule, and only that: the closing day, products' expiry and
    certification (by batch number)."""

    @staticmethod
    def schema_type():
        return ClosedMapping(
            "cannot be corrected (only closed_on and products' expiry and certified_on)"
        )

    reason = reason()
    closed_on = colander.SchemaNode(StrictDate(empty_is_absent=False), missing=colander.drop)
    products = ProductCorrections(missing=colander.drop)
    signature = signature()  # 更正, `correction`, where signatures are required


class RunBody(colander.MappingSchema):
    as_of = colander.SchemaNode(
        StrictDate(nullable=True), missing=None,
        description="default today; later than today only with dry_run",
    )  # fmt: skip
    dry_run = colander.SchemaNode(StrictBoolean(), missing=False)


class DueQuery(colander.MappingSchema):
    as_of = colander.SchemaNode(StrictDate(), missing=None, description="default today")


class HoldsQuery(colander.MappingSchema):
    active = choice(("true", "false"), missing="false", preparer=lowered,
                    description="true: only the holds in force")  # fmt: skip
