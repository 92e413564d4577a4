"""Our search side by side with tantivy on the same entries and queries, totals checked equal.

    nice -n 5 .venv/bin/python bench/tantivy_compare.py [--dossiers 100000] [--queries 200]
        [--keep DIR] [--only CLASS] [--check-whoosh]

Needs the benchmark-only extra: `.venv/bin/pip install -e '.[bench]'` (tantivy 0.27).

The entries are `bench/search.py`'s synthetic ones (seeded), built into a throw-away index by
`SearchIndex.rebuild` and into a tantivy index, one after the other in this process. tantivy
gets the terms our analyzer produces (`analysis.query_terms`: CJK bigrams, Latin and digit runs
lower-cased) joined by spaces, in fields of its `whitespace` tokenizer; keyword fields use its
`raw` one; the same fields as our schema (phrase fields with positions, the document text with
frequencies only). Each of our queries (`engine.build_query`, ANDed with
`engine.security_filter`: the caller's levels and living states) is translated term for term
into tantivy's, so both answer the same question; per query the totals and the five facets'
counts must be equal, or the run prints the mismatch and exits 1. tantivy's answer is what
ours returns: the total, the page's 20 hits (stored ids read) by BM25 or by date, and the
facet counts (a terms aggregation over fast fields); highlights are ours alone.

Per class of `bench/search.py`: "first" is the first query of the class on a freshly opened
index (a new `SearchIndex`, a new `tantivy.Index`: empty caches, as after a server start;
the files are in the page cache for both), then the class's queries run once to warm up and
once timed (p50, p95). Build times: ours is `SearchIndex.rebuild` with `--processes` writers
(`archive reindex` uses 2); tantivy's is our analysis of every field plus its writer (2
threads), with the writer's share printed beside it; each also as CPU time (ours: this
process and its writer processes; tantivy's: this process, all threads). `--check-whoosh`
also checks each distinct query's page (ids, scores, highlights) against the one Whoosh's
own matchers and highlighter give (`ranking.scored`, `whoosh.highlight`), after the timings.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tantivy  # noqa: E402
from search import LEVELS, entries, query_suites  # noqa: E402
from whoosh.highlight import ContextFragmenter, HtmlFormatter, highlight  # noqa: E402
from whoosh.query import And, DateRange, Every, Or, Phrase, Term  # noqa: E402

from archive_app.demo.corpus import PRODUCTS  # noqa: E402
from archive_app.search import engine, ranking  # noqa: E402
from archive_app.search.analysis import cjk_analyzer, query_terms  # noqa: E402
from archive_app.search.engine import (  # noqa: E402
    FACETS,
    SearchIndex,
    build_query,
    security_filter,
)

ANALYZED = ("title", "product", "manufacturer", "summary", "text")
KEYWORDS = ("id", "complaint_no", "batch_no", "complaint_class", "complaint_type", "outcome",
            "channel", "department", "confidentiality", "state", "product_name")  # fmt: skip
FAST = ("complaint_class", "complaint_type", "outcome", "product_name")
CALLER_LEVELS = LEVELS[:2]  # bench/search.py's caller: internal and confidential


def tantivy_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for name in ANALYZED:
        # Our document text has no positions (schema.py): frequencies only, for BM25.
        option = "freq" if name == "text" else "position"
        builder.add_text_field(name, stored=name != "text", tokenizer_name="whitespace",
                               index_option=option)  # fmt: skip
    for name in KEYWORDS:
        builder.add_text_field(name, stored=name in ("id", "complaint_no"), fast=name in FAST,
                               tokenizer_name="raw", index_option="basic")  # fmt: skip
    builder.add_integer_field("year", stored=True, indexed=True, fast=True)
    builder.add_date_field("received_on", stored=True, indexed=True, fast=True)
    builder.add_date_field("closed_on", stored=True)
    return builder.build()


def tantivy_document(entry: dict) -> tuple[tantivy.Document, float]:
    """The entry as a tantivy document, and the seconds our analysis of it took."""
    document = tantivy.Document()
    started = time.perf_counter()
    analyzed = {}
    for name in ANALYZED:
        value = entry.get(name)
        if isinstance(value, list):
            value = " ".join(value)
        if value:
            analyzed[name] = " ".join(query_terms(value))
    analysis = time.perf_counter() - started
    for name, tokens in analyzed.items():
        document.add_text(name, tokens)
    for name in KEYWORDS:
        values = entry.get(name)
        for value in values if isinstance(values, list) else [values]:
            if value:
                # Our batch_no is a lower-cased KEYWORD; the others are exact IDs.
                document.add_text(name, value.lower() if name == "batch_no" else value)
    document.add_integer("year", entry["year"])
    for name in ("received_on", "closed_on"):
        document.add_date(name, datetime.combine(entry[name], datetime.min.time()))
    return document, analysis


def build_tantivy(folder: Path, count: int) -> tuple[float, float]:
    """Index the entries; (seconds in all, seconds of our analysis among them)."""
    started = time.perf_counter()
    index = tantivy.Index(tantivy_schema(), path=str(folder))
    writer = index.writer(heap_size=256_000_000, num_threads=2)
    analysis = 0.0
    for entry in entries(count):
        document, seconds = tantivy_document(entry)
        analysis += seconds
        writer.add_document(document)
    writer.commit()
    writer.wait_merging_threads()
    return time.perf_counter() - started, analysis


class TantivySearch:
    """A freshly opened tantivy index, queried as our engine is: our query tree translated."""

    def __init__(self, folder: Path):
        self.index = tantivy.Index.open(str(folder))
        self.schema = self.index.schema
        self.searcher = self.index.searcher()

    def translate(self, query):
        if isinstance(query, Term):
            return tantivy.Query.term_query(self.schema, query.fieldname, query.text)
        if isinstance(query, And | Or):
            occur = tantivy.Occur.Must if isinstance(query, And) else tantivy.Occur.Should
            return tantivy.Query.boolean_query([(occur, self.translate(part))
                                                for part in query.subqueries])  # fmt: skip
        if isinstance(query, Phrase):
            return tantivy.Query.phrase_query(self.schema, query.fieldname, list(query.words))
        if isinstance(query, DateRange):
            return tantivy.Query.range_query(self.schema, query.fieldname,
                                             tantivy.FieldType.Date, query.startdate,
                                             query.enddate)  # fmt: skip
        if isinstance(query, Every):
            return tantivy.Query.all_query()
        raise TypeError(f"no translation for {query!r}")

    def search(self, query, levels) -> tuple[int, dict]:
        """(total, facet counts) of the query, its page of 20 read as ours is."""
        full = self.translate(And([build_query(query), security_filter(query, levels)]))
        sort = {"order_by_field": "received_on"} if query.sort == "received_on" else {}
        found = self.searcher.search(full, limit=query.per_page, count=True, **sort)
        for _, address in found.hits:
            self.searcher.doc(address)["id"]
        aggregation = {name: {"terms": {"field": name, "size": 10_000}} for name in FACETS}
        buckets = self.searcher.aggregate(full, aggregation)
        # Our facet values are strings (the year too).
        facets = {name: {str(b["key"]): b["doc_count"] for b in buckets[name]["buckets"]}
                  for name in FACETS}  # fmt: skip
        facets["product"] = facets.pop("product_name")
        return found.count, facets


class OurSearch:
    def __init__(self, folder: Path):
        self.index = SearchIndex(folder)

    def search(self, query, levels) -> tuple[int, dict]:
        result = self.index.search(query, levels)
        return result.total, result.facets


class Timings(NamedTuple):
    first: float
    first_cpu: float
    p50: float
    p95: float
    p50_cpu: float
    p95_cpu: float
    answers: list


def run_class(engine, queries) -> Timings:
    """Milliseconds of the first query on a fresh engine, then of the queries warm, each as
    wall and CPU time (of every thread of the process: what a query costs on a shared
    machine, where waiting for a core can be most of the wall time); the warm answers."""
    started, cpu = time.perf_counter(), time.process_time()
    engine.search(queries[0], CALLER_LEVELS)
    first = (time.perf_counter() - started) * 1000
    first_cpu = (time.process_time() - cpu) * 1000
    answers = [engine.search(query, CALLER_LEVELS) for query in queries]  # warm-up
    timings, cpu_timings = [], []
    for query in queries:
        started, cpu = time.perf_counter(), time.process_time()
        engine.search(query, CALLER_LEVELS)
        timings.append((time.perf_counter() - started) * 1000)
        cpu_timings.append((time.process_time() - cpu) * 1000)
    return Timings(first, first_cpu, *percentiles(timings), *percentiles(cpu_timings), answers)


def whoosh_pages(folder: Path, queries) -> int:
    """Our pages of each distinct query against Whoosh's own: the window scored by its
    matchers (`ranking.scored`) and the hits highlighted by its highlighter. The number of
    queries whose pages differ (each printed)."""
    ours, theirs = SearchIndex(folder), SearchIndex(folder)
    differ = 0
    for query in dict.fromkeys(queries):
        mine = ours.search(query, CALLER_LEVELS).hits
        with whoosh_ranking():
            reference = theirs.search(query, CALLER_LEVELS).hits
        if mine != reference:
            differ += 1
            print(f"PAGE DIFFERS {query}: ours {mine[:2]}, Whoosh's {reference[:2]}")
    return differ


class whoosh_ranking:
    """Within it, the engine scores and highlights with Whoosh's own code."""

    def __enter__(self):
        self.saved = ranking.window_scores, engine.snippets.highlight
        ranking.window_scores = lambda *arguments: None
        engine.snippets.highlight = lambda text, words: highlight(
            text, words, cjk_analyzer(), ContextFragmenter(charlimit=20_000),
            HtmlFormatter(tagname="mark"))  # fmt: skip

    def __exit__(self, *exception):
        ranking.window_scores, engine.snippets.highlight = self.saved


def percentiles(timings: list[float]) -> tuple[float, float]:
    timings = sorted(timings)
    return statistics.median(timings), timings[int(len(timings) * 0.95)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dossiers", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200, help="per class")
    parser.add_argument("--processes", type=int, default=2, help="our rebuild's writers")
    parser.add_argument("--only", help="run only the classes whose name contains this")
    parser.add_argument("--check-whoosh", action="store_true",
                        help="also check each distinct query's page (ids, scores, highlights) "
                        "against Whoosh's own scoring and highlighter")  # fmt: skip
    parser.add_argument("--keep", type=Path,
                        help="build both indexes in this folder and keep them; if they are "
                        "there already, time the queries on them without building")  # fmt: skip
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        return compare(args.keep, args)
    root = Path(tempfile.mkdtemp(prefix="bench-tantivy-"))
    try:
        return compare(root, args)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def build(root: Path, args) -> None:
    """Both builds, each as wall time and CPU time: ours of this process and of its writer
    processes (children), tantivy's of this process (all its threads)."""
    ours = SearchIndex(root / "ours")
    started, cpu, children = time.perf_counter(), time.process_time(), children_cpu()
    ours.rebuild(entries(args.dossiers), processes=args.processes)
    our_build = time.perf_counter() - started
    our_cpu = time.process_time() - cpu + children_cpu() - children
    (root / "tantivy").mkdir()
    cpu = time.process_time()
    their_build, analysis = build_tantivy(root / "tantivy", args.dossiers)
    their_cpu = time.process_time() - cpu
    print(f"build: ours {our_build:.1f} s, CPU {our_cpu:.1f} s ({args.processes} writer "
          f"processes; {args.dossiers / our_build:.0f} entries/s), tantivy {their_build:.1f} s, "
          f"CPU {their_cpu:.1f} s (our analysis {analysis:.1f} s of it, its writer "
          f"{their_build - analysis:.1f} s): {our_build / their_build:.1f}x wall, "
          f"{our_cpu / their_cpu:.1f}x CPU; load average {os.getloadavg()[0]:.1f}")  # fmt: skip


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def compare(root: Path, args) -> int:
    print(f"{args.dossiers} entries, {args.queries} queries per class; load average "
          f"{'/'.join(f'{x:.1f}' for x in os.getloadavg())} at the start")  # fmt: skip
    if (root / "ours" / "CURRENT").exists() and (root / "tantivy" / "meta.json").exists():
        print(f"build: both indexes kept in {root} by an earlier run, not built again")
    else:
        build(root, args)

    rng = random.Random(3)
    batches = [f"{p[3]}2305{rng.randrange(1, 40):03d}" for p in rng.choices(PRODUCTS, k=200)]
    suites = query_suites(batches, 2021, args.queries)
    mismatches = 0
    print("class | first ours / tantivy ms (CPU) | p50 ours / tantivy (CPU) | "
          "p95 ours / tantivy (CPU) | p95 ours / tantivy x (CPU)")  # fmt: skip
    for name, pairs in suites.items():
        if args.only and args.only not in name:
            continue
        queries = [query for query, _ in pairs]
        our = run_class(OurSearch(root / "ours"), queries)
        their = run_class(TantivySearch(root / "tantivy"), queries)
        for query, mine, theirs in zip(queries, our.answers, their.answers, strict=True):
            if mine != theirs:
                mismatches += 1
                print(
                    f"MISMATCH {name} {query}: ours total {mine[0]}, tantivy {theirs[0]}"
                    + ("" if mine[0] != theirs[0] else f"; facets {mine[1]} / {theirs[1]}")
                )
                break
        if args.check_whoosh:
            mismatches += whoosh_pages(root / "ours", queries)
        print(f"{name} | {our.first:.1f} / {their.first:.1f} ({our.first_cpu:.0f} / "
              f"{their.first_cpu:.0f}) | {our.p50:.1f} / {their.p50:.1f} ({our.p50_cpu:.1f} / "
              f"{their.p50_cpu:.1f}) | {our.p95:.1f} / {their.p95:.1f} ({our.p95_cpu:.1f} / "
              f"{their.p95_cpu:.1f}) | {our.p95 / their.p95:.1f} "
              f"({our.p95_cpu / max(their.p95_cpu, 0.01):.1f})  (total of the first "
              f"{our.answers[0][0]}; load {os.getloadavg()[0]:.1f})")  # fmt: skip
    if mismatches:
        print(f"{mismatches} classes or pages with answers that differ")
        return 1
    print(
        "every query: equal totals and facet counts"
        + (", pages equal to Whoosh's own scoring and highlights" if args.check_whoosh else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
