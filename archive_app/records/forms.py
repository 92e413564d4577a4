"""The filing form for people (Deform): metadata fields, one upload per kind, attachments."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import colander
import deform
from pyramid.csrf import get_csrf_token
from pyramid.i18n import TranslationStringFactory

from ..access.permissions import Level
from ..labels import VOCABULARIES, label
from .schemas import MAX_PRODUCTS
from .services import Upload
from .vocabulary import (
    Channel,
    Closure,
    ComplaintClass,
    ComplaintType,
    DocumentKind,
    Measure,
    Outcome,
)

_ = TranslationStringFactory("archive")

LABELS = VOCABULARIES["document_kind"]
SINGLE_KINDS = [kind for kind in DocumentKind if kind != DocumentKind.ATTACHMENT]
# The plain fields the filing form can send (Deform adds markers around every mapping and
# sequence): its fixed fields with room to spare, each product's, each upload widget's.
FORM_FIELD_PARTS = 64
PRODUCT_FIELD_PARTS = 7
UPLOAD_FIELD_PARTS = 3
ACCEPT = ".pdf,.doc,.docx,.xls,.xlsx,.jpg,.jpeg,.png,.tif,.tiff,.txt,.eml,.wav,.mp3"


class RequestTempStore(dict):
    """Deform keeps uploads here between validation steps; this request only (no session)."""

    def preview_url(self, uid):
        return None


def _choices(values, translate):
    """Each value with its words in the page's language (Deform shows option text as given)."""
    return [(value, translate(label(value))) for value in values]


def _text(title, missing=colander.required, **kw):
    return colander.SchemaNode(colander.String(), title=title, missing=missing, **kw)


def _select(title, values, translate, missing=colander.required, **kw):
    return colander.SchemaNode(
        colander.String(), title=title, missing=missing,
        widget=deform.widget.SelectWidget(values=[("", "—")] + _choices(values, translate)),
        **kw,
    )  # fmt: skip


def _date(title, **kw):
    return colander.SchemaNode(
        colander.String(), title=title,
        widget=deform.widget.TextInputWidget(attributes={"type": "date"}), **kw,
    )  # fmt: skip


class ProductNode(colander.MappingSchema):
    name = _text(_("Product name"))
    specification = _text(_("Specification"), missing="")
    batch_no = _text(_("Batch number"))
    expiry = _text(_("Expiry (YYYY-MM or YYYY-MM-DD)"), missing="")
    manufacturer = _text(_("Manufacturer"), missing="")


TIMELINE_DATES = ("acknowledged_on", "replied_on", "reminded_on")
QUALITY_TEXTS = ("supplier", "adr_report_no", "recall_no")


def timeline_node(translate) -> colander.SchemaNode:
    """The optional handling timeline and references (contract §8), folded away until
    opened: most dossiers are filed without them."""
    node = colander.SchemaNode(
        colander.Mapping(), name="timeline", title=_("Handling timeline (optional)"),
        widget=deform.widget.MappingWidget(template="mapping_accordion", open=False),
    )  # fmt: skip
    node.add(_date(_("Acknowledged on"), name="acknowledged_on", missing=""))
    node.add(_date(_("Replied on"), name="replied_on", missing=""))
    node.add(_date(_("Reminded on"), name="reminded_on", missing=""))
    node.add(_select(_("Closure"), Closure, translate, name="closure", missing=""))
    node.add(_text(_("Closure approved by"), name="closure_approved_by", missing=""))
    node.add(_text(_("Supplier"), name="supplier", missing=""))
    node.add(_text(_("ADR report number"), name="adr_report_no", missing=""))
    node.add(_text(_("Recall number"), name="recall_no", missing=""))
    return node


def filing_schema(request, tmpstore) -> colander.SchemaNode:
    schema = colander.SchemaNode(colander.Mapping())
    translate = request.localizer.translate
    schema.add(colander.SchemaNode(
        colander.String(), name="csrf_token", widget=deform.widget.HiddenWidget(),
        default=get_csrf_token(request)))  # fmt: skip
    schema.add(_text(_("Complaint number"), name="complaint_no", description="TS-I-23-001"))
    schema.add(_select(_("Complaint class"), ComplaintClass, translate, name="complaint_class"))
    schema.add(_select(_("Complaint type"), ComplaintType, translate, name="complaint_type"))
    schema.add(_text(_("Title"), name="title"))
    schema.add(_date(_("Received on"), name="received_on"))
    schema.add(_date(_("Closed on"), name="closed_on"))
    schema.add(_select(_("Channel"), Channel, translate, name="channel"))
    schema.add(_text(_("Department"), name="department", missing=""))
    customer = colander.SchemaNode(colander.Mapping(), name="customer", title=_("Customer"))
    customer.add(_text(_("Name"), name="name"))
    customer.add(_text(_("Organization"), name="organization", missing=""))
    customer.add(_text(_("Phone"), name="phone", missing=""))
    customer.add(_text(_("Address"), name="address", missing=""))
    schema.add(customer)
    schema.add(colander.SchemaNode(
        colander.Sequence(), ProductNode(name="product", title=_("Product")),
        name="products", title=_("Products"),
        widget=deform.widget.SequenceWidget(min_len=1, add_subitem_text_template=_("Add product")),
    ))  # fmt: skip
    schema.add(_select(_("Outcome"), Outcome, translate, name="outcome"))
    schema.add(colander.SchemaNode(
        colander.Set(), name="measures", title=_("Measures"), missing=(),
        widget=deform.widget.CheckboxChoiceWidget(values=_choices(Measure, translate),
                                                  inline=True),
    ))  # fmt: skip
    schema.add(_text(_("CAPA reference"), name="capa_ref", missing=""))
    schema.add(_select(_("Confidentiality"), Level, translate, name="confidentiality"))
    schema.add(_text(_("Summary"), name="summary", missing="",
                     widget=deform.widget.TextAreaWidget(rows=4)))  # fmt: skip
    schema.add(timeline_node(translate))
    upload = deform.widget.FileUploadWidget(tmpstore, accept=ACCEPT)
    for kind in SINGLE_KINDS:
        schema.add(colander.SchemaNode(deform.FileData(), name=kind, title=LABELS[kind],
                                       missing=None, widget=upload))  # fmt: skip
    schema.add(colander.SchemaNode(
        colander.Sequence(),
        colander.SchemaNode(deform.FileData(), name=DocumentKind.ATTACHMENT,
                            title=LABELS[DocumentKind.ATTACHMENT], widget=upload),
        name="attachments", title=_("Attachments"), missing=(),
        widget=deform.widget.SequenceWidget(min_len=0,
                                            add_subitem_text_template=_("Add attachment")),
    ))  # fmt: skip
    return schema


def field_part_limit(max_files: int) -> int:
    """How many plain fields a filing with at most `max_files` files (the API's limit, the
    one `archive.max_parts` setting) can need."""
    return FORM_FIELD_PARTS + PRODUCT_FIELD_PARTS * MAX_PRODUCTS + UPLOAD_FIELD_PARTS * max_files


def without_files(appstruct: dict) -> dict:
    """What the form shows again after a refusal: every field but the files (a browser
    never lets a page set a file input; the person picks them again)."""
    return {key: value for key, value in appstruct.items()
            if key not in SINGLE_KINDS and key != "attachments"}  # fmt: skip


def filing_form(request) -> deform.Form:
    tmpstore = RequestTempStore()
    return deform.Form(
        filing_schema(request, tmpstore).bind(request=request),
        buttons=(deform.Button("file", _("File the dossier")),),
        formid="filing",
    )


def metadata_from(appstruct: dict) -> dict:
    """The form's values as contract metadata (blank optional fields left out)."""

    def blank_to_none(mapping):
        return {key: (value if value != "" else None) for key, value in mapping.items()}

    metadata = {
        key: appstruct[key]
        for key in ("complaint_no", "complaint_class", "complaint_type", "title", "received_on",
                    "closed_on", "channel", "outcome", "confidentiality")
    }  # fmt: skip
    for key in ("department", "capa_ref", "summary"):
        if appstruct.get(key):
            metadata[key] = appstruct[key]
    metadata["customer"] = blank_to_none(appstruct["customer"])
    metadata["products"] = [blank_to_none(product) for product in appstruct["products"]]
    metadata["measures"] = sorted(appstruct.get("measures") or ())
    metadata.update(quality_from(appstruct.get("timeline") or {}))
    return metadata


def quality_from(fieldset: dict) -> dict:
    """The timeline fieldset's filled values as contract metadata (none: nothing)."""
    quality = {key: fieldset[key] for key in QUALITY_TEXTS if fieldset.get(key)}
    timeline = {key: fieldset[key] for key in (*TIMELINE_DATES, "closure", "closure_approved_by")
                if fieldset.get(key)}  # fmt: skip
    if timeline:
        quality["timeline"] = timeline
    return quality


def uploads_from(appstruct: dict, spool_dir: Path) -> list[Upload]:
    """Each uploaded file copied to the spool folder (the caller removes them)."""
    spool_dir.mkdir(parents=True, exist_ok=True)
    chosen = [(kind, appstruct.get(kind)) for kind in SINGLE_KINDS]
    chosen += [(DocumentKind.ATTACHMENT, data) for data in appstruct.get("attachments") or ()]
    uploads = []
    for kind, data in chosen:
        if not data or data.get("fp") is None:
            continue
        with tempfile.NamedTemporaryFile(dir=spool_dir, prefix="form-", delete=False) as out:
            data["fp"].seek(0)
            shutil.copyfileobj(data["fp"], out, 1024 * 1024)
            size = out.tell()
        uploads.append(Upload(kind, data.get("filename") or "", Path(out.name), size))
    return uploads
