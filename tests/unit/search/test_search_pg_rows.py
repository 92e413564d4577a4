"""The PostgreSQL backend's rows and queries as text: the Whoosh schema's analysis written as
tsvector and tsquery literals (no database needed)."""

from __future__ import annotations

from datetime import date

from archive_app.search.engine import SearchQuery
from archive_app.search.pg_query import Where, cleared, matches, tsquery
from archive_app.search.pg_rows import MAX_TEXT_VECTOR_BYTES, meta_vector, row_for, text_vector


def parsed(vector: str) -> dict[str, list[str]]:
    """A tsvector literal as {lexeme: [position+weight, ...]}."""
    found = {}
    for item in vector.split(" "):
        word, _, where = item.rpartition(":")
        found[word.strip("'")] = where.split(",")
    return found


def test_fields_have_their_weights_and_a_gap_between_them():
    vector = parsed(meta_vector({"title": "阿莫西林", "product": "胶囊", "summary": "破损 AB12",
                                 "manufacturer": "某药厂"}))  # fmt: skip
    assert vector["阿莫"] == ["1A"] and vector["西林"] == ["3A"]
    assert vector["胶囊"] == ["5B"]  # 4 is the gap: no phrase runs from title into product
    assert vector["破损"] == ["7C"] and vector["ab12"] == ["8C"]
    assert vector["某药"] == ["10D"]


def test_a_term_in_several_fields_keeps_each_position_and_weight():
    vector = parsed(meta_vector({"title": "胶囊", "summary": "胶囊"}))
    assert vector["胶囊"] == ["1A", "4C"]  # an empty product field leaves its gap too


def test_document_text_is_its_distinct_terms_without_positions_and_bounded():
    assert text_vector("溶出度 溶出") == "'溶出' '出度'"
    huge = " ".join(f"w{number}" for number in range(200_000))
    assert len(text_vector(huge).encode()) < MAX_TEXT_VECTOR_BYTES


def test_a_row_lowercases_batches_and_keeps_product_names_once():
    row = row_for({"id": "d1", "complaint_no": "TS-I-23-001", "batch_no": [" AB123 ", "ab123"],
                   "product": ["胶囊", "胶囊"], "product_name": ["胶囊", "胶囊"], "title": "标题",
                   "summary": None, "manufacturer": "", "text": "", "complaint_class": "I",
                   "complaint_type": "other", "outcome": "justified",
                   "confidentiality": "internal", "state": "archived", "year": 2023,
                   "received_on": date(2023, 5, 12), "closed_on": None})  # fmt: skip
    assert row["batch_nos"] == ["ab123"] and row["product_names"] == ["胶囊"]
    assert row["text_terms"] == "" and row["summary"] is None


def test_queries_are_literals_of_analysed_terms_with_clearance_always_in():
    assert tsquery(["阿莫", "莫西"], "ABC", " <-> ") == "'阿莫':ABC <-> '莫西':ABC"
    where = Where()
    cleared(SearchQuery(), ("internal",), where)
    matches(SearchQuery(q='"阿莫西" x\'y', document_text=False), where)
    assert where.parts[0].startswith("confidentiality = ANY(") and "state = ANY(" in where.parts[1]
    assert "'阿莫':ABC <-> '莫西':ABC" in where.params.values()
    assert "'x' & 'y'" in where.params.values()  # the quote is no syntax: two words
    assert all("text_terms" not in part for part in where.parts)  # metadata only
