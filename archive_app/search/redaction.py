"""Customer personal data kept out of the index: a dossier's own customer values (name, phone,
organisation, address) are cut from every text it indexes, before analysis.

The index is plaintext on disk and searchable by roles that see personal data masked (contract
§3: they "cannot find a dossier by it"), so it holds no term of them: a masked phone
`139****1234` cannot be completed by searching `139NNNN1234`. Archivists find customers by
the exact keyed-hash lookup (`RecordsService.find_by_customer`), never through the index.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from .analysis import CJK

TERM_CHARACTER = re.compile(f"[0-9A-Za-z{CJK}]")
ASCII_WORD = re.compile("[0-9A-Za-z]")
# Between two characters of a value, whatever the analysis drops (spaces, hyphens, dots,
# brackets): `138 1234 5678` and `138-1234-5678` are the phone as well. The values are
# matched in the text's skeleton, where each such character is NUL (one for one, so the
# positions are the text's): a class of the CJK ranges between every two characters of
# every value cost 5 ms each to compile, 0.2 s a dossier, most of an import's time.
NON_TERM = re.compile(f"[^0-9A-Za-z{CJK}]")
SEPARATORS = "\\x00{0,8}"
COUNTRY_CODES = ("0086", "86")
MOBILE_DIGITS = 11


def personal_values(customer: dict) -> list[str]:
    """The values to cut: each customer field, and a phone also without its country code."""
    values = [customer.get(name) for name in ("name", "phone", "organization", "address")]
    phone = "".join(ch for ch in customer.get("phone") or "" if ch.isdigit())
    for code in COUNTRY_CODES:
        if phone.startswith(code) and len(phone) - len(code) == MOBILE_DIGITS:
            values.append(phone[len(code) :])
    return [value for value in values if value]


def _pattern(value: str) -> str | None:
    characters = TERM_CHARACTER.findall(value)
    if len(characters) < 2:  # one character is no one's name, and would cut every word
        return None
    body = SEPARATORS.join(re.escape(character) for character in characters)
    if all(character.isdigit() for character in characters):
        return body  # a number is cut even out of a longer run: `Tel13812345678` as well
    # Latin runs are whole terms: a name is cut whole, never out of a longer word.
    start = "(?<![0-9A-Za-z])" if ASCII_WORD.match(characters[0]) else ""
    end = "(?![0-9A-Za-z])" if ASCII_WORD.match(characters[-1]) else ""
    return start + body + end


def redactor(values: Iterable[str]) -> Callable[[str | None], str | None]:
    """A function that replaces every occurrence of the values by a space (so that the
    characters around it never form a new bigram across it)."""
    patterns = sorted({p for p in map(_pattern, values) if p}, key=len, reverse=True)
    if not patterns:
        return lambda text: text
    found = re.compile("|".join(patterns), re.IGNORECASE)

    def cut(text: str | None) -> str | None:
        if not text:
            return text
        parts, last = [], 0
        for match in found.finditer(NON_TERM.sub("\x00", text)):
            parts += [text[last : match.start()], " "]
            last = match.end()
        return "".join([*parts, text[last:]]) if parts else text

    return cut
