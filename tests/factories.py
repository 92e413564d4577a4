"""Test data: valid dossier metadata and real documents (PDF, DOCX, XLSX, JPEG, PNG, EML)."""

from __future__ import annotations

import functools
import itertools
import json
from datetime import datetime

from archive_app.demo import documents

_numbers = itertools.count(100)


def complaint_no(complaint_class: str = "I", year: int = 2023) -> str:
    return f"TS-{complaint_class}-{year % 100:02d}-{next(_numbers):04d}"


def metadata(**overrides) -> dict:
    """A valid justified dossier's metadata; overrides replace top-level keys."""
    complaint_class = overrides.get("complaint_class", "I")
    value = {
        "complaint_no": complaint_no(complaint_class),
        "complaint_class": complaint_class,
        "complaint_type": "intrinsic_quality",
        "title": "阿莫西林胶囊溶出度不合格投诉",
        "received_on": "2023-05-12",
        "closed_on": "2023-07-03",
        "channel": "phone",
        "department": "质量部",
        "customer": {
            "name": "张三丰",
            "organization": "仁和大药房",
            "phone": "13812345678",
            "address": "上海市浦东新区张江路 88 号",
        },
        "products": [
            {
                "name": "阿莫西林胶囊",
                "specification": "0.25g×24粒",
                "batch_no": "20230512",
                "expiry": "2025-06",
                "manufacturer": "华康制药有限公司",
            }
        ],
        "outcome": "justified",
        "measures": ["return"],
        "capa_ref": "CAPA-2023-017",
        "confidentiality": "confidential",
        "summary": "客户反映溶出度不合格，经检验属实，已退货并启动纠正预防措施。",
    }
    value.update(overrides)
    return value


# Made once per text and kept: python-docx takes about 30 ms a document and reportlab 8 ms,
# and the tests file thousands of them (a fifth of the records tests' CPU). The bytes are the
# same either way: documents.py makes them deterministic.
@functools.cache
def pdf(text: str = "投诉客户信息登记表") -> bytes:
    return documents.make_pdf(text, [f"{text} TS-I-23-001", "客户反映胶囊溶出度不合格。"])


@functools.cache
def docx(text: str = "客户质量投诉处理单") -> bytes:
    return documents.make_docx(text, [text, "处理意见：退货。"])


def xlsx() -> bytes:
    return documents.make_xlsx("检验数据", [["项目", "结果"], ["溶出度", "62%"]])


def jpeg(seed: int = 1) -> bytes:
    return documents.make_jpeg("外包装照片", seed=seed)


def png(seed: int = 2) -> bytes:
    return documents.make_png("标签照片", seed=seed)


def eml() -> bytes:
    return documents.make_eml(
        "关于阿莫西林胶囊的投诉", "customer@example.com", "quality@example.com",
        "您好，我店购进的阿莫西林胶囊溶出度不合格。", datetime(2023, 5, 12, 9, 30),
    )  # fmt: skip


def complete_files(outcome: str = "justified") -> list[tuple[str, str, bytes]]:
    """WebTest upload tuples (part name, file name, bytes) that satisfy completeness."""
    files = [
        ("registration_form", "投诉客户信息登记表.pdf", pdf()),
        ("handling_sheet", "客户质量投诉处理单.docx", docx()),
    ]
    if outcome != "not_established":  # justified and unjustified are investigated
        files += [
            ("investigation_report", "调查报告.pdf", pdf("调查报告")),
            ("reply_report", "答复报告.docx", docx("答复报告")),
        ]
    return files


def metadata_part(value: dict | str | bytes) -> tuple[str, str]:
    """The `metadata` form field (WebTest sends it as a plain part)."""
    if isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False)
    return ("metadata", value)


def file_dossier(api, meta: dict | None = None, files=None, user: str = "archivist",
                 status: int = 201):  # fmt: skip
    """File a dossier through the API as `user` (`api`: the tests' Api): the multipart
    request, its `metadata` part and its files, asserting `status`; the response (`.json`
    is the dossier). Defaults: a valid dossier and the files its outcome needs."""
    meta = metadata() if meta is None else meta
    files = complete_files(meta.get("outcome", "justified")) if files is None else files
    return api.post("/api/v1/dossiers", user, params=[metadata_part(meta)],
                    upload_files=files, status=status)  # fmt: skip


def filled_form(app, number: str, title: str, batch_no: str):
    """The filing form with a not-established service complaint's fields filled (two
    documents complete it), no files."""
    form = app.get("/dossiers/new").forms["filing"]
    values = {
        "complaint_no": number, "complaint_class": "III", "complaint_type": "service",
        "title": title, "received_on": "2022-08-01", "closed_on": "2022-08-20",
        "channel": "visit", "outcome": "not_established", "confidentiality": "internal",
    }  # fmt: skip
    for name, value in values.items():
        form[name] = value
    form.set("name", "王五", index=0)
    form.set("name", "板蓝根颗粒", index=1)
    form["batch_no"] = batch_no
    return form
