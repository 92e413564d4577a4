"""A deterministic, realistic demo archive: Chinese complaint dossiers with real documents."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta
from pathlib import Path

from ..access.permissions import Level
from ..records.vocabulary import Channel, ComplaintClass, Measure, Outcome
from . import documents, scans
from .products import PRODUCTS, product_metadata
from .trends import build_trend_dossiers, trend_files

DEMO_USERS = [
    {
        "username": "archivist",
        "role": "archivist",
        "clearance": "restricted",
        "password": "archivist-demo-2023",
    },
    {
        "username": "auditor",
        "role": "auditor",
        "clearance": "confidential",
        "password": "auditor-demo-2023",
    },
    {
        "username": "privacy",
        "role": "privacy_officer",
        "clearance": "internal",
        "password": "privacy-demo-2023",
    },
    {
        "username": "records",
        "role": "records_manager",
        "clearance": "restricted",
        "password": "records-demo-2023",
    },
    {"username": "admin", "role": "admin", "clearance": "internal", "password": "admin-demo-2023"},
]

PROBLEMS = {
    "adverse_reaction": ("服用后出现皮疹不良反应投诉", "患者服用后出现皮疹、瘙痒，已停药并就医。"),
    "intrinsic_quality": ("溶出度不合格投诉", "客户送检发现溶出度低于标准，要求退货。"),
    "inner_packaging": ("铝塑板漏封投诉", "部分铝塑板封口不严，药片受潮变色。"),
    "outer_packaging": ("外包装破损投诉", "到货时外箱压损，中盒破裂。"),
    "packaging_design": ("说明书字迹模糊投诉", "说明书印刷模糊，用法用量无法辨认。"),
    "service": ("配送延误投诉", "订单延误三天送达，影响门店销售。"),
    "other": ("票据与实物不符投诉", "随货同行单批号与实物批号不一致。"),
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛"]
SHOPS = [
    "仁和大药房",
    "康宁诊所",
    "百姓大药房",
    "市第一人民医院",
    "惠民药店",
    "同济医院药剂科",
    "益丰大药房",
    "社区卫生服务中心",
    "老百姓大药房",
    "华东医院药剂科",
]
CITIES = ["上海市浦东新区", "杭州市西湖区", "南京市鼓楼区", "苏州市姑苏区", "合肥市蜀山区"]
STREETS = ["中山路", "人民路", "解放路"]
CHANNELS = list(Channel)
DEPARTMENTS = ["质量部", "销售部", "储运部", "采购部"]
LEVELS = [Level.INTERNAL, Level.INTERNAL, Level.CONFIDENTIAL, Level.CONFIDENTIAL, Level.RESTRICTED]


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def _product(rng: random.Random, received: date, index: int) -> dict:
    product = PRODUCTS[index % len(PRODUCTS)]
    made = received - timedelta(days=rng.randint(60, 400))
    # A few shared batches per product, so auditors find several dossiers per batch.
    batch = f"{product[3]}{made.year % 100:02d}{made.month:02d}{rng.randint(1, 3):03d}"
    if rng.random() < 0.5:
        batch = f"{made:%Y%m}{rng.randint(1, 3):02d}"
    expiry_year, expiry = made.year + rng.choice([2, 3]), None
    if rng.random() < 0.85:
        expiry = (
            f"{expiry_year}-{made.month:02d}"
            if rng.random() < 0.7
            else f"{expiry_year}-{made.month:02d}-{min(made.day, 28):02d}"
        )
    return product_metadata(product, batch, expiry)


def build_demo_dossiers(count: int = 36, seed: int = 2023) -> list[dict]:
    rng = random.Random(seed)
    types = list(PROBLEMS)
    dossiers = []
    for index in range(count):
        complaint_class = list(ComplaintClass)[index % 3]
        complaint_type = types[index % len(types)]
        received = date(2021 + index % 5, 1 + (index * 5) % 12, 1 + (index * 7) % 27)
        closed = min(received + timedelta(days=rng.randint(5, 60)), date(2025, 12, 31))
        products = [_product(rng, received, index + n) for n in range(1 + (index % 4 == 0))]
        title_suffix, story = PROBLEMS[complaint_type]
        # One in eight not established (closed without investigation), one in eight
        # investigated and found unjustified, the rest justified.
        outcome = {3: Outcome.NOT_ESTABLISHED, 7: Outcome.UNJUSTIFIED}.get(
            index % 8, Outcome.JUSTIFIED
        )
        justified = outcome == Outcome.JUSTIFIED
        city = rng.choice(CITIES)
        verdict = {Outcome.JUSTIFIED: "经调查投诉合理", Outcome.UNJUSTIFIED: "经调查投诉不合理",
                   Outcome.NOT_ESTABLISHED: "投诉不成立"}[outcome]  # fmt: skip
        dossiers.append(
            {
                "complaint_no": f"TS-{complaint_class}-{received.year % 100:02d}-{index + 1:03d}",
                "complaint_class": complaint_class,
                "complaint_type": complaint_type,
                "title": products[0]["name"] + title_suffix,
                "received_on": received.isoformat(),
                "closed_on": closed.isoformat(),
                "channel": CHANNELS[index % len(CHANNELS)],
                "department": rng.choice(DEPARTMENTS),
                "customer": {
                    "name": _person(rng),
                    "organization": rng.choice(SHOPS),
                    "phone": rng.choice(["138", "139", "150", "186", "159"])
                    + f"{rng.randint(0, 99999999):08d}",
                    "address": f"{city}{rng.choice(STREETS)}{rng.randint(1, 300)}号",
                },
                "products": products,
                "outcome": outcome,
                "measures": sorted(rng.sample(list(Measure), rng.randint(1, 2)))
                if justified
                else [],
                "capa_ref": f"CAPA-{received.year}-{index + 1:03d}"
                if justified and index % 2
                else None,
                "confidentiality": LEVELS[index % len(LEVELS)],
                "summary": f"{story}{verdict}，已书面答复客户。",
            }
        )
    return dossiers


def _files_for(dossier: dict, index: int) -> list[tuple[str, str, bytes]]:
    number = dossier["complaint_no"]
    product = dossier["products"][0]
    customer = dossier["customer"]
    batches = "、".join(p["batch_no"] for p in dossier["products"])
    facts = [
        f"投诉编号：{number}",
        f"产品：{product['name']} {product['specification']}",
        f"批号：{batches}",
        f"客户：{customer['organization']}",
        f"投诉内容：{dossier['summary']}",
    ]
    files = [
        (
            "registration_form",
            "投诉客户信息登记表.pdf",
            documents.make_pdf("投诉客户信息登记表", facts),
        ),
        (
            "handling_sheet",
            "客户质量投诉处理单.xlsx" if index % 2 else "handling_sheet.docx",
            documents.make_xlsx(
                "处理单", [["项目", "内容"]] + [line.split("：", 1) for line in facts]
            )
            if index % 2
            else documents.make_docx("客户质量投诉处理单", facts),
        ),
    ]
    if dossier["outcome"] != Outcome.NOT_ESTABLISHED:  # investigated: both reports
        files.append(
            (
                "investigation_report",
                "调查报告.pdf",
                documents.make_pdf("调查报告", facts + ["结论：投诉成立，原因已查明。"]),
            )
        )
        files.append(
            (
                "reply_report",
                "reply_report.docx",
                documents.make_docx(
                    "答复报告", facts + ["处理措施：" + "、".join(dossier["measures"])]
                ),
            )
        )
    if index % 5 != 4:
        files.append(
            (
                "customer_acceptance",
                "客户确认.jpg",
                documents.make_jpeg(f"ACCEPTED {number}", seed=index),
            )
        )
    files.append(("attachment", "photo.png", documents.make_png(f"{number} package", seed=index)))
    files += scans.demo_scans(product["batch_no"], product["name"], index) if index % 4 == 0 else []
    files.append(
        (
            "attachment",
            "客户来信.eml",
            documents.make_eml(
                f"关于{product['name']}的投诉（{number}）",
                "customer@example.com",
                "quality@example.com",
                "\n".join(facts),
                datetime(2023, 1, 1, 9, 0),
            ),
        )
    )
    if index % 3 == 0:
        files.append(
            (
                "attachment",
                "检验数据.xlsx",
                documents.make_xlsx(
                    "检验数据", [["检验项目", "标准", "结果"], ["溶出度", "≥80%", f"{60 + index}%"]]
                ),
            )
        )
    if index % 4 == 1:
        files.append(
            (
                "attachment",
                "call-record.txt",
                documents.make_text(f"来电记录 {dossier['received_on']}\n{dossier['summary']}\n"),
            )
        )
    return files


def write_demo_archive(target: Path, count: int = 36, seed: int = 2023, *,
                       today: date | None = None, trends: bool = True) -> list[Path]:  # fmt: skip
    """Import-format folders (contract §5) under `target`, one per dossier: `count` showcase
    dossiers with documents of every kind, then (with `trends`) ten quarters of quality
    history ending with the last full quarter before `today` (trends.py)."""
    showcase = [(d, _files_for(d, i)) for i, d in enumerate(build_demo_dossiers(count, seed))]
    history = [(d, trend_files(d)) for d in build_trend_dossiers(today)] if trends else []
    folders = []
    for dossier, files in showcase + history:
        folder = Path(target) / dossier["complaint_no"]
        folder.mkdir(parents=True, exist_ok=True)
        listing = []
        for position, (kind, name, content) in enumerate(files):
            filename = f"{position:02d}-{name}"
            (folder / filename).write_bytes(content)
            listing.append({"kind": kind, "file": filename})
        metadata = {key: value for key, value in dossier.items() if value is not None}
        (folder / "dossier.json").write_text(
            json.dumps(metadata | {"documents": listing}, ensure_ascii=False, indent=2),
            encoding="utf-8",
        )
        folders.append(folder)
    return folders
