"""Relevance from what the caller may read: dossiers above their clearance change neither
the order nor the scores of what they see (contract §3, "and their order")."""

from __future__ import annotations

from datetime import date

from archive_app.search.engine import SearchIndex, SearchQuery

INTERNAL = ("internal",)
ALL = ("internal", "confidential", "restricted")


def entry(dossier_id: str, text: str, level: str = "internal") -> dict:
    return dict(
        id=dossier_id, complaint_no=f"TS-I-23-{dossier_id}", batch_no=["20230512"],
        title="投诉", product=["阿莫西林胶囊"], product_name=["阿莫西林胶囊"],
        summary="情况说明", text=text, complaint_class="I",
        complaint_type="intrinsic_quality", outcome="justified", confidentiality=level,
        state="archived", year=2023, received_on=date(2023, 5, 12), closed_on=date(2023, 7, 3),
    )  # fmt: skip


READABLE = [
    entry("A", "quokka " * 5 + "wombat"),  # the first word often, the second once
    entry("B", "quokka " + "wombat " * 4 + "padding"),  # the other way round, as long
    *(entry(f"F{n}", "检验报告 溶出度") for n in range(5)),
]
# Above an internal caller's clearance, all with the first word (and longer texts).
RESTRICTED = [entry(f"R{n:02d}", "quokka 检验 " * 8, "restricted") for n in range(30)]


def ranking(index: SearchIndex, levels) -> list[tuple[str, float]]:
    hits = index.search(SearchQuery(q="quokka wombat"), levels).hits
    return [(hit["id"], hit["score"]) for hit in hits]


def test_restricted_dossiers_change_neither_order_nor_scores_of_an_internal_caller(tmp_path):
    without = SearchIndex(tmp_path / "without")
    without.rebuild(READABLE)
    alone = ranking(without, INTERNAL)
    assert [hit_id for hit_id, _ in alone] == ["A", "B"]

    beside = SearchIndex(tmp_path / "beside")
    beside.rebuild(READABLE + RESTRICTED)
    assert ranking(beside, INTERNAL) == alone  # the same order, the same scores

    # Added later, in a segment of their own, and after some are removed: still the same.
    later = SearchIndex(tmp_path / "later")
    later.rebuild(READABLE)
    later.upsert(RESTRICTED)
    later.purge(["R00", "R01"])
    assert ranking(later, INTERNAL) == alone

    # The statistics are the caller's own: one who reads the restricted dossiers ranks with
    # them (the word they all hold weighs less), so the order above was really at stake.
    everything = [hit_id for hit_id, _ in ranking(beside, ALL) if hit_id in ("A", "B")]
    assert everything == ["B", "A"]


def test_an_empty_index_answers_nothing_found(tmp_path):
    index = SearchIndex(tmp_path / "index")
    index.create_empty()
    result = index.search(SearchQuery(q="quokka"), ALL)
    assert (result.total, result.hits) == (0, [])
