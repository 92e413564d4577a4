"""The filing form for people (Deform): metadata fields, one upload per kind, attachments;
its required markers, the files it keeps between submits (records/drafts.py), and domain
errors put beside the field they concern."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import colander
import deform
from pyramid.csrf import get_csrf_token
from pyramid.i18n import TranslationStringFactory

from ..access.permissions import Level
from ..errors import ArchiveError, TooLarge
from ..labels import VOCABULARIES, label
from .drafts import UID, FilingDraft
from .media import EmptyFile, MediaRejected, clean_filename, detect_media_type
from .schemas import REQUIRED_KINDS
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
ACCEPT = ".pdf,.doc,.docx,.xls,.xlsx,.jpg,.jpeg,.png,.tif,.tiff,.txt,.eml,.wav,.mp3"


REQUIRED = "required"  # the CSS class that marks a required field's label


class KeptFileWidget(deform.widget.FileUploadWidget):
    """A file input that names the file kept from the last submit ("kept: …", choose another
    to replace it) and never carries `required` (the outcome decides which kinds are)."""

    template = "archive_app:templates/records/file_upload.pt"

    def deserialize(self, field, pstruct):
        if isinstance(pstruct, dict) and not UID.match(str(pstruct.get("uid") or "x")):
            pstruct = {**pstruct, "uid": None}  # not one this archive gave: a fresh file
        value = super().deserialize(field, pstruct)
        uid = pstruct.get("uid") if isinstance(pstruct, dict) else None
        if value is colander.null and uid and not getattr(pstruct.get("upload"), "file", None):
            # The page said "kept", but the draft is gone (an hour passed, or a new sign-in).
            raise colander.Invalid(field.schema, _("The file chosen before was not kept any "
                                                   "longer: choose it again."))  # fmt: skip
        return value


def required_kinds_note(kind: str, translate):
    """Which outcomes need this kind, in words (the records service's rule, REQUIRED_KINDS)."""
    outcomes = [outcome for outcome, kinds in REQUIRED_KINDS.items() if kind in kinds]
    if not outcomes:
        return None, ""
    names = "、".join(translate(label(outcome)) for outcome in outcomes)
    return _("Required when the outcome is: ${outcomes}", mapping={"outcomes": names}), " ".join(
        str(outcome) for outcome in outcomes
    )


def _choices(values, translate):
    """Each value with its words in the page's language (Deform shows option text as given)."""
    return [(value, translate(label(value))) for value in values]


def _marked(missing) -> str | None:
    return REQUIRED if missing is colander.required else None


def _text(title, missing=colander.required, **kw):
    widget = kw.pop("widget", None) or deform.widget.TextInputWidget()
    widget.item_css_class = _marked(missing)
    return colander.SchemaNode(colander.String(), title=title, missing=missing, widget=widget,
                               **kw)  # fmt: skip


def _select(title, values, translate, missing=colander.required, **kw):
    return colander.SchemaNode(
        colander.String(), title=title, missing=missing,
        widget=deform.widget.SelectWidget(values=[("", "—")] + _choices(values, translate),
                                          item_css_class=_marked(missing)),
        **kw,
    )  # fmt: skip


def _date(title, **kw):
    return colander.SchemaNode(
        colander.String(), title=title,
        widget=deform.widget.TextInputWidget(attributes={"type": "date"},
                                             item_css_class=REQUIRED), **kw,
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


def filing_schema(request, tmpstore: FilingDraft) -> colander.SchemaNode:
    schema = colander.SchemaNode(colander.Mapping())
    translate = request.localizer.translate
    schema.add(colander.SchemaNode(
        colander.String(), name="csrf_token", widget=deform.widget.HiddenWidget(),
        default=get_csrf_token(request)))  # fmt: skip
    # Names the draft that keeps this form's files between submits (records/drafts.py).
    schema.add(colander.SchemaNode(
        colander.String(), name="draft", widget=deform.widget.HiddenWidget(),
        default=tmpstore.token, missing=""))  # fmt: skip
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
    for kind in SINGLE_KINDS:
        note, outcomes = required_kinds_note(kind, translate)
        widget = KeptFileWidget(tmpstore, accept=ACCEPT, item_css_class=f"document-kind {kind}")
        widget.required_for = outcomes  # the page marks it when the chosen outcome needs it
        schema.add(colander.SchemaNode(deform.FileData(), name=kind, title=LABELS[kind],
                                       missing=None, widget=widget, description=note))  # fmt: skip
    schema.add(colander.SchemaNode(
        colander.Sequence(),
        colander.SchemaNode(deform.FileData(), name=DocumentKind.ATTACHMENT,
                            title=LABELS[DocumentKind.ATTACHMENT],
                            widget=KeptFileWidget(tmpstore, accept=ACCEPT),
                            missing=None),
        name="attachments", title=_("Attachments"), missing=(),
        widget=deform.widget.SequenceWidget(min_len=0,
                                            add_subitem_text_template=_("Add attachment")),
    ))  # fmt: skip
    return schema


def filing_form(request, draft: FilingDraft) -> deform.Form:
    return deform.Form(
        filing_schema(request, draft).bind(request=request),
        buttons=(deform.Button("file", _("File the dossier")),),
        formid="filing",
    )


def chosen_files(cstruct: dict) -> list[tuple[str, dict]]:
    """Every file the form holds, by its field path (`registration_form`, `attachments.2`)."""
    if not isinstance(cstruct, dict):
        return []  # a body whose Deform markers do not nest: nothing to read files from
    attachments = cstruct.get("attachments")
    chosen = [(kind, cstruct.get(kind)) for kind in SINGLE_KINDS]
    chosen += [(f"attachments.{index}", data) for index, data in
               enumerate(attachments if isinstance(attachments, list) else ())]  # fmt: skip
    return [(path, data) for path, data in chosen if isinstance(data, dict) and data.get("uid")]


def drop_file(form: deform.Form, cstruct: dict, path: str) -> None:
    """Show the field at `path` empty again (its file was refused and is not kept)."""
    head, _sep, index = path.partition(".")
    if index:
        cstruct[head][int(index)] = colander.null
        # A sequence re-rendered after validation shows its items' own cstructs.
        form[head].sequence_fields[int(index)].cstruct = colander.null
    else:
        cstruct[head] = colander.null
        form[head].cstruct = colander.null


def kind_of(path: str) -> str:
    return DocumentKind.ATTACHMENT if path.startswith("attachments") else path


def form_path(field: str | None, cstruct: dict) -> str | None:
    """Where a domain error's field is on the form: the same dotted path for metadata, the
    attachments list for "attachment"; None for what the form has no field for."""
    if not field:
        return None
    if field == DocumentKind.ATTACHMENT:
        return "attachments"
    head = field.split(".")[0]
    return field if head in FORM_FIELDS else None


FORM_FIELDS = {
    "complaint_no", "complaint_class", "complaint_type", "title", "received_on", "closed_on",
    "channel", "department", "customer", "products", "outcome", "measures", "capa_ref",
    "confidentiality", "summary", "attachments", *SINGLE_KINDS,
}  # fmt: skip


def refusal(form: deform.Form, cstruct: dict, errors: dict[str, str]) -> deform.ValidationFailure:
    """The form shown again with each message beside the field at its dotted path (added to
    the errors its own validation found, if any)."""
    root = colander.Invalid(form.schema)
    for path, message in errors.items():
        _attach(root, form.schema, path.split("."), message)
    form.widget.handle_error(form, root)
    return deform.ValidationFailure(form, cstruct, form.error or root)


def _attach(parent: colander.Invalid, node, parts: list[str], message) -> None:
    part, rest = parts[0], parts[1:]
    if isinstance(node.typ, colander.Sequence):
        if not part.isdigit() or not node.children:
            parent.msg = message
            return
        position, child = int(part), node.children[0]
    else:
        names = [item.name for item in node.children]
        if part not in names:
            parent.msg = message
            return
        position = names.index(part)
        child = node.children[position]
    error = next((item for item in parent.children if item.pos == position), None)
    if error is None:
        error = colander.Invalid(child)
        parent.add(error, position)
    if rest:
        _attach(error, child, rest, message)
    else:
        error.msg = message


def file_problems(uploads: dict[str, Upload], max_bytes: int) -> dict[str, ArchiveError]:
    """Each file the archive would refuse, by field path, all at once (the records service
    checks them again when filing, and stops at the first)."""
    problems = {}
    for path, upload in uploads.items():
        if upload.size > max_bytes:
            problems[path] = TooLarge(f"larger than {max_bytes // 2**20} MB", field=path)
            continue
        try:
            detect_media_type(upload.path, clean_filename(upload.filename))
        except (EmptyFile, MediaRejected) as refused:
            refused.field = path
            problems[path] = refused
    return problems


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


def uploads_from(cstruct: dict, spool_dir: Path, draft: FilingDraft) -> dict[str, Upload]:
    """Each chosen file (fresh, or kept by the draft) copied to the spool folder, by its field
    path; the caller removes them once filed or refused."""
    spool_dir.mkdir(parents=True, exist_ok=True)
    uploads = {}
    for path, data in chosen_files(cstruct):
        with tempfile.NamedTemporaryFile(dir=spool_dir, prefix="form-", delete=False) as out:
            if data.get("fp") is not None:
                data["fp"].seek(0)
                shutil.copyfileobj(data["fp"], out, 1024 * 1024)
            else:
                draft.copy_to(data["uid"], out)
            size = out.tell()
        uploads[path] = Upload(kind_of(path), data.get("filename") or "", Path(out.name), size)
    return uploads
