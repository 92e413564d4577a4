"""The demo's quality history: ten quarters of complaints ending with the last full quarter
before today, so that the ledger and the quarterly and annual reviews show real trends.

Planted for a reviewer to find (tests/functional/test_demo_data.py checks each):
- a recurring product problem: 布洛芬缓释胶囊 with `intrinsic_quality` four times within the
  last twelve months, two of them naming the same batch;
- an out-of-control quarter: `inner_packaging` two a quarter, then a spike in the last one
  (奥美拉唑肠溶胶囊 blisters that do not seal);
- all three outcomes, and handling timelines: most closed with the customer satisfied, some
  closed without feedback (seed §5.8) long enough after the reply and the reminder that the
  rule holds in mainland China's working days whatever the holidays.

The documents are small text files: the showcase dossiers (corpus.py) carry the PDFs, Word
files and pictures; these keep `archive init --demo` well under a minute.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from ..access.permissions import Level
from ..records.vocabulary import Closure, ComplaintType, Measure, Outcome
from ..workdays.calendar import packaged_working_day
from . import documents
from .products import PRODUCTS as ALL_PRODUCTS
from .products import product_metadata

QUARTERS = 10  # two and a half years: a review has four periods before it, and more
PER_TYPE_AND_QUARTER = 2
SPIKE_TYPE = ComplaintType.INNER_PACKAGING
SPIKE_COUNT = 16  # in the last quarter, against two a quarter before
RECURRING = ("布洛芬缓释胶囊", ComplaintType.INTRINSIC_QUALITY)
RECURRING_BATCH = "BL2509003"  # named by two of the recurring complaints
FIRST_NUMBER = 101  # the showcase dossiers (corpus.py) number from 001

# §5.8: the reminder no earlier than 25 working days after the reply, the closing no earlier
# than 10 after the reminder. In calendar days with room for the longest holiday (Spring
# Festival: eight days off, make-up Saturdays aside).
REMINDER_AFTER_REPLY = timedelta(days=48)
CLOSING_AFTER_REMINDER = timedelta(days=24)

PRODUCTS = ALL_PRODUCTS[:8]
# The types other than the spike's and the recurrence's take any product but these two, so
# that the planted patterns stay the only ones of their kind.
PLANTED_PRODUCTS = {"布洛芬缓释胶囊", "奥美拉唑肠溶胶囊"}
STORIES = {
    "adverse_reaction": ("服用后皮疹", "患者服用后出现皮疹、瘙痒，已停药就医并上报不良反应。"),
    "intrinsic_quality": ("溶出度偏低", "客户送检溶出度低于标准。"),
    "inner_packaging": ("铝塑板封口不严", "铝塑板热封不严，部分药片受潮。"),
    "outer_packaging": ("外箱压损", "到货外箱压损，中盒破裂。"),
    "packaging_design": ("说明书印刷模糊", "说明书用法用量印刷模糊。"),
    "service": ("配送延误", "订单延误送达，影响门店销售。"),
    "other": ("随货单批号不符", "随货同行单批号与实物不一致。"),
}
SUPPLIERS = ["国药控股分销中心", "九州通医药集团", "华润医药商业", "上海医药分销"]
SHOPS = ["仁和大药房", "百姓大药房", "惠民药店", "社区卫生服务中心", "市第一人民医院"]
SURNAMES = "王李张刘陈杨黄赵吴周"
LEVELS = [Level.INTERNAL, Level.INTERNAL, Level.INTERNAL, Level.CONFIDENTIAL, Level.RESTRICTED]
APPROVERS = ["王质量", "李主管", "陈经理"]


def last_full_quarter(today: date) -> tuple[int, int]:
    """(year, quarter) of the last quarter that ended before `today`."""
    quarter = (today.month - 1) // 3 + 1
    return (today.year, quarter - 1) if quarter > 1 else (today.year - 1, 4)


def demo_quarters(today: date, count: int = QUARTERS) -> list[tuple[int, int]]:
    """The `count` quarters ending with the last full one before `today`, oldest first."""
    year, quarter = last_full_quarter(today)
    quarters = []
    for _ in range(count):
        quarters.append((year, quarter))
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    return quarters[::-1]


def _day_in(rng: random.Random, year: int, quarter: int) -> date:
    first = date(year, 3 * quarter - 2, 1)
    return first + timedelta(days=rng.randint(0, 88))


def _plan(rng: random.Random, today: date) -> list[tuple[date, str, tuple]]:
    """(received_on, complaint type, product) of every trend complaint."""
    quarters = demo_quarters(today)
    ordinary = [p for p in PRODUCTS if p[0] not in PLANTED_PRODUCTS]
    spike_product = next(p for p in PRODUCTS if p[0] == "奥美拉唑肠溶胶囊")
    recurring_product = next(p for p in PRODUCTS if p[0] == RECURRING[0])
    plan = []
    for year, quarter in quarters:
        for complaint_type in ComplaintType:
            spike = complaint_type == SPIKE_TYPE and (year, quarter) == quarters[-1]
            for _ in range(SPIKE_COUNT if spike else PER_TYPE_AND_QUARTER):
                product = spike_product if spike else rng.choice(ordinary)
                plan.append((_day_in(rng, year, quarter), complaint_type, product))
    # The recurrence: one complaint in each of the last four quarters (within 12 months).
    for year, quarter in quarters[-4:]:
        plan.append((_day_in(rng, year, quarter), RECURRING[1], recurring_product))
    return sorted(plan, key=lambda item: item[0])


def build_trend_dossiers(today: date | None = None, seed: int = 2026) -> list[dict]:
    """The trend dossiers' metadata (contract §4 and §8), deterministic for a given day."""
    today = today or date.today()
    rng = random.Random(seed)
    dossiers, recurring_seen = [], 0
    for offset, (received, complaint_type, product) in enumerate(_plan(rng, today)):
        number = FIRST_NUMBER + offset
        complaint_class = ("I", "II", "III")[rng.choice((0, 1, 1, 2, 2, 2))]
        if complaint_type == ComplaintType.ADVERSE_REACTION:
            complaint_class = "I"
        name, prefix = product[0], product[3]
        made = received - timedelta(days=rng.randint(90, 300))
        batch = f"{prefix}{made:%y%m}{rng.randint(1, 4):03d}"
        if (name, complaint_type) == RECURRING:
            recurring_seen += 1
            if recurring_seen >= 3:
                batch = RECURRING_BATCH
        outcome = _outcome(rng, complaint_type, name)
        closure, timeline, closed = _timeline(rng, received, complaint_class, outcome, today)
        story_title, story = STORIES[complaint_type]
        justified = outcome == Outcome.JUSTIFIED
        measures = sorted(rng.sample([Measure.RETURN, Measure.COMPENSATION], rng.randint(1, 2)))
        if justified and complaint_type in (SPIKE_TYPE, ComplaintType.INTRINSIC_QUALITY):
            measures = sorted({*measures, Measure.RECALL}) if rng.random() < 0.3 else measures
        dossier = {
            "complaint_no": f"TS-{complaint_class}-{received.year % 100:02d}-{number:03d}",
            "complaint_class": complaint_class,
            "complaint_type": complaint_type,
            "title": f"{name}{story_title}投诉",
            "received_on": received.isoformat(),
            "closed_on": closed.isoformat(),
            "channel": rng.choice(["phone", "email", "wechat", "letter", "visit"]),
            "department": "质量部",
            "customer": {
                "name": rng.choice(SURNAMES) + rng.choice(["敏", "伟", "芳", "强", "静"]),
                "organization": rng.choice(SHOPS),
                "phone": f"139{rng.randint(0, 99999999):08d}",
            },
            "products": [product_metadata(product, batch, f"{made.year + 2}-{made.month:02d}")],
            "outcome": outcome,
            "measures": measures if justified else [],
            "capa_ref": f"CAPA-{received.year}-{number:03d}"
            if justified and rng.random() < 0.8
            else None,
            "confidentiality": LEVELS[number % len(LEVELS)],
            "summary": f"{story}{_verdict(outcome)}",
            "supplier": rng.choice(SUPPLIERS),
        }
        if timeline:
            dossier["timeline"] = timeline | {
                "closure": closure,
                "closure_approved_by": rng.choice(APPROVERS),
            }
        _references(dossier, rng, received, number)
        dossiers.append(dossier)
    return dossiers


def _outcome(rng: random.Random, complaint_type: str, name: str) -> Outcome:
    if name in PLANTED_PRODUCTS:  # the planted problems are real ones
        return Outcome.JUSTIFIED
    draw = rng.random()
    if complaint_type == ComplaintType.SERVICE and draw < 0.4 or draw < 0.12:
        return Outcome.NOT_ESTABLISHED
    return Outcome.UNJUSTIFIED if draw < 0.35 else Outcome.JUSTIFIED


def _timeline(rng, received: date, complaint_class: str, outcome: Outcome, today: date):
    """(closure, timeline without closure, closed_on)."""
    acknowledged = received + timedelta(days=1)
    if outcome == Outcome.NOT_ESTABLISHED:
        closed = received + timedelta(days=rng.randint(2, 6))
        return Closure.NOT_ESTABLISHED, {"acknowledged_on": acknowledged.isoformat()}, closed
    # Mostly within the class's time limit (I 5, II 10, III 15 working days), some late.
    limit_days = {"I": 6, "II": 13, "III": 19}[complaint_class]
    late = rng.random() < 0.15
    replied = received + timedelta(days=rng.randint(2, limit_days) + (20 if late else 0))
    latest = replied + REMINDER_AFTER_REPLY + CLOSING_AFTER_REMINDER + timedelta(days=6)
    # Only where the working-day calendar knows the year (the filing checks §5.8 with it).
    countable = latest < today and packaged_working_day(latest) is not None
    if countable and rng.random() < 0.15:
        reminded = replied + REMINDER_AFTER_REPLY + timedelta(days=rng.randint(0, 3))
        closed = reminded + CLOSING_AFTER_REMINDER + timedelta(days=rng.randint(0, 3))
        timeline = {
            "acknowledged_on": acknowledged.isoformat(),
            "replied_on": replied.isoformat(),
            "reminded_on": reminded.isoformat(),
        }
        return Closure.NO_FEEDBACK, timeline, closed
    closed = replied + timedelta(days=rng.randint(1, 10))
    timeline = {"acknowledged_on": acknowledged.isoformat(), "replied_on": replied.isoformat()}
    if late:  # a late reply had its time limit extended, with the reason and the approver
        timeline["extension"] = {
            "until": replied.isoformat(),
            "reason": "需委托外部实验室复检",
            "approved_by": "质量负责人 周明",
        }
    return Closure.CUSTOMER_SATISFIED, timeline, closed


def _verdict(outcome: Outcome) -> str:
    return {
        Outcome.JUSTIFIED: "经调查投诉合理，已采取纠正预防措施并书面答复。",
        Outcome.UNJUSTIFIED: "经调查投诉不合理，已书面答复客户。",
        Outcome.NOT_ESTABLISHED: "投诉不成立，处理单记录了理由。",
    }[outcome]


def _references(dossier: dict, rng: random.Random, received: date, number: int) -> None:
    """ADR, recall, QP and regulator references where the procedure calls for them."""
    year = received.year
    if dossier["complaint_type"] == ComplaintType.ADVERSE_REACTION:
        dossier["adr_report_no"] = f"ADR{year}SH{number:04d}"
        dossier["qp_notified_on"] = (received + timedelta(days=1)).isoformat()
        dossier["regulator_report"] = {
            "authority": "上海市药品监督管理局",
            "reported_on": (received + timedelta(days=2)).isoformat(),
            "reference": f"沪药监不良反应 {year}-{number:03d}",
        }
    if Measure.RECALL in dossier["measures"]:
        dossier["recall_no"] = f"ZH{year}RC{number:03d}"
        dossier["qp_notified_on"] = (received + timedelta(days=1)).isoformat()


def trend_files(dossier: dict) -> list[tuple[str, str, bytes]]:
    """Small text documents: the kinds the outcome needs (contract §4)."""
    facts = (
        f"投诉编号：{dossier['complaint_no']}\n产品：{dossier['products'][0]['name']}\n"
        f"批号：{dossier['products'][0]['batch_no']}\n{dossier['summary']}\n"
    )
    kinds = [
        ("registration_form", "登记表.txt", "投诉客户信息登记表"),
        ("handling_sheet", "处理单.txt", "客户质量投诉处理单"),
    ]
    if dossier["outcome"] != Outcome.NOT_ESTABLISHED:
        kinds += [
            ("investigation_report", "调查报告.txt", "调查报告"),
            ("reply_report", "答复报告.txt", "答复报告"),
        ]
    return [(kind, name, documents.make_text(f"{title}\n{facts}")) for kind, name, title in kinds]
