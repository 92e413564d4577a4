"""OpenAPI 3.0 schemas written from the colander schemas that validate the requests, so the
document says what the validators check: types, required (missing=required), enums (OneOf),
patterns (Regex), lengths and sizes (Length), bounds (Range), nullable (missing=None), items
of sequences, date formats. A node the walker cannot describe is an error, never a guess.

No maintained converter fits: colander_jsonschema stopped in 2014, cornice_swagger writes
Swagger 2 and needs Cornice services."""

from __future__ import annotations

import colander


def json_schema(node: colander.SchemaNode, *, constraints: bool = True) -> dict:
    """The JSON Schema (OpenAPI 3.0 dialect) of what `node` accepts.

    `constraints=False` keeps the shape (types, enums, required, nullable, formats) and
    drops what only a request must meet (patterns, lengths, bounds): an answer carries what
    was filed before a rule, and masked values (`138****5678`)."""
    typ = node.typ
    declared = getattr(typ, "json_schema", None)
    if declared is not None:
        schema = dict(declared)
    elif isinstance(typ, colander.Mapping):
        schema = _object(node, typ, constraints)
    elif isinstance(typ, colander.Sequence):
        schema = {"type": "array", "items": json_schema(node.children[0], constraints=constraints)}
    elif isinstance(typ, colander.String):
        schema = {"type": "string"}
    else:
        raise TypeError(f"no JSON Schema for {node.name!r} of type {type(typ).__name__}")
    for validator in _validators(node.validator):
        _apply(schema, validator, constraints)
    if _nullable(node):
        schema["nullable"] = True
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    if node.description:
        schema["description"] = str(node.description)
    return schema


def query_parameters(schema: colander.SchemaNode) -> list[dict]:
    """A query string's schema as OpenAPI parameters, one per child node. A query string
    has no null; an empty value (`?as_of=`, what a form sends for an empty field) is absent,
    as the validation.py types read it: the node's `missing` applies."""
    parameters = []
    for child in schema.children:
        described = json_schema(child)
        if described.pop("nullable", False) and "enum" in described:
            described["enum"] = [value for value in described["enum"] if value is not None]
        parameter = {"name": child.name, "in": "query", "required": child.required,
                     "schema": described}  # fmt: skip
        if not child.required:
            parameter["allowEmptyValue"] = True
        parameters.append(parameter)
    return parameters


def _object(node, typ, constraints: bool) -> dict:
    properties = {
        child.name: json_schema(child, constraints=constraints) for child in node.children
    }
    schema = {"type": "object", "properties": properties}
    required = [child.name for child in node.children if child.required]
    if required:
        schema["required"] = required
    if typ.unknown == "raise" or getattr(typ, "closed", False):
        schema["additionalProperties"] = False
    return schema


def _validators(validator) -> list:
    if validator is None:
        return []
    if isinstance(validator, colander.All):
        return [item for inner in validator.validators for item in _validators(inner)]
    return [validator]


def _apply(schema: dict, validator, constraints: bool) -> None:
    if isinstance(validator, colander.OneOf):
        schema["enum"] = list(validator.choices)  # an enum is the shape, answers included
    elif not constraints:
        return
    elif isinstance(validator, colander.Length):
        low, high = ("minItems", "maxItems") if schema.get("type") == "array" else (
            "minLength", "maxLength")  # fmt: skip
        if validator.min is not None:
            schema[low] = validator.min
        if validator.max is not None:
            schema[high] = validator.max
    elif isinstance(validator, colander.Regex):
        schema["pattern"] = validator.match_object.pattern
    elif isinstance(validator, colander.Range):
        if validator.min is not None:
            schema["minimum"] = validator.min
        if validator.max is not None:
            schema["maximum"] = validator.max
    else:
        # A rule of its own (a real month, ties between fields): documented when it says
        # how; else the server is stricter than the document, never the other way round.
        schema.update(getattr(validator, "json_schema", {}))


def _nullable(node: colander.SchemaNode) -> bool:
    """Whether JSON `null` passes: an optional node whose type reads null as absent or as
    None, or whose missing value is None."""
    if node.required:
        return False
    return node.missing is None or bool(getattr(node.typ, "nullable", False))
