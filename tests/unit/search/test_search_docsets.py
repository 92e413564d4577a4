"""Search by document sets: totals, facets and order agree with Whoosh walking every match,
through segments, deletions and cached bitmaps; relevance tiers and its rescoring window."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

import pytest
from whoosh.query import And

from archive_app.search import docsets, engine, ranking
from archive_app.search.engine import SearchIndex, SearchQuery, build_query, security_filter
from archive_app.search.schema import dossier_schema

WORDS = ["溶出度", "破损", "胶囊", "不良反应", "外包装", "发霉", "批号", "退货"]
PRODUCTS = ["阿莫西林胶囊", "头孢克肟分散片", "布洛芬缓释胶囊", "阿莫西林颗粒"]
LEVELS = ("internal", "confidential", "restricted")


def entries(count: int, seed: int, start: int = 0) -> list[dict]:
    rng = random.Random(seed)
    made = []
    for number in range(start, start + count):
        product = rng.choice(PRODUCTS)
        received = date(2019, 1, 1) + timedelta(days=rng.randrange(2000))
        made.append(dict(
            id=f"{number:04d}", complaint_no=f"TS-I-23-{number:04d}",
            batch_no=[f"B{number % 7:03d}"], title=product + rng.choice(WORDS) + "投诉",
            product=[product], product_name=[product], summary=rng.choice(WORDS) + "情况说明",
            text=" ".join(rng.sample(WORDS, 3)), complaint_class=rng.choice("I II III".split()),
            complaint_type=rng.choice(["intrinsic_quality", "packaging"]), outcome="justified",
            confidentiality=rng.choice(LEVELS), state=rng.choice(["archived"] * 5 + ["held"]),
            year=received.year, received_on=received, closed_on=received,
        ))  # fmt: skip
    return made


def three_segments(tmp_path, monkeypatch) -> SearchIndex:
    """120 entries in segments of 40 (tests add updates and removals in segments of their
    own)."""
    monkeypatch.setattr(engine, "SEGMENT_DOCS", 40)
    built = SearchIndex(tmp_path / "index")
    built.rebuild(entries(120, seed=1))
    return built


@pytest.fixture
def index(tmp_path, monkeypatch):
    return three_segments(tmp_path, monkeypatch)


def walked(index: SearchIndex, query: SearchQuery, levels) -> tuple[set[str], dict]:
    """What Whoosh itself finds by walking every match, and the facets counted from it."""
    searcher = index.open().searcher()
    wanted = And([build_query(query), security_filter(query, levels)])
    stored = [searcher.stored_fields(docnum) for docnum in searcher.docs_for_query(wanted)]
    facets = {
        "complaint_class": Counter(f["complaint_class"] for f in stored),
        "complaint_type": Counter(f["complaint_type"] for f in stored),
        "year": Counter(str(f["year"]) for f in stored),
        "outcome": Counter(f["outcome"] for f in stored),
        "product": Counter(f["product"] for f in stored),
    }
    searcher.close()
    return {f["id"] for f in stored}, {name: dict(counts) for name, counts in facets.items()}


QUERIES = [
    SearchQuery(q="胶囊"), SearchQuery(q="阿莫西林"), SearchQuery(q='"阿莫西林胶囊"'),
    SearchQuery(q='"胶囊破损"'), SearchQuery(q='"西林"'), SearchQuery(q='"说明破损"'),
    SearchQuery(q='"b003"'), SearchQuery(q='"投诉 阿莫西林"'),
    SearchQuery(q="破损 退货"), SearchQuery(batch_no="B003"), SearchQuery(product="阿莫西林"),
    SearchQuery(q="胶囊", received_from=date(2020, 1, 1), received_to=date(2021, 6, 30)),
    SearchQuery(complaint_class="II", outcome="justified"), SearchQuery(),
]  # fmt: skip


def every_page(index, query: SearchQuery, levels, per_page: int = 7) -> list[str]:
    seen, page = [], 1
    while True:
        paged = SearchQuery(**{**query.__dict__, "page": page, "per_page": per_page})
        hits = index.search(paged, levels).hits
        seen += [hit["id"] for hit in hits]
        if len(hits) < per_page:
            return seen
        page += 1


@pytest.mark.parametrize("levels", [LEVELS, ("internal",)])
def test_totals_facets_and_pages_agree_with_walking_every_match(index, levels):
    for query in QUERIES:
        expected, facets = walked(index, query, levels)
        result = index.search(query, levels)
        assert result.total == len(expected), query
        assert result.facets == facets, query
        pages = every_page(index, query, levels)
        assert len(pages) == len(set(pages)) and set(pages) == expected, query


def test_cached_sets_follow_updates_removals_and_new_segments(index):
    for query in QUERIES:  # every bitmap built and cached
        index.search(query, LEVELS)
    changed = entries(30, seed=2)  # 0000-0029 replaced with other text, products, levels
    index.upsert(changed[:15], removed=[f"{n:04d}" for n in range(100, 110)])
    index.upsert(changed[15:] + entries(12, seed=3, start=500))
    index.purge(["0050", "0051"])
    for levels in (LEVELS, ("confidential",)):
        for query in QUERIES:
            expected, facets = walked(index, query, levels)
            result = index.search(query, levels)
            assert (result.total, result.facets) == (len(expected), facets), query
            assert set(every_page(index, query, levels)) == expected, query
    fresh = SearchIndex(index.root)  # a process with nothing cached answers the same
    for query in QUERIES:
        assert fresh.search(query, LEVELS) == index.search(query, LEVELS)


def test_sort_by_date_is_exact_across_segments(index):
    index.upsert(entries(10, seed=4, start=700))
    query = SearchQuery(q="胶囊", sort="received_on")
    ids = every_page(index, query, LEVELS)
    searcher = index.open().searcher()
    received = {f["id"]: f["received_on"] for f in searcher.all_stored_fields()}
    searcher.close()
    assert [received[i] for i in ids] == sorted((received[i] for i in ids), reverse=True)
    assert set(ids) == walked(index, query, LEVELS)[0]


def test_title_and_product_matches_rank_above_matches_in_documents_only(tmp_path):
    built = SearchIndex(tmp_path / "index")
    base = entries(3, seed=5)
    base[0].update(title="冷链运输温度偏差投诉", product=["胰岛素注射液"], summary="运输",
                   text="发霉 " * 40)  # fmt: skip
    base[1].update(title="包装发霉投诉", text="无")
    base[2].update(title="其他投诉", summary="发现发霉", text="无")
    built.rebuild(base)
    hits = built.search(SearchQuery(q="发霉"), LEVELS).hits
    assert [hit["id"] for hit in hits] == ["0001", "0002", "0000"]
    assert all(hit["score"] > 0 for hit in hits)


def test_past_the_rescoring_window_pages_stay_whole_and_the_best_tier_comes_first(
    index, monkeypatch
):
    monkeypatch.setattr(ranking, "RESCORE_WINDOW", 5)
    query = SearchQuery(q="胶囊")
    pages = every_page(index, query, LEVELS, per_page=4)
    expected, _ = walked(index, query, LEVELS)
    assert len(pages) == len(set(pages)) and set(pages) == expected
    searcher = index.open().searcher()
    titled = {f["id"] for f in searcher.all_stored_fields()
              if "胶囊" in f["title"] + f["product"]}  # fmt: skip
    searcher.close()
    tier = [hit_id in titled for hit_id in pages]
    assert tier == sorted(tier, reverse=True)  # every title/product match before the rest


def test_a_rebuild_by_two_writer_processes_answers_as_one_writer_does(index, tmp_path):
    other = SearchIndex(tmp_path / "parallel")
    assert other.rebuild(entries(120, seed=1), processes=2) == 120
    assert other.doc_count() == 120 and len(other.open()._segments()) >= 3  # never merged
    for query in QUERIES:
        expected, actual = index.search(query, LEVELS), other.search(query, LEVELS)
        assert (actual.total, actual.facets) == (expected.total, expected.facets), query
        assert set(every_page(other, query, LEVELS)) == set(every_page(index, query, LEVELS))


def test_an_index_built_before_term_sequences_still_finds_phrases(tmp_path, monkeypatch):
    def without_sequences():
        schema = dossier_schema()
        for name in ("title_seq", "product_seq", "summary_seq"):
            schema.remove(name)
        return schema

    monkeypatch.setattr(engine, "dossier_schema", without_sequences)
    old = SearchIndex(tmp_path / "old")
    old.rebuild([e for e in entries(60, seed=6) if e["id"] != "0007"])
    monkeypatch.undo()
    old.upsert([entries(60, seed=6)[7]])  # filed by the new code into the old index
    new = SearchIndex(tmp_path / "new")
    new.rebuild(entries(60, seed=6))
    for text in ('"阿莫西林胶囊"', '"胶囊破损"', '"西林颗粒"', '"情况说明"'):
        query = SearchQuery(q=text)
        assert old.search(query, LEVELS).total == new.search(query, LEVELS).total, text
        assert set(every_page(old, query, LEVELS)) == set(every_page(new, query, LEVELS))


def test_the_bitmap_cache_stays_within_its_bound_whatever_is_searched(index):
    cache = index._docsets
    cache.limit = 300_000
    rng = random.Random(8)
    for _ in range(200):  # words that are nowhere, and real ones
        index.search(SearchQuery(q=f"{rng.randrange(10**9)} 胶囊 {rng.choice(WORDS)}"), LEVELS)
    assert cache.term_bytes <= cache.limit
    assert len(cache.terms) <= cache.limit // docsets.ENTRY_BYTES  # absent terms count too
    assert cache.term_bytes == sum(cost for _, cost in cache.terms.values())
    assert index.search(SearchQuery(q="胶囊"), LEVELS).total == len(
        walked(index, SearchQuery(q="胶囊"), LEVELS)[0])  # fmt: skip
