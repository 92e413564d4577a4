"""The colander types every request schema is built from, and the one way a request is
validated against its schema: the first bad field, by dotted path in schema order, as the
contract's 422. apidoc.py documents the same schemas, so what is checked is what is written."""

from __future__ import annotations

import re

import colander
from translationstring import TranslationStringFactory

from .dates import NotADate, to_date
from .errors import ArchiveError, Invalid

_ = TranslationStringFactory("archive")  # the pages translate these (labels.error_message)

# Control characters (NUL and the like; tab and line breaks are text) and lone surrogates
# (which JSON can carry but UTF-8 cannot store) are refused wherever text is taken.
FORBIDDEN_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


class StrictString(colander.String):
    """Strings only: a number or a list where text belongs is an error, not coerced.

    Surrounding blanks are cut and control characters refused, unless `raw` (credentials are
    taken as typed). JSON `null` is absent, unless `keep_null`: then it is the value None (a
    correction clearing a field). An empty string is absent unless `allow_empty`."""

    nullable = True  # null passes where the node is optional: apidoc.py documents it so

    def __init__(self, *, raw: bool = False, keep_null: bool = False, allow_empty=False):
        super().__init__(allow_empty=allow_empty)
        self.raw, self.keep_null = raw, keep_null

    def deserialize(self, node, cstruct):
        if cstruct is None:
            return None if self.keep_null else colander.null
        if cstruct is not colander.null and not isinstance(cstruct, str):
            raise colander.Invalid(node, "must be a string")
        if self.raw or cstruct is colander.null:
            return super().deserialize(node, cstruct)
        if FORBIDDEN_CHARACTERS.search(cstruct):
            raise colander.Invalid(node, _("must not contain control characters"))
        return super().deserialize(node, cstruct.strip())


class StrictDate(colander.SchemaType):
    """ISO 8601 calendar dates only (colander.Date also takes datetimes and other forms),
    read by dates.to_date.

    An empty string is absent (the node's `missing` applies: a form's empty field) unless
    not `empty_is_absent`. JSON `null` is refused unless `nullable`, where it is the value
    None (an optional date, a correction clearing one)."""

    json_schema = {"type": "string", "format": "date"}  # what apidoc.py writes for it

    def __init__(self, nullable: bool = False, *, empty_is_absent: bool = True):
        self.nullable, self.empty_is_absent = nullable, empty_is_absent

    def serialize(self, node, appstruct):
        return colander.null if appstruct in (None, colander.null) else appstruct.isoformat()

    def deserialize(self, node, cstruct):
        if cstruct is None and self.nullable:
            return None
        if cstruct is colander.null or (cstruct == "" and self.empty_is_absent):
            return colander.null
        try:
            return to_date(cstruct)
        except NotADate as problem:
            raise colander.Invalid(node, str(problem)) from None


class StrictBoolean(colander.SchemaType):
    """JSON `true` or `false` only (colander.Boolean reads any text as a truth value); `null`
    is absent where `nullable`, else refused."""

    json_schema = {"type": "boolean"}

    def __init__(self, nullable: bool = False):
        self.nullable = nullable

    def serialize(self, node, appstruct):
        return appstruct

    def deserialize(self, node, cstruct):
        if cstruct is colander.null or (cstruct is None and self.nullable):
            return colander.null
        if not isinstance(cstruct, bool):
            raise colander.Invalid(node, "must be true or false")
        return cstruct


class WholeNumber(colander.SchemaType):
    """An integer, from JSON or from a query string's digits (colander.Int also takes 2.5)."""

    json_schema = {"type": "integer"}

    def serialize(self, node, appstruct):
        return appstruct

    def deserialize(self, node, cstruct):
        if cstruct is colander.null or cstruct == "":
            return colander.null
        if isinstance(cstruct, int) and not isinstance(cstruct, bool):
            return cstruct
        if isinstance(cstruct, str) and re.fullmatch(r"[0-9]{1,9}", cstruct):
            return int(cstruct)
        raise colander.Invalid(node, "must be a whole number")


class ClosedMapping(colander.Mapping):
    """An object of declared keys only: each other key is an error of its own, named by the
    key (a misspelt field must not pass silently for one that was left out)."""

    closed = True  # apidoc.py: additionalProperties false

    def __init__(self, refusal: str = "is not a field of this request"):
        super().__init__(unknown="ignore")
        self.refusal = refusal

    def deserialize(self, node, cstruct):
        error, result = None, colander.null
        try:
            result = super().deserialize(node, cstruct)
        except colander.Invalid as invalid:
            error = invalid
        if isinstance(cstruct, dict):
            declared = {child.name for child in node.children}
            for name in sorted(str(key) for key in set(cstruct) - declared):
                if error is None:
                    error = colander.Invalid(node)
                unknown = colander.SchemaNode(colander.String(), name=name[:64])
                error.add(colander.Invalid(unknown, self.refusal))
        if error is not None:
            raise error
        return result


def text(max_length: int | None, missing=colander.required, *, typ=None, **kw):
    """Text of 1 to `max_length` characters (no bound: None)."""
    return colander.SchemaNode(
        typ or StrictString(), validator=colander.Length(min=1, max=max_length),
        missing=missing, **kw,
    )  # fmt: skip


def choice(values, missing=colander.required, *, typ=None, **kw):
    """One of `values` (a closed vocabulary)."""
    return colander.SchemaNode(
        typ or StrictString(), validator=colander.OneOf(list(values)), missing=missing, **kw
    )


def lowered(value):
    """Preparer: text in lower case (`?active=TRUE` means true)."""
    return value.lower() if isinstance(value, str) else value


def validated(schema: colander.SchemaNode, data, refusal: type[ArchiveError] = Invalid) -> dict:
    """`data` as `schema` reads it, or `refusal` (the contract's 422 unless an endpoint
    answers otherwise) naming the first bad field."""
    try:
        return schema.deserialize(data)
    except colander.Invalid as error:
        raise first_error(schema, error, refusal) from None


def first_error(schema: colander.SchemaNode, error: colander.Invalid,
                refusal: type[ArchiveError] = Invalid) -> ArchiveError:  # fmt: skip
    """The error for the first field of `error` in schema order (the same input always
    names the same field), its detail the field's path and what is wrong with it."""
    messages = error.asdict()
    field = min(messages, key=lambda path: (_position(schema, path), path))
    return refusal(f"{field} {messages[field]}".strip(), field=field or None)


def _position(schema: colander.SchemaNode, path: str) -> list[int]:
    """Where a dotted error path falls in the schema: child indexes, items by number; a key
    the schema does not declare comes after every declared one."""
    position, node = [], schema
    for part in path.split(".") if path else ():
        names = [child.name for child in node.children]
        if isinstance(node.typ, colander.Sequence) and part.isdigit() and node.children:
            position.append(int(part))
            node = node.children[0]
        elif part in names:
            position.append(names.index(part))
            node = node.children[names.index(part)]
        else:
            position.append(len(names))
            break
    return position
