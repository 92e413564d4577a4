"""The words of a review's page, PDF and workbook: headings, and the reader's text for codes."""

from __future__ import annotations

from collections.abc import Callable

from translationstring import TranslationString, TranslationStringFactory

from ..labels import catalogue, label

_ = TranslationStringFactory("archive")

TITLE = _("Complaint quality review")
DIMENSION_HEADINGS = {
    "by_type": _("By complaint type"),
    "by_class": _("By complaint class"),
    "by_product": _("By product"),
    "by_channel": _("By channel"),
    "by_outcome": _("By outcome"),
    "by_measure": _("By measure"),
}
HEADINGS = {
    "review_id": _("Review number"),
    "period": _("Period"),
    "from": _("From"),
    "to": _("To"),
    "issued_at": _("Issued at"),
    "author": _("Author"),
    "scope": _("Scope (the author's clearance)"),
    "total": _("Complaints counted"),
    "dataset_sha256": _("Dataset SHA-256"),
    "median_days": _("Median days to close"),
    "p90_days": _("90th percentile of days to close"),
    "on_time": _("Replied within the time limit"),
    "capa_coverage": _("Justified complaints with a CAPA"),
    "recurrence_threshold": _("Recurrence threshold"),
    "public_key": _("Ed25519 public key"),
    "signature": _("Signature"),
}
COUNTS = _("Counts")
PREVIOUS = _("The four periods before")
RECURRENCES = _("Recurrences")
CONTROL = _("Control charts")
CHARTS = _("Charts")
NUMBERS = _("Complaint numbers")
TIMELINESS = _("Time to close and timeliness")
SIGNATURE = _("Signature")
APPROVAL = _("Approval")
MISMATCH = _("No: the record changed after it was signed")


def approval_line(signature, at: str, meaning: str):
    """An approver's signature line: who, what it means, when, the hash of what was signed."""
    return _("Approved under electronic signature: ${name} (${user}), ${meaning}, ${at}; "
             "SHA-256 of what was signed ${sha256}",
             mapping={"name": signature.full_name, "user": signature.signer,
                      "meaning": meaning, "at": at,
                      "sha256": signature.content_sha256})  # fmt: skip


KINDS = {"product_type": _("Same product and type"), "batch": _("Same batch")}
COLUMNS = {
    "value": _("Value"), "count": _("Count"), "dimension": _("Dimension"),
    "product": _("Product"), "complaint_type": _("Type"), "batch_no": _("Batch number"),
    "kind": _("Recurrence"), "complaint_nos": _("Complaint numbers"), "mean": _("Mean"),
    "ucl": _("Upper control limit"), "above": _("Periods above the limit"),
    "period": _("Period"), "heading": _("Heading"), "key": _("Field"),
}  # fmt: skip
NOT_COMPUTED = _("not computed")


def more_numbers(count: int):
    return _("and ${count} more: every number is in the workbook", mapping={"count": count})


VERIFY_HOW = _(
    "To verify offline: remove `signature`, serialise the rest as canonical JSON (sorted "
    "keys, compact separators, UTF-8) and check the Ed25519 signature with `public_key`, "
    "and that its fingerprint is the one the archive publishes (`archive certificate "
    "key`); `archive report verify FILE.json --public-key KEY` does this."
)


def words_for(translate: Callable[[TranslationString], str]) -> Callable[[object], str]:
    """`words(value)`: a catalogue message translated, or a code's label, or the value."""

    def words(value) -> str:
        if isinstance(value, TranslationString):
            return translate(value)
        return translate(label(value)) if isinstance(label(value), TranslationString) else (
            "" if value is None else str(value))  # fmt: skip

    return words


def chinese() -> Callable[[object], str]:
    """The printable review's words: Chinese, from the catalogue."""
    return words_for(catalogue("zh_CN").translate)


def as_percent(share) -> str:
    return "" if share is None else f"{100 * share:.1f}%"
