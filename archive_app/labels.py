"""The words people read for the archive's codes: every closed-vocabulary value as a catalogue
message (one table, keyed by the value's string, so a `StrEnum` member finds its label as a
plain string does), what a page says for each error code, and the one way dates and times
are written (`YYYY-MM-DD`; times in the archive's zone, with its name, to the second)."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from importlib.resources import files
from zoneinfo import ZoneInfo

from translationstring import TranslationString, TranslationStringFactory

_ = TranslationStringFactory("archive")

# One group per vocabulary (the same value in two groups must read the same: `other`).
VOCABULARIES: dict[str, dict[str, TranslationString]] = {
    "complaint_class": {
        "I": _("Class I"),
        "II": _("Class II"),
        "III": _("Class III"),
    },
    "complaint_type": {
        "adverse_reaction": _("Adverse reaction"),
        "intrinsic_quality": _("Intrinsic quality"),
        "inner_packaging": _("Inner packaging"),
        "outer_packaging": _("Outer packaging"),
        "packaging_design": _("Packaging design"),
        "service": _("Service"),
        "other": _("Other"),
    },
    "channel": {
        "phone": _("Phone"),
        "letter": _("Letter"),
        "fax": _("Fax"),
        "email": _("Email"),
        "wechat": _("WeChat"),
        "sms": _("Text message"),
        "visit": _("Visit"),
        "other": _("Other"),
    },
    "outcome": {
        "justified": _("Justified"),
        "unjustified": _("Unjustified"),
        "not_established": _("Not established (closed without investigation)"),
    },
    "closure": {  # a timeline's closure (seed §5.8)
        "customer_satisfied": _("Customer satisfied"),
        "no_feedback": _("No feedback after the reminder"),
        "not_established": _("Not established (closed without investigation)"),
    },
    "product_role": {
        "complained": _("Complained batch"),
        "related": _("Related batch (covered by the investigation)"),
    },
    "measure": {
        "compensation": _("Compensation"),
        "return": _("Return"),
        "recall": _("Recall"),
    },
    "level": {
        "internal": _("Internal"),
        "confidential": _("Confidential"),
        "restricted": _("Restricted"),
    },
    "state": {
        "archived": _("Archived"),
        "held": _("Under hold"),
        "destroying": _("Being destroyed"),
        "destroyed": _("Destroyed"),
    },
    "role": {
        "archivist": _("Archivist"),
        "auditor": _("Auditor"),
        "privacy_officer": _("Privacy officer"),
        "records_manager": _("Records manager"),
        "admin": _("Administrator"),
        "system": _("System"),  # the command line and the log's own checkpoints
    },
    "document_kind": {
        "registration_form": _("Registration form (投诉客户信息登记表)"),
        "handling_sheet": _("Handling sheet (客户质量投诉处理单)"),
        "investigation_report": _("Investigation report"),
        "reply_report": _("Reply report"),
        "customer_acceptance": _("Customer acceptance"),
        "attachment": _("Attachment"),
    },
    "log_action": {
        "login": _("Sign-in"),
        "login_failed": _("Failed sign-in"),
        "login_throttled": _("Sign-in blocked"),
        "logout": _("Sign-out"),
        "search": _("Search"),
        "view": _("View"),
        "download": _("Download"),
        "preview": _("Preview"),
        "file": _("Filing"),
        "append": _("Documents appended"),
        "hold": _("Hold placed"),
        "release": _("Hold released"),
        "destroy": _("Destruction"),
        "export": _("Export"),
        "review": _("Access-log review"),
        "verify": _("Verification"),
        "retention_due": _("Due list viewed"),
        "retention_run": _("Retention run"),
        "certificate": _("Certificate opened"),
        "correct": _("Correction"),
        "user_add": _("Account created"),
        "user_change": _("Account changed"),
        "users": _("Accounts listed"),
        "request": _("Request"),
        "checkpoint": _("Log checkpoint"),
        "ledger": _("Ledger read"),
        "report_issue": _("Review issued"),
        "report_view": _("Review opened"),
        "password_change": _("Own password changed"),
        "password_reset": _("Password reset by an administrator"),
        "otp_enrol": _("Second factor enrolled"),
        "otp_failed": _("Wrong second-factor code"),
        "otp_recovery": _("Recovery code used"),
        "otp_recovery_codes": _("New recovery codes"),
        "otp_remove": _("Second factor removed"),
        "sign": _("Electronic signature"),
        "review_approve": _("Review approved"),
        "access_review": _("Access review"),
        "session_revoke": _("Session ended by an administrator"),
    },
    "log_outcome": {
        "ok": _("Allowed"),
        "denied": _("Denied"),
        "refused": _("Refused"),
        "failed": _("Failed"),
    },
    # records/derived.py TextState: a document's text on the dossier page.
    "text_state": {
        "extracted": _("Text read"),
        "ocr_pending": _("OCR pending"),
        "ocr_done": _("Read by OCR"),
        "failed": _("Failed"),
    },
    "anomaly": {
        "restricted_views": _("Many restricted dossiers viewed"),
        "bulk_downloads": _("Bulk downloads"),
        "denial_burst": _("Many refusals"),
        "off_hours": _("Access outside working hours"),
        "search_burst": _("Burst of searches"),
    },
    "proposal_state": {
        "proposed": _("Awaiting approval"),
        "approved": _("Approved"),
        "rejected": _("Rejected"),
    },
    "retention_rule": {
        "expiry-plus-1y": _("One year after the latest expiry (at least one year after closing)"),
        "closed-plus-default": _("Years after closing (no product expiry)"),
        "eu-gmp": _("EU GMP: expiry + 1 year or certification + 5 years"),
        "gsp": _("GSP: expiry + 1 year or closing + 5 years, whichever is later"),
    },
    "media_type": {
        "application/pdf": _("PDF document"),
        "application/msword": _("Word document (.doc)"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _(
            "Word document (.docx)"
        ),
        "application/vnd.ms-excel": _("Excel workbook (.xls)"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _(
            "Excel workbook (.xlsx)"
        ),
        "image/jpeg": _("JPEG image"),
        "image/png": _("PNG image"),
        "image/tiff": _("TIFF image"),
        "text/plain": _("Plain text"),
        "message/rfc822": _("E-mail message"),
        "audio/wav": _("WAV audio"),
        "audio/x-wav": _("WAV audio"),
        "audio/mpeg": _("MP3 audio"),
    },
    "destruction_method": {
        # retention/services.py METHOD and certificates.ROTATION_METHOD, as certificates carry them
        "cryptographic erase (NIST SP 800-88): data keys and ciphertext deleted; personal data "
        "and free text erased from the database (SQLite secure_delete, WAL checkpoint); search "
        "entries purged with segments merged": _(
            "Cryptographic erase (NIST SP 800-88): data keys and ciphertext deleted; personal "
            "data and free text erased from the database; search entries purged"
        ),
        "signing-key rotation": _("Signing-key rotation"),
    },
    "signature_meaning": {  # access/signatures.py SignatureMeaning
        "approve_destruction": _("Approve destruction"),
        "release_hold": _("Release hold"),
        "correction": _("Correction"),
        "approve_review": _("Approve review"),
        "access_review": _("Access review"),
    },
    "signed_kind": {  # access/signatures.py SignedKind: what a signature is linked to
        "retention_proposal": _("Destruction proposal"),
        "hold_release": _("Hold release"),
        "correction": _("Correction"),
        "quality_review": _("Quality review"),
        "access_review": _("Access review"),
    },
    "account_source": {  # access/models.py AccountSource
        "local": _("Local account"),
        "directory": _("Directory account"),
    },
    "hold_scope": {
        "complaint_no": _("Complaint number"),
        "product_name": _("All dossiers of a product"),
        "batch_no": _("All dossiers of a batch"),
    },
}


def _merged(groups: dict[str, dict[str, TranslationString]]) -> dict[str, TranslationString]:
    merged: dict[str, TranslationString] = {}
    for group in groups.values():
        for value, label in group.items():
            if value in merged and str(merged[value]) != str(label):
                raise ValueError(f"{value!r} reads as both {merged[value]!r} and {label!r}")
            merged[value] = label
    return merged


LABELS = _merged(VOCABULARIES)

# Yes and no (a dry run, a flag) and the word for an empty list.
YES, NO, NONE = _("Yes"), _("No"), _("none")

# What a page says for each error code (the JSON API keeps the code and its English detail).
ERRORS: dict[str, TranslationString] = {
    "bad_request": _("The request could not be read."),
    "unauthorized": _("Sign in first."),
    "forbidden": _("Your role may not do this."),
    "not_found": _("Not found: it does not exist or is not yours to see."),
    "method_not_allowed": _("This page does not answer that kind of request."),
    "conflict": _("This conflicts with what the archive already holds."),
    "destroyed": _("This dossier was destroyed under the retention rules."),
    "too_large": _(
        "The request is too large: too many files or fields, or a file larger than the "
        "archive accepts."
    ),
    "unsupported_media_type": _(
        "A file's type is not accepted, or its content does not match its name."
    ),
    "invalid": _("A value is not valid."),
    "incomplete": _("A document this outcome needs is missing."),
    "unavailable": _("The archive cannot do this right now; try again in a moment."),
    "storage_full": _("The archive's storage is full: nothing was stored."),
    "internal": _("An internal error occurred; it was logged."),
    "query_too_costly": _("The search took too long; add words or filters to narrow it."),
    "too_many_attempts": _("Too many attempts. Try again later."),
    "signature_required": _("This needs your signature (password) to go ahead."),
    "password_change_required": _("Choose a new password on your account page first."),
    "second_factor_required": _("Set up a second factor on your account page first."),
    "otp_required": _("Enter the code of your second factor."),
    "otp_invalid": _("Wrong or already used code."),
}
UNKNOWN_ERROR = _("The request was refused.")

# Field names that can come with an error, as the form and the pages call them.
FIELDS: dict[str, TranslationString] = {
    "signature": _("Electronic signature"),
    "signature.password": _("Your password (signature)"),
    "signature.otp": _("One-time code"),
    "signature.meaning": _("Meaning of the signature"),
    "complaint_no": _("Complaint number"),
    "complaint_class": _("Complaint class"),
    "complaint_type": _("Complaint type"),
    "title": _("Title"),
    "received_on": _("Received on"),
    "closed_on": _("Closed on"),
    "channel": _("Channel"),
    "department": _("Department"),
    "customer": _("Customer"),
    "customer.name": _("Name"),
    "customer.organization": _("Organization"),
    "customer.phone": _("Phone"),
    "customer.address": _("Address"),
    "products": _("Products"),
    "name": _("Product name"),
    "specification": _("Specification"),
    "batch_no": _("Batch number"),
    "expiry": _("Expiry"),
    "manufacturer": _("Manufacturer"),
    "outcome": _("Outcome"),
    "measures": _("Measures"),
    "capa_ref": _("CAPA reference"),
    "confidentiality": _("Confidentiality"),
    "summary": _("Summary"),
    "timeline": _("Handling timeline"),
    "acknowledged_on": _("Acknowledged on"),
    "replied_on": _("Replied on"),
    "reminded_on": _("Reminded on"),
    "closure": _("Closure"),
    "closure_approved_by": _("Closure approved by"),
    "extension": _("Extension"),
    "until": _("Extended until"),
    "approved_by": _("Approved by"),
    "supplier": _("Supplier"),
    "adr_report_no": _("ADR report number"),
    "recall_no": _("Recall number"),
    "qp_notified_on": _("QP notified on"),
    "regulator_report": _("Reported to the regulator"),
    "authority": _("Authority"),
    "reported_on": _("Reported on"),
    "reference": _("Reference"),
    "as_of": _("As of"),
    "reason": _("Reason"),
    "hold_id": _("Hold"),
    "proposal_id": _("Proposal"),
    "received_from": _("Received from"),
    "received_to": _("Received to"),
    "q": _("Search words"),
    "page": _("Page"),
    "sort": _("Sort"),
    "dossier_id": _("Dossier"),
    "year": _("Year"),
    "product": _("Product"),
    **VOCABULARIES["document_kind"],
}


def label(value) -> TranslationString | str:
    """The catalogue message for a vocabulary value; an unknown value is shown as it is (the
    page tests fail on any code a page shows raw)."""
    if value is None:
        return ""
    return LABELS.get(str(value), str(value))


def field_label(path: str | None) -> TranslationString | str:
    """`products.0.batch_no` reads as "Products 1: Batch number"; unknown paths as they are."""
    if not path:
        return ""
    if path in FIELDS:
        return FIELDS[path]
    parts = path.split(".")
    if parts[0] == "products" and len(parts) == 3 and parts[1].isdigit():
        return _(
            "Product ${number}: ${field}",
            mapping={"number": int(parts[1]) + 1, "field": FIELDS.get(parts[2], parts[2])},
        )
    return FIELDS.get(parts[-1], path)


def error_message(error) -> TranslationString:
    """What a page says for a domain error: its detail where the catalogue has it (a detail
    raised as `_("...")`; for a field's error, the part after the field's name), else its
    code's sentence. The JSON API keeps the English detail and the code."""
    detail, field = str(getattr(error, "detail", "") or ""), getattr(error, "field", None)
    candidates = [detail]
    if field and detail.startswith(f"{field} "):
        candidates.append(detail[len(field) + 1 :])
    known = catalogue("zh_CN").translations.dgettext
    for candidate in candidates:
        if candidate and known("archive", candidate) != candidate:
            return _(candidate)
    return ERRORS.get(getattr(error, "code", None), UNKNOWN_ERROR)


@cache
def catalogue(locale_name: str):
    """The archive's own messages in one language (a Pyramid `Localizer`), where there is no
    request (the PDF)."""
    # Imported here: Pyramid's registry (and pkg_resources' deprecation warning on stderr)
    # stays out of the commands that only verify certificates.
    from pyramid.i18n import make_localizer

    return make_localizer(locale_name, [str(files("archive_app") / "locale")])


def format_when(value, zone: ZoneInfo, with_zone: bool = True) -> str:
    """A date as `YYYY-MM-DD`; a time in `zone`, to the second, with the zone's name. ISO
    strings (as the JSON shapes carry them) are read first; anything else is shown as is."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = (date.fromisoformat(value) if len(value) == 10
                     else datetime.fromisoformat(value))  # fmt: skip
        except ValueError:
            return value
    if isinstance(value, datetime):
        if value.tzinfo is None:  # stored times are UTC (SQLite drops the offset)
            value = value.replace(tzinfo=ZoneInfo("UTC"))
        shown = f"{value.astimezone(zone):%Y-%m-%d %H:%M:%S}"
        return f"{shown} {zone.key}" if with_zone else shown
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
