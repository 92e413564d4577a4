"""Destruction certificates: canonical JSON signed with Ed25519, chained, rendered as PDF.

Anyone can verify one offline with the contract's rules alone (§6): the canonical JSON of the
certificate without `signature`, checked against `public_key`; `previous_certificate_sha256`
is the SHA-256 of the previous certificate's canonical JSON, signature included.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
from datetime import date, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ..fonts import pdf_cjk_font

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
    ("证书编号", "Certificate", "certificate_id"),
    ("运行编号", "Run", "run_id"),
    ("签发时间", "Issued at", "issued_at"),
    ("判定日期", "As of", "as_of"),
    ("操作人", "Operator", "operator"),
    ("销毁方式", "Method", "method"),
)


def canonical_json(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


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
) -> dict:
    public_key = signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    body = {
        "certificate_id": certificate_id,
        "run_id": run_id,
        "issued_at": issued_at.isoformat(),
        "as_of": as_of.isoformat(),
        "operator": operator,
        "method": method,
        "records": records,
        "previous_certificate_sha256": certificate_sha256(previous) if previous else None,
        "public_key": base64.b64encode(public_key).decode("ascii"),
    }
    if access_log_checkpoint is not None:
        body["access_log_checkpoint"] = access_log_checkpoint
    signature = signing_key.sign(canonical_json(body))
    return body | {"signature": base64.b64encode(signature).decode("ascii")}


def verify_certificate(
    certificate: dict, previous: dict | None = None, trusted_public_key: bytes | None = None
) -> list[str]:
    """Problems found, one sentence each; an empty list means the certificate is valid."""
    if not isinstance(certificate, dict):
        return ["The certificate is not a JSON object."]
    problems = [f"The field {name} is missing." for name in FIELDS if name not in certificate]
    if problems:
        return problems
    if not isinstance(certificate["records"], list):
        problems.append("records must be a list.")
    try:
        public_key = base64.b64decode(certificate["public_key"], validate=True)
        signature = base64.b64decode(certificate["signature"], validate=True)
    except (binascii.Error, TypeError, ValueError):
        return problems + ["public_key or signature is not base64."]
    if len(public_key) != 32:
        return problems + ["public_key is not a raw 32-byte Ed25519 key."]
    if trusted_public_key is not None and public_key != trusted_public_key:
        problems.append("The certificate was signed with a key that is not the archive's.")
    unsigned = {key: value for key, value in certificate.items() if key != "signature"}
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, canonical_json(unsigned))
    except InvalidSignature:
        problems.append("The signature does not match the certificate's content.")
    if previous is not None:
        if certificate["previous_certificate_sha256"] != certificate_sha256(previous):
            problems.append("previous_certificate_sha256 does not match the previous certificate.")
    return problems


# -- the printable rendering ------------------------------------------------------------------


TABLE_ROWS = 400


def _row(record: dict) -> list[str]:
    documents = record.get("documents", [])
    return [str(value or "") for value in (
        record.get("complaint_no"), record.get("complaint_class"), record.get("complaint_type"),
        record.get("received_on"), record.get("closed_on"), record.get("destroy_after"),
        (record.get("destroyed_at") or "")[:19],
        f"{len(documents)} / {sum(d.get('size', 0) for d in documents)} B",
    )]  # fmt: skip


def render_pdf(certificate: dict) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

    font = pdf_cjk_font()
    text = ParagraphStyle("text", fontName=font, fontSize=9, leading=13)
    title = ParagraphStyle("title", parent=text, fontSize=16, leading=22)
    mono = ParagraphStyle("mono", parent=text, fontName="Courier", fontSize=7, leading=9)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        invariant=1,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        title="Certificate of Destruction",
    )
    story = [Paragraph("数据销毁证书 / Certificate of Destruction", title), Spacer(1, 4 * mm)]
    for zh, en, key in HEADINGS:
        story.append(Paragraph(f"<b>{zh} / {en}</b>: {_escape(certificate.get(key))}", text))
    story.append(Spacer(1, 4 * mm))
    header = ["投诉编号\nComplaint", "类别\nClass", "类型\nType", "受理\nReceived"]
    header += ["结案\nClosed", "销毁日\nDestroy after", "销毁于\nDestroyed at", "文件\nDocuments"]
    style = TableStyle([
        ("FONT", (0, 0), (-1, -1), font, 8, 11),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ])  # fmt: skip
    widths = [30 * mm, 12 * mm, 28 * mm, 20 * mm, 20 * mm, 20 * mm, 26 * mm, 24 * mm]
    # Plain-text cells in tables of a few hundred rows: a run that destroys ten thousand
    # dossiers renders in seconds and tens of megabytes (one table of Paragraphs took
    # minutes and hundreds of megabytes).
    records = certificate.get("records", [])
    for start in range(0, max(len(records), 1), TABLE_ROWS):
        rows = [header] + [_row(record) for record in records[start:start + TABLE_ROWS]]
        table = LongTable(rows, repeatRows=1, colWidths=widths)
        table.setStyle(style)
        story.append(table)
    story.append(Spacer(1, 4 * mm))
    for label, key in (
        ("Previous certificate SHA-256", "previous_certificate_sha256"),
        ("Ed25519 public key", "public_key"),
        ("Signature", "signature"),
    ):
        story.append(Paragraph(f"<b>{label}</b>", text))
        story.append(Paragraph(_escape(certificate.get(key)), mono))
    story += [
        Spacer(1, 4 * mm),
        Paragraph(
            "核验方法：去掉 signature 字段，按键名排序、紧凑分隔符、UTF-8 生成规范 JSON，"
            "用 public_key 验证 Ed25519 签名。"
            "/ To verify offline: remove `signature`, serialise the rest as canonical JSON "
            "(sorted keys, compact separators, UTF-8) and check the Ed25519 "
            "signature with `public_key`; `archive certificate verify FILE.json` does this.",
            text,
        ),
    ]
    document.build(story)
    return buffer.getvalue()


def _escape(value) -> str:
    text = "" if value is None else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
