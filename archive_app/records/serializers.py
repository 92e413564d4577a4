"""The JSON shapes of a dossier, said once: the full dossier (the API and the detail page),
the summary (search results), and the tombstone a destroyed dossier leaves (410 answers,
look-ups, destruction certificates)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import object_session

from .models import Document, DocumentText, Dossier


def heading(dossier: Dossier) -> dict:
    """What every living dossier's shape opens with: which complaint, what, when."""
    return {
        "id": dossier.id,
        "complaint_no": dossier.complaint_no,
        "complaint_class": dossier.complaint_class,
        "complaint_type": dossier.complaint_type,
        "title": dossier.title,
        "received_on": dossier.received_on.isoformat(),
        "closed_on": dossier.closed_on.isoformat(),
    }


def summary_products(dossier: Dossier) -> list[dict]:
    """Its products as a summary names them: which product, which batch."""
    return [{"name": p.name, "batch_no": p.batch_no} for p in dossier.products]


def dossier_json(dossier: Dossier, customer: dict) -> dict:
    """Every field of a living dossier; `customer` already decrypted, masked or not."""
    return {
        **heading(dossier),
        "channel": dossier.channel,
        "department": dossier.department,
        "customer": customer,
        "products": [
            {
                "name": product.name,
                "specification": product.specification,
                "batch_no": product.batch_no,
                "expiry": product.expiry,
                "manufacturer": product.manufacturer,
                "certified_on": product.certified_on.isoformat() if product.certified_on else None,
                "role": product.role,
            }
            for product in dossier.products
        ],
        "outcome": dossier.outcome,
        "measures": list(dossier.measures or []),
        "capa_ref": dossier.capa_ref,
        "confidentiality": dossier.confidentiality,
        "summary": dossier.summary,
        **quality_json(dossier),
        "state": dossier.state,
        "destroy_after": dossier.destroy_after.isoformat(),
        "retention_rule": describe_rule(dossier),
        "filed_by": dossier.filed_by,
        "filed_at": dossier.filed_at.isoformat(),
        "documents": [
            document_json(document, texts.get(document.id))
            for texts in [text_states(dossier)]
            for document in dossier.documents
        ],
    }


def quality_json(dossier: Dossier) -> dict:
    """The optional quality metadata (contract §8), null where none was filed."""
    return {
        "timeline": quality_object(dossier.timeline, TIMELINE_KEYS),
        "supplier": dossier.supplier,
        "adr_report_no": dossier.adr_report_no,
        "recall_no": dossier.recall_no,
        "qp_notified_on": dossier.qp_notified_on.isoformat() if dossier.qp_notified_on else None,
        "regulator_report": quality_object(dossier.regulator_report, REGULATOR_KEYS),
    }


TIMELINE_KEYS = ("acknowledged_on", "replied_on", "reminded_on", "closure",
                 "closure_approved_by", "extension")  # fmt: skip
REGULATOR_KEYS = ("authority", "reported_on", "reference")


def quality_object(stored: dict | None, keys: tuple[str, ...]) -> dict | None:
    """A stored JSON object with each of its keys (null where absent), in a fixed order."""
    return None if stored is None else {key: stored.get(key) for key in keys}


def summary(dossier: Dossier) -> dict:
    return {
        **heading(dossier),
        "state": dossier.state,
        "confidentiality": dossier.confidentiality,
        "products": summary_products(dossier),
    }


def tombstone(dossier: Dossier) -> dict:
    return {
        "id": dossier.id,
        "complaint_no": dossier.complaint_no,
        "complaint_class": dossier.complaint_class,
        "complaint_type": dossier.complaint_type,
        "received_on": dossier.received_on.isoformat(),
        "closed_on": dossier.closed_on.isoformat(),
        "destroy_after": dossier.destroy_after.isoformat(),
        "destroyed_at": dossier.destroyed_at.isoformat() if dossier.destroyed_at else None,
        "certificate_id": dossier.certificate_id,
        "documents": [{"sha256": d.sha256, "size": d.size} for d in dossier.documents],
    }


def describe_rule(dossier: Dossier) -> str:
    return (
        f"{dossier.retention_rule} v{dossier.retention_rule_version}: "
        f"{dossier.retention_derivation}"
    )


def text_states(dossier: Dossier) -> dict[str, tuple[str, str | None]]:
    """Each document's text state and reason (records/derived.py), in one query; a
    document not read yet (or of a kind without text, audio) has none."""
    session = object_session(dossier)
    ids = [document.id for document in dossier.documents]
    if session is None or not ids:
        return {}
    rows = select(DocumentText.document_id, DocumentText.state, DocumentText.reason)
    return {
        document_id: (state, reason)
        for document_id, state, reason in session.execute(
            rows.where(DocumentText.document_id.in_(ids))
        )
    }


def document_json(document: Document, text: tuple[str, str | None] | None = None) -> dict:
    """`text_state`: `extracted`, `ocr_pending`, `ocr_done`, `failed` (then `text_reason`
    says why), or None while the document is not read yet."""
    state, reason = text or (None, None)
    shape = {
        "id": document.id,
        "kind": document.kind,
        "filename": document.filename,
        "media_type": document.media_type,
        "size": document.size,
        "sha256": document.sha256,
        "text_state": state,
    }
    if state == "failed":
        shape["text_reason"] = reason
    return shape
