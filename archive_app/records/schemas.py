"""Validation of dossier metadata (contract §4), each failure naming its dotted field path."""

from __future__ import annotations

import json
import re

import colander
from translationstring import TranslationStringFactory

from ..access.permissions import Level
from ..errors import BadRequest, Invalid
from ..validation import ClosedMapping, StrictDate, StrictString, choice, text, validated
from .policy import EXPIRY_PATTERN, parse_expiry
from .vocabulary import (
    Channel,
    Closure,
    ComplaintClass,
    ComplaintType,
    DocumentKind,
    Measure,
    Outcome,
    ProductRole,
)

_ = TranslationStringFactory("archive")

# Completeness at filing (contract §4). Checked when a dossier is filed, never again: one
# filed under an earlier rule (an unjustified one with two documents) keeps what it has.
INVESTIGATED_KINDS = (
    DocumentKind.REGISTRATION_FORM,
    DocumentKind.HANDLING_SHEET,
    DocumentKind.INVESTIGATION_REPORT,
    DocumentKind.REPLY_REPORT,
)
REQUIRED_KINDS = {
    Outcome.JUSTIFIED: INVESTIGATED_KINDS,
    Outcome.UNJUSTIFIED: INVESTIGATED_KINDS,  # investigated too (seed §5.5)
    # Closed without investigation (§5.3): the reason is in the handling sheet.
    Outcome.NOT_ESTABLISHED: (DocumentKind.REGISTRATION_FORM, DocumentKind.HANDLING_SHEET),
}
COMPLAINT_NO = re.compile(r"^TS-(I|II|III)-(\d{2})-(\d{3,})$")


class Expiry:
    """Validator: `YYYY-MM` or `YYYY-MM-DD`, naming a real month or day."""

    json_schema = {"pattern": EXPIRY_PATTERN.pattern}  # apidoc.py: the shape, not the calendar

    def __call__(self, node, value):
        if value is None:  # a correction clearing the expiry (validation.StrictString)
            return
        try:
            parse_expiry(value)
        except ValueError as error:
            raise colander.Invalid(node, str(error)) from None


class Customer(colander.MappingSchema):
    name = text(100)
    organization = text(255, missing=None)
    phone = colander.SchemaNode(
        StrictString(),
        validator=colander.Regex(r"^\+?[0-9][0-9 -]{5,19}$", _("must be a phone number")),
        missing=None,
    )
    address = text(500, missing=None)


class Product(colander.MappingSchema):
    name = text(255)
    specification = text(255, missing=None)
    batch_no = colander.SchemaNode(
        StrictString(),
        validator=colander.All(
            colander.Length(min=1, max=64),
            colander.Regex(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$", _("must be letters, digits, . _ / -")),
        ),
    )
    expiry = colander.SchemaNode(StrictString(), validator=Expiry(), missing=None)
    manufacturer = text(255, missing=None)
    certified_on = colander.SchemaNode(StrictDate(nullable=True), missing=None)  # EU GMP rule only
    role = choice(ProductRole, missing=ProductRole.COMPLAINED)


MAX_PRODUCTS = 50


class Products(colander.SequenceSchema):
    product = Product()
    validator = colander.Length(max=MAX_PRODUCTS)


class Measures(colander.SequenceSchema):
    measure = choice(Measure)


class OptionalObject(ClosedMapping):
    """An optional object of declared keys only; JSON `null` is the same as leaving it out."""

    def deserialize(self, node, cstruct):
        return colander.null if cstruct is None else super().deserialize(node, cstruct)


def _optional_date():
    return colander.SchemaNode(StrictDate(nullable=True), missing=None)


class Extension(colander.MappingSchema):
    """An approved extension of the handling time limit (seed §6)."""

    until = colander.SchemaNode(StrictDate())
    reason = text(2000)
    approved_by = text(100)


class Timeline(colander.MappingSchema):
    """The handling timeline (contract §8, seed §5.8)."""

    acknowledged_on = _optional_date()
    replied_on = _optional_date()
    reminded_on = _optional_date()
    closure = choice(Closure, missing=None)
    closure_approved_by = text(100, missing=None)
    extension = Extension(OptionalObject(), missing=None)


class RegulatorReport(colander.MappingSchema):
    authority = text(255)
    reported_on = colander.SchemaNode(StrictDate())
    reference = text(100, missing=None)


class DossierMetadata(colander.MappingSchema):
    complaint_no = colander.SchemaNode(
        StrictString(),
        validator=colander.Regex(COMPLAINT_NO, _("must look like TS-I-23-001")),
    )
    complaint_class = choice(ComplaintClass)
    complaint_type = choice(ComplaintType)
    title = text(500)
    received_on = colander.SchemaNode(StrictDate())
    closed_on = colander.SchemaNode(StrictDate())
    channel = choice(Channel)
    department = text(128, missing=None)
    customer = Customer()
    products = Products(missing=())
    outcome = choice(Outcome)
    measures = Measures(missing=())
    capa_ref = text(64, missing=None)
    confidentiality = choice(Level)  # required (contract §4): no level is assumed
    summary = text(20000, missing=None)
    # Optional quality metadata (contract §8).
    timeline = Timeline(OptionalObject(), missing=None)
    supplier = text(255, missing=None)
    adr_report_no = text(64, missing=None)
    recall_no = text(64, missing=None)
    qp_notified_on = _optional_date()
    regulator_report = RegulatorReport(OptionalObject(), missing=None)


def _cross_checks(node, value):
    """Rules that tie fields together; each error is attached to the field that is wrong."""
    error = colander.Invalid(node)
    match = COMPLAINT_NO.match(value["complaint_no"])
    if match and match[1] != value["complaint_class"]:
        error["complaint_no"] = _("its class must equal complaint_class")
    elif match and int(match[2]) != value["received_on"].year % 100:
        error["complaint_no"] = _("its year must be the last two digits of received_on's year")
    if value["closed_on"] < value["received_on"]:
        error["closed_on"] = _("must not be before received_on")
    if len(set(value["measures"])) != len(value["measures"]):
        error["measures"] = _("must not repeat a measure")
    if value["timeline"]:
        _timeline_checks(value, error)
    if error.children:
        raise error


def _timeline_checks(value, error: colander.Invalid) -> None:
    """The timeline's dates fall in the handling (received to closed) and in order; a
    `not_established` closure belongs to a `not_established` outcome. The §5.8 working-day
    rule needs the calendar: records.closure.check_no_feedback."""
    timeline, problems = value["timeline"], {}
    for name in ("acknowledged_on", "replied_on", "reminded_on"):
        day = timeline[name]
        if day is not None and not value["received_on"] <= day <= value["closed_on"]:
            problems[name] = _("must fall between received_on and closed_on")
    replied, reminded = timeline["replied_on"], timeline["reminded_on"]
    if reminded is not None and replied is None:
        problems.setdefault("reminded_on", _("needs replied_on (a reminder follows the reply)"))
    elif reminded is not None and reminded < replied:
        problems.setdefault("reminded_on", _("must not be before replied_on"))
    closure = timeline["closure"]
    if closure == Closure.NO_FEEDBACK and replied is None:
        problems.setdefault("replied_on", _("is required for a no_feedback closure"))
    if closure == Closure.NOT_ESTABLISHED and value["outcome"] != Outcome.NOT_ESTABLISHED:
        problems["closure"] = _("not_established needs the outcome not_established")
    extension = timeline["extension"]
    late = extension is not None and extension["until"] < value["received_on"]
    if problems or late:
        node = error.node["timeline"]
        nested = colander.Invalid(node)
        for name, message in problems.items():
            nested[name] = message
        if late:
            until = colander.Invalid(node["extension"])
            until["until"] = _("must not be before received_on")
            nested.add(until, node.children.index(node["extension"]))
        error.add(nested, error.node.children.index(node))


class DossierLookup(colander.MappingSchema):
    """`GET /api/v1/dossiers?complaint_no=…`."""

    complaint_no = colander.SchemaNode(StrictString(raw=True), missing_msg="is required",
                                       description="exact complaint number")  # fmt: skip


# Metadata nests four levels deep (object, products, product, value); far deeper is an attack
# on whatever walks it next (a validator's message, a repr) by recursion.
MAX_METADATA_DEPTH = 16


def parse_metadata(raw: bytes | None):
    """The metadata part's JSON, or the contract's 400 saying why it cannot be read."""
    if raw is None:
        raise BadRequest("the metadata part is missing", field="metadata")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("metadata must be UTF-8 encoded JSON", field="metadata") from None
    except json.JSONDecodeError as error:
        raise BadRequest(f"metadata is not valid JSON: {error.msg}", field="metadata") from None
    except RecursionError:
        raise BadRequest("metadata is nested too deeply", field="metadata") from None
    if _depth(data) > MAX_METADATA_DEPTH:
        raise BadRequest("metadata is nested too deeply", field="metadata")
    return data


def _depth(value) -> int:
    """How deeply lists and objects nest in `value`, without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, level + 1) for child in children)
    return deepest


def validate_metadata(data) -> dict:
    """Validated, normalised metadata, or `Invalid` naming the first bad field."""
    if not isinstance(data, dict):
        raise Invalid("metadata must be a JSON object", field="metadata")
    value = validated(DossierMetadata(validator=_cross_checks), data)
    value["measures"] = list(value["measures"])
    value["products"] = [dict(product) for product in value["products"]]
    return value


def stored_quality_json(value: dict | None) -> dict | None:
    """A validated nested object (timeline, regulator report) as its JSON column keeps it:
    dates as ISO text, absent keys as null."""
    if not value:
        return None
    return {
        key: (stored_quality_json(item) if isinstance(item, dict)
              else item.isoformat() if hasattr(item, "isoformat") else item)
        for key, item in value.items()
    }  # fmt: skip
