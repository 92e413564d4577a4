"""Destruction certificates: canonical JSON signed with Ed25519, chained, rendered as PDF.

Anyone can verify one offline with the contract's rules alone (§6): the canonical JSON of the
certificate without `signature`, checked against `public_key`; `previous_certificate_sha256`
is the SHA-256 of the previous certificate's canonical JSON, signature included. A
certificate is the archive's only when that key is the archive's (§7): the keyring's, or one
the verifier was given; the key a certificate carries proves nothing by itself. A new
signing key is announced in a certificate signed by the old one (`announces_public_key`, no
records), so a verifier holding the old key can follow the chain to the new one.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from translationstring import TranslationString, TranslationStringFactory

from ..fonts import pdf_cjk_font
from ..labels import catalogue, format_when, label
from ..vault.keyring import fingerprint
from ..vault.signatures import canonical_json, public_key_text, sign_document
from ..vault.signatures import raw_key as _raw_key
from ..vault.signatures import signature_problems as _signed_by
from .models import Certificate

_ = TranslationStringFactory("archive")

ANNOUNCES = "announces_public_key"
ROTATION_METHOD = "signing-key rotation"

FIELDS = (
    "certificate_id",
    "run_id",
    "issued_at",
    "as_of",
    "operator",
    "method",
    "records",
    "previous_certificate_sha256",
    "public_key",
    "signature",
)


HEADINGS = (
    (_("Certificate number"), "certificate_id"),
    (_("Run"), "run_id"),
    (_("Issued at"), "issued_at"),
    (_("As of"), "as_of"),
    (_("Operator"), "operator"),
    (_("Method"), "method"),
)


def certificate_sha256(certificate: dict) -> str:
    return hashlib.sha256(canonical_json(certificate)).hexdigest()


def build_certificate(
    *,
    certificate_id: str,
    run_id: str,
    issued_at: datetime,
    as_of: date,
    operator: str,
    method: str,
    records: list[dict],
    previous: dict | None,
    signing_key: Ed25519PrivateKey,
    access_log_checkpoint: dict | None = None,
    announces_public_key: bytes | None = None,
) -> dict:
    body = {
        "certificate_id": certificate_id,
        "run_id": run_id,
        "issued_at": issued_at.isoformat(),
        "as_of": as_of.isoformat(),
        "operator": operator,
        "method": method,
        "records": records,
        "previous_certificate_sha256": certificate_sha256(previous) if previous else None,
        "public_key": public_key_text(signing_key),
    }
    if access_log_checkpoint is not None:
        body["access_log_checkpoint"] = access_log_checkpoint
    if announces_public_key is not None:
        body[ANNOUNCES] = base64.b64encode(announces_public_key).decode("ascii")
    return sign_document(body, signing_key)


def verify_certificate(certificate: dict, trusted_keys, previous: dict | None = None) -> list[str]:
    """Problems found, one sentence each; an empty list means the certificate is valid.

    `trusted_keys` are the raw public keys of the archive (never empty): the certificate must
    be signed by one of them, or by a key that `previous` (itself signed by one of them)
    announces.
    """
    trusted = set(trusted_keys)
    if previous is not None:
        previous_problems = verify_certificate(previous, trusted)
        if previous_problems:
            return [f"The previous certificate is not valid: {previous_problems[0]}"]
        announced = announced_key(previous)
        if announced is not None:
            trusted.add(announced)
    problems = signature_problems(certificate, trusted)
    if problems:
        return problems
    if previous is not None:
        if certificate["previous_certificate_sha256"] != certificate_sha256(previous):
            problems.append("previous_certificate_sha256 does not match the previous certificate.")
    return problems


def signature_problems(certificate, trusted: set[bytes]) -> list[str]:
    """The certificate's shape, and its signature under one of the `trusted` keys."""
    if not isinstance(certificate, dict):
        return ["The certificate is not a JSON object."]
    problems = [f"The field {name} is missing." for name in FIELDS if name not in certificate]
    if problems:
        return problems
    if not isinstance(certificate["records"], list):
        problems.append("records must be a list.")
    signed = _signed_by(certificate, trusted, "certificate")
    if signed and signed[0].startswith(("signature is not", "public_key is not")):
        return problems + signed  # unreadable: nothing more to say about the rest
    if ANNOUNCES in certificate and _raw_key(certificate[ANNOUNCES]) is None:
        problems.append(f"{ANNOUNCES} is not the base64 of a raw 32-byte Ed25519 key.")
    return problems + signed


def announced_key(certificate: dict) -> bytes | None:
    return _raw_key(certificate.get(ANNOUNCES)) if isinstance(certificate, dict) else None


def check_stored_chain(rows, trusted_keys, current_key: bytes, exported) -> list[str]:
    """Every stored certificate, in chain order: one line per problem, naming its id.

    `rows` are (id, position, sha256, body) in position order; `trusted_keys` the keyring's
    (current and retired); `exported(id)` the exported JSON's text, or None when not written.
    Each certificate must be signed by the key in force at its place in the chain: the first
    by a key of the keyring, each later one by its predecessor's key, or by the key its
    predecessor announced.
    """
    trusted, problems = set(trusted_keys), []
    previous, expected_key, expected_position = None, None, 1
    for certificate_id, position, sha256, body in rows:
        name = f"certificate {certificate_id}"
        if position != expected_position:
            problems.append(f"{name}: at position {position}, expected {expected_position} "
                            "(a certificate was removed or inserted)")  # fmt: skip
        expected_position = position + 1
        try:
            certificate = json.loads(body)
        except (TypeError, ValueError):
            problems.append(f"{name}: not JSON")
            previous = None
            continue
        keys = trusted if expected_key is None else {expected_key}
        found = signature_problems(certificate, keys)
        problems += [f"{name}: {problem}" for problem in found]
        if isinstance(certificate, dict) and not found:
            if certificate["certificate_id"] != certificate_id:
                problems.append(f"{name}: its certificate_id is {certificate['certificate_id']}")
            if sha256 != certificate_sha256(certificate):
                problems.append(f"{name}: the recorded SHA-256 is not the certificate's")
            wanted = certificate_sha256(previous) if previous is not None else None
            if certificate["previous_certificate_sha256"] != wanted:
                problems.append(f"{name}: previous_certificate_sha256 does not match "
                                "the certificate before it")  # fmt: skip
            expected_key = announced_key(certificate) or _raw_key(certificate["public_key"])
        text = exported(certificate_id)
        if text is not None and _json_or_none(text) != certificate:
            problems.append(f"{name}: the exported {certificate_id}.json differs from the "
                            "stored certificate")  # fmt: skip
        previous = certificate
    if expected_key is not None and expected_key != current_key:
        problems.append(f"certificates: the keyring's signing key {fingerprint(current_key)} "
                        "was never announced in the chain")  # fmt: skip
    return problems


def _json_or_none(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return None


def announce_signing_key(
    session,
    *,
    old_key: Ed25519PrivateKey,
    new_public_key: bytes,
    now: datetime,
    today: date,
    operator: str,
) -> dict:
    """Add the certificate that hands the chain over to a new signing key, signed by the old
    one and chained like every certificate; it commits with `session`'s transaction."""
    previous_row = session.scalar(select(Certificate).order_by(Certificate.position.desc())
                                  .limit(1))  # fmt: skip
    certificate_id = uuid.uuid4().hex
    body = build_certificate(
        certificate_id=certificate_id, run_id=certificate_id, issued_at=now, as_of=today,
        operator=operator, method=ROTATION_METHOD, records=[],
        previous=json.loads(previous_row.body) if previous_row else None, signing_key=old_key,
        announces_public_key=new_public_key,
    )  # fmt: skip
    session.add(Certificate(
        id=certificate_id, run_id=certificate_id,
        position=(previous_row.position + 1) if previous_row else 1, issued_at=now,
        sha256=certificate_sha256(body),
        body=json.dumps(body, sort_keys=True, ensure_ascii=False)))  # fmt: skip
    session.flush()
    return body


# -- the printable rendering ------------------------------------------------------------------


TABLE_ROWS = 400
CELL_PADDING = 3  # points, each side of a table cell
EMPTY = "—"  # a value the record does not carry, never a blank cell


def _row(record: dict, zone: ZoneInfo) -> list[str]:
    documents = record.get("documents", [])
    destroyed_at = format_when(record.get("destroyed_at"), zone, with_zone=False)
    size = sum(d.get("size", 0) for d in documents)
    return [str(value) if value else EMPTY for value in (
        record.get("complaint_no"), _in_both(label(record.get("complaint_class")), "\n"),
        _in_both(label(record.get("complaint_type")), "\n"),
        record.get("received_on"), record.get("closed_on"), record.get("destroy_after"),
        destroyed_at.replace(" ", "\n", 1), f"{len(documents)}\n{size:,} B",
    )]  # fmt: skip


def _fitted(values: list[str], widths: list[float], font: str, size: float, wrapped) -> list:
    """Plain text where it fits its column, else a Paragraph that wraps inside it: a plain
    cell never wraps and would run over its neighbour. Plain text stays the common case, so
    a run of ten thousand dossiers still renders in seconds."""
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import Paragraph

    cells = []
    for value, width in zip(values, widths, strict=True):
        room = width - 2 * CELL_PADDING
        if max(stringWidth(line, font, size) for line in value.split("\n")) <= room:
            cells.append(value)
        else:
            cells.append(Paragraph(_escape(value).replace("\n", "<br/>"), wrapped))
    return cells


def _in_both(message, between: str = " / ") -> str:
    """The catalogue's Chinese and the English (the msgid) of one message: the contract's
    PDF is in both languages."""
    if not isinstance(message, TranslationString):
        return str(message)
    chinese = catalogue("zh_CN").translate(message)
    english = message.interpolate()
    return chinese if chinese == english else f"{chinese}{between}{english}"


def render_pdf(certificate: dict, zone: ZoneInfo, signatures=()) -> bytes:
    """The printable certificate, in Chinese and English; times in the archive's `zone`.
    `signatures` (access/signatures.py rows): the electronic signatures of the approval that
    made its run, printed as the approver's signature line."""
    # Imported here: ReportLab takes half a second, paid only by a PDF download or
    # export, not by every request and command that loads the certificates.
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

    font = pdf_cjk_font()
    text = ParagraphStyle("text", fontName=font, fontSize=9, leading=13)
    title = ParagraphStyle("title", parent=text, fontSize=16, leading=22)
    mono = ParagraphStyle("mono", parent=text, fontName="Courier", fontSize=7, leading=9)
    # Table cells too long for their column wrap anywhere (CJK rules: a complaint number or
    # a Chinese label has no spaces to break at).
    cell = ParagraphStyle("cell", parent=text, fontSize=8, leading=11, wordWrap="CJK")
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        invariant=1,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        title="Certificate of Destruction",
    )
    story = [Paragraph(_escape(_in_both(_("Certificate of Destruction"))), title),
             Spacer(1, 4 * mm)]  # fmt: skip
    if certificate.get("partial"):
        # A reader below some record's level gets the rest (retention/api.py): say so on the
        # page, since this rendering is not the signed certificate.
        withheld = _(
            "Partial view, not the signed certificate: ${count} record(s) above your "
            "clearance withheld",
            mapping={"count": certificate.get("withheld_records")},
        )
        story += [Paragraph(f"<b>{_escape(_in_both(withheld))}</b>", text),
                  Spacer(1, 2 * mm)]  # fmt: skip
    for heading, key in HEADINGS:
        value = certificate.get(key)
        if key == "issued_at":
            value = format_when(value, zone)
        elif key == "method":
            value = _in_both(label(value))
        story.append(Paragraph(f"<b>{_escape(_in_both(heading))}</b>: {_escape(value)}", text))
    story.append(Spacer(1, 4 * mm))
    columns = (_("Complaint number"), _("Class"), _("Type"), _("Received on"), _("Closed on"),
               _("Destroy after"), _("Destroyed at"), _("Documents (count, size)"))  # fmt: skip
    header = [_in_both(column, "\n") for column in columns]
    header[6] += f"\n({zone.key})"
    style = TableStyle([
        ("FONT", (0, 0), (-1, -1), font, 8, 11),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
    ])  # fmt: skip
    # 180 mm: the A4 page inside its 15 mm margins.
    widths = [30 * mm, 18 * mm, 30 * mm, 19 * mm, 19 * mm, 19 * mm, 22 * mm, 23 * mm]
    header = _fitted(header, widths, font, 8, cell)
    # Tables of a few hundred rows, plain text where it fits: a run that destroys ten
    # thousand dossiers renders in seconds and tens of megabytes (one table of Paragraphs
    # took minutes and hundreds of megabytes).
    records = certificate.get("records", [])
    if not records:
        story.append(Paragraph(_escape(_in_both(_("No dossier was destroyed by this "
                                                  "certificate."))), text))  # fmt: skip
    for start in range(0, len(records), TABLE_ROWS):
        rows = [header] + [_fitted(_row(record, zone), widths, font, 8, cell)
                           for record in records[start : start + TABLE_ROWS]]  # fmt: skip
        table = LongTable(rows, repeatRows=1, colWidths=widths)
        table.setStyle(style)
        story.append(table)
    story.append(Spacer(1, 4 * mm))
    for signature in signatures:
        line = _("Approved under electronic signature: ${name} (${user}), ${meaning}, "
                 "${at}; SHA-256 of what was signed ${sha256}",
                 mapping={"name": signature.full_name, "user": signature.signer,
                          "meaning": _in_both(label(signature.meaning)),
                          "at": format_when(signature.signed_at.isoformat(), zone),
                          "sha256": signature.content_sha256})  # fmt: skip
        for words in {catalogue("zh_CN").translate(line): None, line.interpolate(): None}:
            story.append(Paragraph(f"<b>{_escape(words)}</b>", text))
    if signatures:
        story.append(Spacer(1, 4 * mm))
    for heading, key in (
        (_("Previous certificate SHA-256"), "previous_certificate_sha256"),
        (_("Ed25519 public key"), "public_key"),
        (_("Signing key fingerprint (SHA-256)"), "public_key"),
        (_("New signing key announced"), ANNOUNCES),
        (_("New key fingerprint (SHA-256)"), ANNOUNCES),
        (_("Signature"), "signature"),
    ):
        value, style = certificate.get(key), mono
        if value is None and key == ANNOUNCES:
            continue
        if "fingerprint" in heading:
            raw = _raw_key(value)
            value = fingerprint(raw) if raw else "?"
        elif value is None and key == "signature":  # a partial view carries none
            value, style = _in_both(_("none: a partial view is not signed")), text
        elif value is None:  # words, not a code: in the font that has Chinese
            value, style = _in_both(_("none (the first certificate)")), text
        story.append(Paragraph(f"<b>{_escape(_in_both(heading))}</b>", text))
        story.append(Paragraph(_escape(value), style))
    how = _(
        "To verify offline: remove `signature`, serialise the rest as canonical JSON (sorted "
        "keys, compact separators, UTF-8) and check the Ed25519 signature with `public_key`, "
        "and that its fingerprint is the one the archive publishes (`archive certificate "
        "key`); `archive certificate verify FILE.json --public-key KEY` does this."
    )
    story += [Spacer(1, 4 * mm), Paragraph(_escape(_in_both(how, " ")), text)]
    document.build(story)
    return buffer.getvalue()


def _escape(value) -> str:
    text = "" if value is None else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
