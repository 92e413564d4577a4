"""An access-log entry's detail in words: the details the archive writes (`q='x' filters={…}`,
`3 documents (web)`, `user x: role a -> b`) read back as catalogue sentences, so the review
page shows no Python reprs or codes. A detail of no known shape (a hold's reason, free text)
is shown as it was written; a leftover `{…}` repr in it is written out as `name: value`."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from translationstring import TranslationString, TranslationStringFactory

from ..labels import ERRORS, field_label, label
from .review import WITHHELD

_ = TranslationStringFactory("archive")

Words = list[TranslationString | str]  # parts a page translates and joins with spaces


def _literal(text: str):
    """A Python literal the archive wrote with repr(), or the text itself if it is none."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


def _pairs(mapping: dict) -> Words:
    """`{'complaint_class': 'I'}` as "Complaint class: Class I", one part per pair."""
    return [_("${name}: ${value}", mapping={"name": field_label(str(name)),
                                            "value": label(value)})  # fmt: skip
            for name, value in mapping.items() if value not in (None, "", [])]  # fmt: skip


# The search's orders other than relevance, as the search page names them.
ORDERS = {"received_on": _("Received, newest first"),
          "received_on_asc": _("Received, oldest first")}  # fmt: skip


def _search(match: re.Match) -> Words:
    words: Words = []
    query = _literal(match["q"])
    if query:
        words.append(_("query: ${words}", mapping={"words": query}))
    filters = _literal(match["filters"])
    if isinstance(filters, dict):
        words += _pairs(filters)
    for name in ("received_from", "received_to"):
        if match[name] != "None":
            words.append(_("${name}: ${value}", mapping={"name": field_label(name),
                                                        "value": match[name]}))  # fmt: skip
    if match["sort"] in ORDERS:
        words.append(ORDERS[match["sort"]])
    words.append(_("${count} results", mapping={"count": int(match["count"])}))
    return words


def _error(match: re.Match) -> Words:
    """`404 not_found: no such dossier` (the error views): the code's sentence, then what the
    archive said (English: the API's detail, kept as written)."""
    sentence = ERRORS.get(match["code"])
    if sentence is None:
        return [match[0]]
    return [sentence, f"({match['status']}: {match['said']})"]


ACCOUNT_FIELDS = {"role": _("Role"), "clearance": _("Clearance")}


# What the directory's sign-in adds to an account entry: which group, or why it was removed.
NOTE = re.compile(r"(?P<before>.*?) \((?P<note>[^()]*)\)")
DIRECTORY_NOTES = [
    (
        re.compile(r"in no mapped directory group; its groups: none"),
        _("in no mapped LDAP group (it is in no group at all)"),
    ),
    (
        re.compile(r"directory group (?P<group>.+), first sign-in"),
        _("LDAP group ${group}, created on first use"),
    ),
    (
        re.compile(r"in no mapped directory group; its groups: (?P<group>.*)"),
        _("in no mapped LDAP group (its groups: ${group})"),
    ),
    (re.compile(r"directory group (?P<group>.+)"), _("LDAP group ${group}")),
]


def _note(note: str):
    """A directory note in words (the catalogue's), else as written, in brackets."""
    for pattern, message in DIRECTORY_NOTES:
        found = pattern.fullmatch(note)
        if found:
            return _(message, mapping={"group": found.groupdict().get("group")})
    return f"({note})"


def _change(match: re.Match) -> Words:
    words: Words = [_("User ${user}:", mapping={"user": match["user"]})]
    changes, note = match["changes"], None
    noted = NOTE.fullmatch(changes)
    if noted and noted["note"] != "web":
        changes, note = noted["before"], noted["note"]
    for change in changes.split(", "):
        moved = re.fullmatch(r"(role|clearance) (\S+) -> (\S+)", change)
        if moved:
            name, old, new = moved.groups()
            words.append(_("${name} ${old} → ${new}", mapping={
                "name": ACCOUNT_FIELDS[name], "old": label(old), "new": label(new)}))  # fmt: skip
        elif change in ("activated", "deactivated"):
            words.append(_("activated") if change == "activated" else _("deactivated"))
        else:
            words.append(change)
    if note is not None:
        words.append(_note(note))
    return words


def _count(message: TranslationString, name: str = "count") -> Callable[[re.Match], Words]:
    return lambda match: [_(message, mapping={name: int(match[name])})]


def _words(message: TranslationString) -> Callable[[re.Match], Words]:
    return lambda match: [message]


# Written by (module): the pattern, what it reads as. Tried in order, matched whole.
SHAPES: list[tuple[re.Pattern, Callable[[re.Match], Words]]] = [
    (re.compile(re.escape(WITHHELD)),
     _words(_("Withheld: the entry names a dossier above your clearance"))),
    (re.compile(r"q=(?P<q>None|'.*'|\".*\") filters=(?P<filters>\{.*\}) "  # search/views.py
                r"from=(?P<received_from>\S+) to=(?P<received_to>\S+)"
                r"( sort=(?P<sort>\S+))?: (?P<count>\d+) results",
                re.DOTALL), _search),
    (re.compile(r"complaint_no lookup: (?P<count>\d+) result\(s\)"),  # records/api.py
     _count(_("Complaint-number look-up: ${count} result(s)"))),
    (re.compile(r"(?P<count>\d+) documents( \(web\))?"), _count(_("${count} documents"))),
    (re.compile(r"access log page (?P<page>\d+)( \(web\))?: (?P<count>\d+) entries match"),
     lambda m: [_("Page ${page}: ${count} entries match",
                  mapping={"page": int(m["page"]), "count": int(m["count"])})]),
    (re.compile(r"access log (CSV|XLSX)( from \S+ to \S+)?"),
     lambda m: [_("Access log exported (${format})", mapping={"format": m[1]}), m[2] or ""]),
    (re.compile(r"anomaly report: (?P<count>\d+) flags"), _count(_("Flagged patterns: ${count}"))),
    (re.compile(r"access-log chain"), _words(_("The access log's chain"))),
    (re.compile(r"web"), _words(_("on the web pages"))),
    (re.compile(r"accounts page \(web\)"), _words(_("The accounts page"))),
    (re.compile(r"api token( issued)?( \(cli\))?"), _words(_("API token"))),
    (re.compile(r"api token revoked"), _words(_("API token revoked"))),
    (re.compile(r"not signed in"), _words(_("Not signed in"))),
    (re.compile(r"bad CSRF token"), _words(_("The form had expired (CSRF token)"))),
    (re.compile(r"clearance below level \(.*\)"), _words(_("Clearance below the dossier's level"))),
    (re.compile(r"missing permission .*"), _words(_("The role may not do this"))),
    (re.compile(r"(?P<count>\d+) failed sign-ins in .*"), _count(_("${count} failed sign-ins"))),
    (re.compile(r"user (?P<user>\S+) role (?P<role>\S+) clearance (?P<clearance>\S+)"
                r"( \(web\)| \((?P<note>[^()]*)\))?"),
     lambda m: [_("User ${user}: role ${role}, clearance ${clearance}", mapping={
         "user": m["user"], "role": label(m["role"]), "clearance": label(m["clearance"])}),
         _note(m["note"]) if m["note"] else ""]),
    (re.compile(r"user (?P<user>\S+): (?P<changes>.+)"), _change),
    (re.compile(r"retention page"), _words(_("The retention page"))),
    (re.compile(r"as of (?P<date>\S+): (?P<count>\d+) due"),  # retention/api.py
     lambda m: [_("As of ${date}: ${count} due", mapping={"date": m["date"],
                                                          "count": int(m["count"])})]),
    (re.compile(r"as of (?P<date>\S+), dry run (?P<dry>True|False): (?P<gone>\d+) destroyed, "
                r"(?P<held>\d+) held"),  # retention/services.py
     lambda m: [_("Dry run") if m["dry"] == "True" else _("Destruction run"),
                _("as of ${date}: ${gone} destroyed, ${held} under hold", mapping={
                    "date": m["date"], "gone": int(m["gone"]), "held": int(m["held"])})]),
    (re.compile(r"holds listed: (?P<count>\d+)"), _count(_("Holds listed: ${count}"))),
    (re.compile(r"certificate (?P<id>\S+)( \((json|pdf)(, partial)?\))?"),
     lambda m: [_("Certificate ${id}", mapping={"id": m["id"]})]),
    (re.compile(r"blob failed authentication during download"),  # records/downloads.py
     _words(_("The stored file failed its integrity check during the download"))),
    (re.compile(r"signed checkpoint after access-log seq (?P<seq>\d+), head MAC \w+"),
     lambda m: [_("Signed checkpoint after entry ${seq}", mapping={"seq": int(m["seq"])})]),
    (re.compile(r"(?P<status>[1-5]\d\d) (?P<code>[a-z_]+): (?P<said>.*)", re.DOTALL), _error),
]  # fmt: skip
_REPR = re.compile(r"\{[^{}]*\}")


def detail_words(detail: str | None) -> Words:
    """What a page shows for a detail: catalogue sentences, or the text as written."""
    if not detail:
        return []
    for pattern, read in SHAPES:
        match = pattern.fullmatch(detail)
        if match:
            return [part for part in read(match) if part]
    return [_REPR.sub(_written_out, detail)]


def _written_out(match: re.Match) -> str:
    value = _literal(match[0])
    if not isinstance(value, dict):
        return match[0]
    return ", ".join(f"{name}: {item}" for name, item in value.items())


def in_words(translate, part) -> str:
    """A catalogue message in the page's language, the messages in its mapping too (a field's
    name, a code's label: Pyramid's localizer interpolates them untranslated)."""
    if isinstance(part, TranslationString) and part.mapping:
        mapping = {name: in_words(translate, value) for name, value in part.mapping.items()}
        part = TranslationString(part, mapping=mapping)
    return translate(part) if isinstance(part, TranslationString) else str(part)


def detail_in_words(translate, detail: str | None) -> str:
    """A detail as the access-log and access-review pages show it, in the page's language."""
    return " ".join(in_words(translate, part) for part in detail_words(detail))
