"""A destruction certificate as a page people read (`/retention/certificates/{id}`): who, when,
what was destroyed, the chain, and whether the signature holds under the archive's key."""

from __future__ import annotations

import base64
import binascii
import json

from pyramid.view import view_config
from sqlalchemy import select

from ..access.permissions import Permission
from ..errors import NotFound
from ..interfaces import IKeyring
from ..records.clearance import readable
from ..records.models import Dossier
from ..vault.keyring import fingerprint
from .api import (
    caller,
    certificate_row,
    log_certificate_reading,
    partial_certificate,
    show_certificate,
)
from .certificates import ANNOUNCES, certificate_sha256, verify_certificate
from .models import Certificate
from .signing import run_signatures


@view_config(route_name="retention.certificate", request_method="GET", accept="application/json",
             permission=Permission.READ_CERTIFICATES)  # fmt: skip
def certificate_json(request):
    """The same address asked for JSON (`Accept: application/json`): what the API answers,
    with the API's rule for records above the reader's clearance."""
    return show_certificate(request)


# Pyramid prefers text/html by default: a browser, or a client sending no Accept, gets the page.
@view_config(route_name="retention.certificate", request_method="GET", accept="text/html",
             renderer="archive_app:templates/retention/certificate.pt",
             permission=Permission.READ_CERTIFICATES)  # fmt: skip
def certificate_page(request):
    row = certificate_row(request)
    signed = json.loads(row.body)
    partial = partial_certificate(request, row)  # the API's rule: records above clearance go
    if partial is not None and signed.get("records") and not partial["records"]:
        # Nothing of it is the reader's to see: the page does not reveal that it exists.
        raise NotFound("no such certificate", field="certificate_id")
    shown = signed if partial is None else partial
    session = request.dbsession
    previous_row, next_row = (
        session.scalar(select(Certificate).where(Certificate.position == position))
        for position in (row.position - 1, row.position + 1)
    )
    log_certificate_reading(request, row, partial, "page")
    return {
        "certificate": shown,
        "row": row,
        "partial": partial is not None,
        "records": records_with_rules(request, shown.get("records", [])),
        "previous_row": previous_row,
        "next_row": next_row,
        "verified": signature_verified(request, signed, row, previous_row),
        "key_fingerprint": _fingerprint(shown.get("public_key")),
        "announced_fingerprint": _fingerprint(shown.get(ANNOUNCES)),
        "checkpoint": shown.get("access_log_checkpoint"),
        # The approver's electronic signature, for a run an approval made (retention/signing.py).
        "signatures": run_signatures(session, [row.run_id]).get(row.run_id, []),
    }


def records_with_rules(request, records: list[dict]) -> list[dict]:
    """Each tombstone with the retention rule that made it due (kept on the dossier's row)."""
    ids = [record.get("id") for record in records]
    query = select(Dossier.id, Dossier.retention_rule).where(Dossier.id.in_(ids))
    rules = dict(request.dbsession.execute(readable(query, caller(request))).all())
    documents = [record.get("documents") or [] for record in records]
    return [record | {"rule": rules.get(record.get("id")), "document_count": len(docs),
                      "document_bytes": sum(d.get("size", 0) for d in docs)}
            for record, docs in zip(records, documents, strict=True)]  # fmt: skip


def signature_verified(request, signed: dict, row: Certificate, previous_row) -> bool:
    """Signed by the archive's key (the keyring's, current or retired, or one the previous
    certificate announced), chained to the certificate before it, and stored unaltered."""
    previous = json.loads(previous_row.body) if previous_row is not None else None
    trusted = request.find_service(IKeyring).trusted_public_keys()
    problems = verify_certificate(signed, trusted, previous)
    if previous is None and signed.get("previous_certificate_sha256") is not None:
        problems.append("the previous certificate is missing")
    return not problems and row.sha256 == certificate_sha256(signed)


def _fingerprint(value) -> str | None:
    """A base64 raw public key's fingerprint, as `archive certificate key` prints it."""
    try:
        raw = base64.b64decode(value or "", validate=True)
    except (binascii.Error, TypeError, ValueError):
        return None
    return fingerprint(raw) if len(raw) == 32 else None
