"""CJK bigrams with sequential positions, Latin and digit runs whole, lower-cased."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from whoosh.fields import TEXT

from archive_app.search.analysis import cjk_analyzer, query_terms, terms
from archive_app.search.schema import BigramText


def test_cjk_runs_become_overlapping_bigrams():
    assert query_terms("阿莫西林胶囊") == ["阿莫", "莫西", "西林", "林胶", "胶囊"]


def test_a_lone_cjk_character_is_a_unigram():
    assert query_terms("李") == ["李"]
    assert query_terms("张三 李") == ["张三", "李"]


def test_latin_and_digit_runs_stay_whole():
    assert query_terms("AM2305012 批号20230512 CAPA-2023") == [
        "am2305012", "批号", "20230512", "capa", "2023"]  # fmt: skip


def test_positions_are_sequential():
    tokens = [(t.text, t.pos) for t in cjk_analyzer()("阿莫西林 X1", positions=True)]
    assert tokens == [("阿莫", 0), ("莫西", 1), ("西林", 2), ("x1", 3)]


@given(st.text(max_size=200))
def test_a_word_inside_a_longer_text_keeps_its_terms(text):
    """Every term of a CJK word is among the terms of any text containing it."""
    word = "溶出度"
    assert set(query_terms(word)) <= set(query_terms(text + word + text))


# Text as dossiers have it: CJK, kana, Hangul, Latin of both cases, digits, punctuation, space.
DOSSIER_TEXT = st.text(alphabet=st.sampled_from("阿莫西林胶囊溶出度批号かナ한글AaZz09İß-，。 \n"),
                       max_size=120)  # fmt: skip


@given(DOSSIER_TEXT)
def test_terms_are_the_analyzers_tokens(text):
    """`terms` (what indexing and queries use) is the analyzer's output, token for token."""
    assert terms(text) == [token.text for token in cjk_analyzer()(text)]


@given(DOSSIER_TEXT, st.booleans())
def test_bigram_text_postings_are_text_postings(text, phrase):
    """BigramText's postings (terms, frequencies, weights, positions) are TEXT's."""
    assert list(BigramText(phrase=phrase).index(text)) == list(
        TEXT(analyzer=cjk_analyzer(), phrase=phrase).index(text)
    )
