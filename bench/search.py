"""Search benchmark: index build rate, query latency at the service, peak memory.

    .venv/bin/python bench/search.py [--dossiers 20000]

Builds N synthetic, realistic Chinese dossier entries (about 3 KB of text each, recurring
products and batches) straight into a throw-away index with `SearchIndex.rebuild`, then times
term, phrase, batch, product and date-range + facet queries (p50/p95 over 200 each) with the
caller's clearance trimming on, as the API runs them.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive_app.demo.corpus import PROBLEMS, PRODUCTS  # noqa: E402
from archive_app.search.engine import SearchIndex, SearchQuery  # noqa: E402

FILLER = (
    "经调查，该批次产品在运输过程中受潮，导致胶囊壳软化，溶出度检验结果低于标准要求。"
    "质量部已对同批号库存进行抽检，并与生产企业联系，要求其提供出厂检验报告和留样复检结果。"
    "客户要求退货并赔偿损失，经协商同意退货处理，并在后续配送中加强包装防护措施。"
)
LEVELS = ("internal", "confidential", "restricted")


def entries(count: int, seed: int = 7):
    rng = random.Random(seed)
    types = list(PROBLEMS)
    for number in range(count):
        name, spec, maker, prefix = PRODUCTS[number % len(PRODUCTS)]
        received = date(2019, 1, 1) + timedelta(days=rng.randrange(2500))
        batch = f"{prefix}{received:%y%m}{rng.randrange(1, 40):03d}"
        kind = types[number % len(types)]
        yield {
            "id": f"{number:032x}", "complaint_no": f"TS-I-{received:%y}-{number:05d}",
            "batch_no": [batch], "title": name + PROBLEMS[kind][0], "product": [name],
            "product_name": [name], "manufacturer": maker,
            "summary": PROBLEMS[kind][1], "text": FILLER * 8 + f" 批号{batch}",
            "complaint_class": ["I", "II", "III"][number % 3], "complaint_type": kind,
            "outcome": "justified", "confidentiality": LEVELS[number % 3], "state": "archived",
            "year": received.year, "received_on": received, "closed_on": received,
        }  # fmt: skip


def timed(index, queries, levels=LEVELS[:2]):
    timings = []
    for query in queries:
        started = time.perf_counter()
        index.search(query, levels)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dossiers", type=int, default=20_000)
    args = parser.parse_args()
    index = SearchIndex(Path(tempfile.mkdtemp(prefix="bench-search-")))
    started = time.perf_counter()
    index.rebuild(entries(args.dossiers), batch_size=2000)
    elapsed = time.perf_counter() - started
    print(f"rebuild of {args.dossiers} dossiers: {elapsed:.1f} s "
          f"({args.dossiers / elapsed:.0f} dossiers/s)")  # fmt: skip
    rng = random.Random(3)
    names = [p[0] for p in PRODUCTS]
    suites = {
        "term (two characters)": [SearchQuery(q=rng.choice(["溶出", "破损", "胶囊", "退货"]))
                                  for _ in range(200)],
        "word (4-6 characters)": [SearchQuery(q=rng.choice(names)[:4]) for _ in range(200)],
        "quoted phrase": [SearchQuery(q='"' + rng.choice(names) + '"') for _ in range(200)],
        "batch (exact)": [SearchQuery(batch_no=f"{p[3]}2305{rng.randrange(1, 40):03d}")
                          for p in rng.choices(PRODUCTS, k=200)],
        "product": [SearchQuery(product=rng.choice(names)[:2]) for _ in range(200)],
        "word + year window + facets": [
            SearchQuery(q="溶出", received_from=date(2021, 1, 1), received_to=date(2021, 12, 31))
            for _ in range(200)],
        "sorted by date": [SearchQuery(q="胶囊", sort="received_on") for _ in range(200)],
    }  # fmt: skip
    for name, queries in suites.items():
        p50, p95 = timed(index, queries)
        print(f"{name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (RSS): {peak:.0f} MB")


if __name__ == "__main__":
    main()
