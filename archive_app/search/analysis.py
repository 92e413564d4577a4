"""Chinese-aware analysis: CJK runs as overlapping bigrams, Latin and digit runs whole.

The schema pickles these classes into the index, so they stay module-level here (DESIGN.md).
"""

from __future__ import annotations

import re

from whoosh.analysis import LowercaseFilter, Token, Tokenizer

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
RUNS = re.compile(f"[{CJK}]+|[0-9A-Za-z]+")


def _is_cjk(character: str) -> bool:
    return bool(re.match(f"[{CJK}]", character))


class CJKBigramTokenizer(Tokenizer):
    """`阿莫西林胶囊` → 阿莫 莫西 西林 林胶 胶囊 (positions 0-4); `AM2305012` → am2305012."""

    def __eq__(self, other):
        return other.__class__ is self.__class__

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="",
                 **kwargs):  # fmt: skip
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        position = start_pos
        for match in RUNS.finditer(value):
            run, begin = match.group(), match.start()
            if _is_cjk(run[0]):
                pieces = [(run, 0)] if len(run) == 1 else [
                    (run[i : i + 2], i) for i in range(len(run) - 1)]  # fmt: skip
            else:
                pieces = [(run, 0)]
            for text, offset in pieces:
                token.text = token.original = text
                token.stopped = False
                token.boost = 1.0
                if positions:
                    token.pos = position
                if chars:
                    token.startchar = start_char + begin + offset
                    token.endchar = token.startchar + len(text)
                position += 1
                yield token


def cjk_analyzer():
    return CJKBigramTokenizer() | LowercaseFilter()


# The runs again, CJK and the others in separate groups: `terms` tells them apart without
# matching each run's first character once more.
TYPED_RUNS = re.compile(f"([{CJK}]+)|([0-9A-Za-z]+)")


def terms(text: str) -> list[str]:
    """The analyzer's token texts in order, as one list built without Token objects.

    The same terms as `cjk_analyzer()` (tests/unit/search/test_search_analysis.py checks it
    on any text): indexing (schema.BigramText) and queries use this, as going through Whoosh's
    token stream one token at a time was about a third of a rebuild's time."""
    found: list[str] = []
    for cjk, other in TYPED_RUNS.findall(text):
        if not cjk:
            found.append(other.lower())
        elif len(cjk) == 1:
            found.append(cjk)
        else:  # no character of these scripts has a case: LowercaseFilter leaves them be
            found += map(str.__add__, cjk[:-1], cjk[1:])
    return found


def query_terms(text: str) -> list[str]:
    """The terms a piece of query text becomes (the same analysis as indexing)."""
    return terms(text)


SEPARATOR = "\x1f"  # in no term: terms are CJK, Latin or digit runs


def term_sequence(text: str) -> str:
    """A text's terms in order as one string, each between separators. A phrase's terms are
    consecutive in a field exactly when the phrase's own sequence is a substring of the
    field's: so phrases are found by searching the distinct sequences (docsets.py), not by
    checking positions document by document."""
    return SEPARATOR + SEPARATOR.join(query_terms(text)) + SEPARATOR
