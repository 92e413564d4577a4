"""apidoc.py writes what the colander nodes check, and validation.py refuses the first bad
field in schema order: the two halves of one source for the API's requests."""

from __future__ import annotations

import colander
import pytest

from archive_app.apidoc import json_schema, query_parameters
from archive_app.errors import BadRequest, Invalid
from archive_app.validation import (
    ClosedMapping,
    StrictBoolean,
    StrictDate,
    StrictString,
    WholeNumber,
    choice,
    text,
    validated,
)  # fmt: skip


class Line(colander.MappingSchema):
    @staticmethod
    def schema_type():
        return ClosedMapping("cannot be sent")

    code = colander.SchemaNode(StrictString(), validator=colander.Regex(r"^[A-Z]{2}\d+$"))
    note = text(40, missing=None)


class Lines(colander.SequenceSchema):
    line = Line()
    validator = colander.Length(max=12)


class Order(colander.MappingSchema):
    title = text(10)
    kind = choice(("a", "b"))
    due_on = colander.SchemaNode(StrictDate(), missing=colander.drop)
    cleared_on = colander.SchemaNode(StrictDate(nullable=True), missing=None)
    urgent = colander.SchemaNode(StrictBoolean(), missing=False)
    count = colander.SchemaNode(WholeNumber(), validator=colander.Range(1, 9), missing=1)
    lines = Lines(missing=())


def test_the_walker_writes_each_rule_the_nodes_check():
    assert json_schema(Order()) == {
        "type": "object",
        "required": ["title", "kind"],
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": 10},
            "kind": {"type": "string", "enum": ["a", "b"]},
            "due_on": {"type": "string", "format": "date"},
            "cleared_on": {"type": "string", "format": "date", "nullable": True},
            "urgent": {"type": "boolean"},
            "count": {"type": "integer", "minimum": 1, "maximum": 9},
            "lines": {"type": "array", "maxItems": 12, "items": {
                "type": "object", "required": ["code"], "additionalProperties": False,
                "properties": {
                    "code": {"type": "string", "pattern": r"^[A-Z]{2}\d+$"},
                    "note": {"type": "string", "minLength": 1, "maxLength": 40,
                             "nullable": True},
                }}},
        },
    }  # fmt: skip


def test_answers_keep_the_shape_without_the_rules_of_a_request():
    shape = json_schema(Order(), constraints=False)
    assert shape["properties"]["title"] == {"type": "string"}
    assert shape["properties"]["kind"]["enum"] == ["a", "b"]
    assert shape["properties"]["lines"]["items"]["properties"]["code"] == {"type": "string"}


def test_a_node_the_walker_cannot_describe_is_an_error_not_a_guess():
    node = colander.SchemaNode(colander.Mapping(), colander.SchemaNode(colander.Float(), name="x"))
    with pytest.raises(TypeError, match="'x'"):
        json_schema(node)


def test_query_parameters_have_no_null_and_read_an_empty_value_as_absent():
    class Query(colander.MappingSchema):
        active = choice(("true", "false"), missing="false")
        code = colander.SchemaNode(StrictString(), missing_msg="is required")

    assert query_parameters(Query()) == [
        {"name": "active", "in": "query", "required": False, "allowEmptyValue": True,
         "schema": {"type": "string", "enum": ["true", "false"]}},
        {"name": "code", "in": "query", "required": True, "schema": {"type": "string"}},
    ]  # fmt: skip
    assert validated(Query(), {"active": "", "code": "x"}) == {"active": "false", "code": "x"}


@pytest.mark.parametrize(("data", "field", "detail"), [
    ({}, "title", "title Required"),
    ({"title": "t", "kind": "c"}, "kind", 'kind "c" is not one of a, b'),
    ({"title": 5, "kind": "c"}, "title", "title must be a string"),
    ({"title": "t", "kind": "a", "due_on": "2023-02-29"}, "due_on",
     "due_on is not a real calendar date"),
    ({"title": "t", "kind": "a", "due_on": None}, "due_on",
     "due_on must be a date as YYYY-MM-DD"),
    ({"title": "t", "kind": "a", "urgent": "yes"}, "urgent", "urgent must be true or false"),
    ({"title": "t", "kind": "a", "count": "2.5"}, "count", "count must be a whole number"),
    # items by their number, not as text: line 2 is reported before line 10
    ({"title": "t", "kind": "a",
      "lines": [{"code": "AB1"}] * 2 + [{"code": "?"}] + [{"code": "AB1"}] * 7 + [{"code": "?"}]},
     "lines.2.code", None),
    ({"title": "t", "kind": "a", "lines": [{"code": "AB1", "colour": "red"}]},
     "lines.0.colour", "lines.0.colour cannot be sent"),
    ({"title": "t" * 11, "kind": "x", "lines": [{"code": "?"}]}, "title", None),
])  # fmt: skip
def test_the_first_bad_field_in_schema_order_is_refused(data, field, detail):
    with pytest.raises(Invalid) as refused:
        validated(Order(), data)
    assert refused.value.status == 422 and refused.value.field == field
    if detail is not None:
        assert refused.value.detail == detail


def test_the_refusal_may_be_another_status_and_values_come_back_read():
    with pytest.raises(BadRequest):
        validated(Order(), {}, refusal=BadRequest)
    read = validated(Order(), {"title": "  t ", "kind": "a", "cleared_on": None, "count": "3"})
    assert read == {"title": "t", "kind": "a", "cleared_on": None, "urgent": False,
                    "count": 3, "lines": ()}  # fmt: skip


@pytest.mark.parametrize("value", ["a\x00b", "\ud800"])
def test_control_characters_are_refused_unless_raw(value):
    node = colander.SchemaNode(StrictString())
    with pytest.raises(colander.Invalid):
        node.deserialize(value)
    assert colander.SchemaNode(StrictString(raw=True)).deserialize(value) == value
