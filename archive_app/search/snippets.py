"""A hit's highlighted snippets: Whoosh's highlighter's output, made without its machinery.

Whoosh's `highlight` (with `cjk_analyzer`, `ContextFragmenter` and `HtmlFormatter`, as the
hits used it) runs the text through its token stream, a Token object and three generators a
token, then scores fragments through a heap of objects: a quarter of a warm word query's
time at 100,000 dossiers, for 20 hits of a few fields each. This is the same algorithm on
plain tuples: the analyzer's tokens with their characters (the runs of `analysis`), Whoosh
2.7.5's `ContextFragmenter.fragment_tokens`, `BasicFragmentScorer` and `top_fragments`
(the 3 best, ties to the later fragment, in text order), and `HtmlFormatter` (overlapping
bigrams: the first at a position is marked, the rest of it skipped; each marked text its
own class, numbered in order of appearance, five at most). The output is Whoosh's, character
for character: tests/unit/search/test_search_snippets.py compares the two on generated text.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from heapq import nlargest
from html import escape

from .analysis import TYPED_RUNS

CHARLIMIT = 20_000  # characters of a field looked at, as the hits have always been given
MAXCHARS = 200  # ContextFragmenter's defaults
SURROUND = 20
TOP = 3  # highlight's defaults
MAX_CLASSES = 5  # HtmlFormatter's
TAG = '<mark class="match term{number}">{text}</mark>'
BETWEEN = "..."

Token = tuple[str, int, int]  # text (lower-cased), first character, character after it
Fragment = tuple[int, int, list[Token]]  # first character, end, the marked tokens in it


def tokens(text: str) -> Iterator[Token]:
    """The analyzer's tokens (`analysis.cjk_analyzer`) with their characters."""
    for match in TYPED_RUNS.finditer(text):
        cjk, other = match.groups()
        begin = match.start()
        if not cjk:
            yield other.lower(), begin, match.end()
        elif len(cjk) == 1:
            yield cjk, begin, begin + 1
        else:
            for offset in range(len(cjk) - 1):
                yield cjk[offset : offset + 2], begin + offset, begin + offset + 2


def highlight(text: str, words: frozenset[str]) -> str:
    """The text's best fragments around `words`, each word's occurrences marked; "" when
    none occurs."""
    found = fragments(text, words)
    if not found:
        return ""
    best = nlargest(TOP, found, key=lambda fragment: (score(fragment), fragment[0]))
    seen: dict[str, int] = {}
    return BETWEEN.join(formatted(text, fragment, seen)
                        for fragment in sorted(best) if score(fragment) >= 1)  # fmt: skip


def fragments(text: str, words: frozenset[str]) -> list[Fragment]:
    """`ContextFragmenter.fragment_tokens`: each run of marked tokens with up to `SURROUND`
    characters of context either side, at most `MAXCHARS` long."""
    found: list[Fragment] = []
    first = None
    firsts: deque[int] = deque()  # the starts of the unmarked tokens just before
    countdown = -1  # characters of context left to add; < 0: not in a fragment
    marked: list[Token] = []
    end = 0
    length = 0
    size = len(text)
    for token in tokens(text):
        word, start, end = token
        width = end - start
        if end > CHARLIMIT:
            break
        matched = word in words
        if countdown < 0 and not matched:
            firsts.append(start)
            while firsts and end - firsts[0] > SURROUND:
                firsts.popleft()
        elif length + width > MAXCHARS:
            countdown = 0
        elif matched:
            countdown = SURROUND
            if first is None:
                if firsts:
                    first = firsts[0]
                else:
                    first = start
                    countdown += SURROUND  # the context not used before
            marked.append(token)
        if countdown >= 0:
            length += width
            countdown -= width
            if countdown <= 0:
                found.append(fragment(size, marked, first, end))
                marked, firsts, first, length = [], deque(), None, 0
    if marked:
        found.append(fragment(size, marked, first, end))
    return found


def fragment(size: int, marked: list[Token], first: int | None, end: int) -> Fragment:
    """Whoosh's `mkfrag`, without context added."""
    start = first if first is not None else (marked[0][1] if marked else 0)
    return max(0, start), min(size, end), marked


def score(fragment: Fragment) -> float:
    """`BasicFragmentScorer`: the marked tokens (each of boost 1) times 100 per distinct
    word."""
    marked = fragment[2]
    return float(len(marked)) * (len({word for word, _, _ in marked}) * 100 or 1)


def formatted(text: str, fragment: Fragment, seen: dict[str, int]) -> str:
    """`HtmlFormatter.format_fragment`: the fragment's text escaped, its marked tokens
    wrapped, longest first where several start at one character, overlapped ones left."""
    start, end, marked = fragment
    output = []
    at = start
    for _, begin, stop in sorted(marked, key=lambda token: (token[1], token[1] - token[2])):
        if begin < at:
            continue
        if begin > at:
            output.append(escape(text[at:begin], quote=False))
        shown = escape(text[begin:stop], quote=False)
        if shown not in seen:
            seen[shown] = len(seen) % MAX_CLASSES
        output.append(TAG.format(number=seen[shown], text=shown))
        at = stop
    output.append(escape(text[at:end], quote=False))
    return "".join(output)
