"""The demo's products, shared by the showcase dossiers (corpus.py) and the quality history
(trends.py), so that one product reads the same in both: its specification, its maker."""

from __future__ import annotations

# (name, specification, manufacturer, batch prefix). The history takes the first eight.
PRODUCTS = [
    ("阿莫西林胶囊", "0.25g×24粒", "华康制药有限公司", "AM"),
    ("头孢克肟分散片", "0.1g×6片", "瑞丰药业股份有限公司", "CF"),
    ("布洛芬缓释胶囊", "0.3g×20粒", "华康制药有限公司", "BL"),
    ("复方甘草片", "100片/瓶", "北方药业集团", "FG"),
    ("板蓝根颗粒", "10g×20袋", "岭南中药厂", "BG"),
    ("维生素C泡腾片", "1g×10片", "康源保健品有限公司", "VC"),
    ("奥美拉唑肠溶胶囊", "20mg×14粒", "瑞丰药业股份有限公司", "OM"),
    ("硝苯地平控释片", "30mg×7片", "北方药业集团", "XB"),
    ("二甲双胍缓释片", "0.5g×30片", "华康制药有限公司", "EJ"),
    ("阿奇霉素干混悬剂", "0.1g×6袋", "岭南制药有限公司", "AQ"),
]


def product_metadata(product: tuple, batch_no: str, expiry: str | None) -> dict:
    """One of PRODUCTS as a dossier's `products` entry (contract §4); no expiry, no member."""
    name, specification, manufacturer, _prefix = product
    entry = {"name": name, "specification": specification, "batch_no": batch_no,
             "manufacturer": manufacturer}  # fmt: skip
    if expiry is not None:
        entry["expiry"] = expiry
    return entry
