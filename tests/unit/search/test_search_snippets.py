"""The hits' snippets equal Whoosh's highlighter's output (the reference, with the analyzer,
fragmenter and formatter the hits used), character for character, on generated text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.highlight import ContextFragmenter, HtmlFormatter
from whoosh.highlight import highlight as whoosh_highlight

from archive_app.search import snippets
from archive_app.search.analysis import cjk_analyzer, terms


def reference(text: str, words: frozenset[str]) -> str:
    return whoosh_highlight(text, words, cjk_analyzer(), ContextFragmenter(charlimit=20_000),
                            HtmlFormatter(tagname="mark"))  # fmt: skip


# Pieces that make runs of every kind: bigrams that recur and overlap, Latin words in both
# cases, digits, HTML's special characters, spaces and punctuation (fragment edges).
PIECES = ["阿莫西林", "胶囊", "破损", "溶出度", "阿", "西林胶囊", "が", "한국", "Quokka",
          "quokka", "AM2305", "12", "<b>", "&", '"', " ", "，", "。", ".", "\n", "x" * 25,
          "破损" * 3]  # fmt: skip
texts = st.lists(st.sampled_from(PIECES), max_size=120).map("".join)


@settings(max_examples=400, deadline=None)
@given(texts, st.data())
def test_snippets_are_whooshs_for_any_text_and_words(text, data):
    vocabulary = sorted(set(terms(text)) | {"胶囊", "quokka", "nowhere"})
    words = frozenset(data.draw(st.lists(st.sampled_from(vocabulary), max_size=4)))
    assert snippets.highlight(text, words) == reference(text, words)


def test_long_texts_many_fragments_and_the_character_limit():
    text = ("无关的说明文字，" * 12 + "胶囊破损。" + "quokka " * 30) * 40  # past 20,000 characters
    for words in ({"胶囊"}, {"胶囊", "破损", "quokka"}, {"quokka"}, {"说明", "文字"}):
        expected = reference(text, frozenset(words))
        assert expected.count("...") == 2  # of the 40 fragments, the best 3 in text order
        assert snippets.highlight(text, frozenset(words)) == expected
    tail = "填充" * 10_001 + "胶囊"  # the word only past the limit: no snippet
    assert snippets.highlight(tail, frozenset({"胶囊"})) == reference(tail, frozenset({"胶囊"}))
    assert snippets.highlight(tail, frozenset({"胶囊"})) == ""


def test_marked_text_is_escaped_and_classes_recycle_after_five():
    text = "<a> & " + " ".join(f"w{n}" for n in range(7)) + " 'q' \"r\""
    words = frozenset(f"w{n}" for n in range(7)) | {"a", "q", "r"}
    found = snippets.highlight(text, words)
    assert found == reference(text, words)
    assert "&gt;" in found and "&amp;" in found and 'term4">w3' in found and 'term0">w4' in found
