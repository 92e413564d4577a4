"""The index on its own: recall, exact batches, trimming, hostile and costly queries, purge,
rebuild."""

from __future__ import annotations

import re
import subprocess
from datetime import date

import pytest
from support import StepClock, costly
from whoosh.query import Every

from archive_app.search import engine
from archive_app.search.engine import (
    IndexBusy,
    IndexUnavailable,
    QueryError,
    QueryTimedOut,
    SearchIndex,
    SearchQuery,
)

ALL = ("internal", "confidential", "restricted")


def entry(dossier_id, **values):
    base = dict(
        id=dossier_id, complaint_no=f"TS-I-23-{dossier_id}", batch_no=["20230512"],
        title="阿莫西林胶囊溶出度不合格投诉", product=["阿莫西林胶囊"],
        product_name=["阿莫西林胶囊"],
        summary="客户反映溶出度偏低", text="检验报告 溶出度 62%", complaint_class="I",
        complaint_type="intrinsic_quality", outcome="justified", confidentiality="internal",
        state="archived", year=2023, received_on=date(2023, 5, 12), closed_on=date(2023, 7, 3),
    )  # fmt: skip
    return base | values


@pytest.fixture
def index(tmp_path):
    built = SearchIndex(tmp_path / "index")
    built.rebuild([
        entry("001"),
        entry("002", batch_no=["CF2401088"], title="头孢克肟分散片外包装破损投诉",
              product=["头孢克肟分散片"], product_name=["头孢克肟分散片"], text="外箱压损",
              complaint_class="II", confidentiality="restricted", year=2024,
              received_on=date(2024, 3, 5)),
        entry("003", state="destroyed", title="已销毁档案", text="销毁标记"),
    ])  # fmt: skip
    return built


def found(index, levels=ALL, **query):
    return [hit["id"] for hit in index.search(SearchQuery(**query), levels).hits]


def test_recall_on_substrings_and_exact_batches(index):
    assert found(index, q="阿莫西林") == ["001"]
    assert found(index, q="压损") == ["002"]
    assert found(index, batch_no="20230512") == ["001"]
    assert found(index, batch_no="2023051") == []
    assert found(index, q='"溶出度不合格"') == ["001"]
    assert found(index, q="阿莫西林 压损") == []  # AND


def test_clearance_and_destroyed_are_always_trimmed(index):
    assert found(index, levels=("internal",), q="投诉") == ["001"]
    result = index.search(SearchQuery(q="投诉"), ("internal",))
    assert result.total == 1 and result.facets["complaint_class"] == {"I": 1}
    assert found(index, q="销毁标记") == []
    assert found(index, q="销毁标记", include_destroyed=True) == ["003"]


def test_sort_by_date_and_range(index):
    assert found(index, q="投诉", sort="received_on") == ["002", "001"]
    assert found(index, received_from=date(2024, 1, 1)) == ["002"]


@pytest.mark.parametrize("text", ["((((", '"unbalanced', "*moxi", "title:x OR", "a\x00b", "?"])
def test_hostile_text_is_plain_words(index, text):
    index.upsert([entry("010", title="unbalanced moxi", summary="title x or", text="a b")])
    words = re.sub(r"\W+", " ", text).strip()  # the same text without its syntax
    hits = found(index, q=text)
    assert hits == found(index, q=words)
    # Words find the entry that has them; no words at all is no condition (every entry).
    assert ("010" in hits) if words else (sorted(hits) == ["001", "002", "010"])


def test_overlong_queries_are_refused(index):
    with pytest.raises(QueryError):
        index.search(SearchQuery(q="阿" * 10_000), ALL)


def test_purge_leaves_no_term_on_disk(index, tmp_path):
    index.upsert([entry("004", batch_no=["UNIQUEPURGE77"], text="独有残留词")])
    assert found(index, batch_no="uniquepurge77") == ["004"]
    index.purge(["004"])
    assert found(index, batch_no="uniquepurge77") == []
    grep = subprocess.run(["grep", "-rl", "uniquepurge77", str(tmp_path / "index")],
                          capture_output=True, text=True)  # fmt: skip
    assert grep.stdout == ""


def test_rebuild_swaps_generations_and_a_lost_index_is_reported(index, tmp_path):
    before = {p.name for p in (tmp_path / "index").iterdir()}
    index.rebuild([entry("009")])
    after = {p.name for p in (tmp_path / "index").iterdir()}
    assert before != after and len([p for p in after if p.startswith("gen-")]) == 1
    assert found(index, q="阿莫西林") == ["009"]
    (tmp_path / "index" / "CURRENT").unlink()
    with pytest.raises(IndexUnavailable):
        index.search(SearchQuery(q="阿莫西林"), ALL)


def test_a_query_past_its_time_limit_is_stopped(index, monkeypatch):
    clock = StepClock()
    monkeypatch.setattr(engine, "build_query", lambda query: costly(Every(), clock))
    index.monotonic, index.query_timeout = clock, 0.02
    with pytest.raises(QueryTimedOut):
        index.search(SearchQuery(), ALL)
    assert clock.now <= 0.02 + 0.05  # stopped at the first document past the limit
    clock.now = 0.0
    with pytest.raises(QueryTimedOut):  # candidates the clearance filter drops count too
        index.search(SearchQuery(), ())
    index.query_timeout = 5.0  # the same query in time: answered
    assert {hit["id"] for hit in index.search(SearchQuery(), ALL).hits} == {"001", "002"}


def test_a_rebuild_keeps_other_writers_out_of_the_generation_it_replaces(index, tmp_path):
    other = SearchIndex(tmp_path / "index", writer_timeout=0.5)  # as another process would
    other.upsert([entry("005")])

    def documents():
        with pytest.raises(IndexBusy):  # the old generation is locked until the swap
            other.upsert([entry("006")])
        yield entry("001")

    index.rebuild(documents())
    other.upsert([entry("007")], removed=["001"])  # reopened on the new generation
    assert index.ids() == other.ids() == {"007"}
    assert found(other, q="阿莫西林") == ["007"]


def test_purge_rewrites_only_the_segments_that_held_the_purged(tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "SEGMENT_DOCS", 3)
    built = SearchIndex(tmp_path / "index")
    built.rebuild([entry(f"{n:03d}", batch_no=[f"SEGTOKEN{n:03d}"]) for n in range(9)])
    before = {segment.segment_id() for segment in built.open()._segments()}
    assert len(before) == 3  # segments of bounded size, not merged into one
    built.upsert([entry("009", batch_no=["SEGTOKEN009"])])  # replaces nothing: a new segment
    built.upsert([entry("001", batch_no=["SEGTOKEN001"], text="更正后的文本")])  # an update
    built.purge(["004"])
    after = built.open()._segments()
    assert not any(segment.has_deletions() for segment in after)
    # The segment of 000-002 held the replaced 001 and was rewritten; so was 003-005; the
    # segment of 006-008 was left as it was.
    assert len(before & {segment.segment_id() for segment in after}) == 1
    assert found(built, batch_no="segtoken004") == []
    assert sorted(found(built)) == [f"{n:03d}" for n in range(10) if n != 4]
    grep = subprocess.run(["grep", "-rl", "segtoken004", str(tmp_path / "index")],
                          capture_output=True, text=True)  # fmt: skip
    assert grep.stdout == ""
