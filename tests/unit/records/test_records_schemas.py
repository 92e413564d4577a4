"""Each metadata rule of contract §4 fails with its own error naming the field."""

from __future__ import annotations

import pytest
from factories import metadata

from archive_app.errors import Invalid
from archive_app.records.schemas import validate_metadata


def error_field(**changes) -> str:
    value = metadata()
    value.update(changes)
    with pytest.raises(Invalid) as caught:
        validate_metadata(value)
    return caught.value.field


def test_valid_metadata_is_normalised():
    value = validate_metadata(metadata(title="  标题  "))
    assert value["title"] == "标题"
    assert value["received_on"].isoformat() == "2023-05-12"


def test_complaint_number_class_must_match():
    assert error_field(complaint_class="III") == "complaint_no"


def test_complaint_number_year_must_match_received_year():
    assert error_field(received_on="2024-01-02", closed_on="2024-02-01") == "complaint_no"


def test_complaint_number_needs_three_digits():
    assert error_field(complaint_no="TS-I-23-12") == "complaint_no"


def test_four_digit_sequence_is_fine():
    validate_metadata(metadata(complaint_no="TS-I-23-1234"))


def test_dates_reversed():
    assert error_field(closed_on="2023-05-11") == "closed_on"


def test_not_a_date():
    assert error_field(received_on="2023-05-12T10:00:00") == "received_on"


@pytest.mark.parametrize("field", ["complaint_type", "channel", "outcome", "confidentiality"])
def test_unknown_enum_values(field):
    assert error_field(**{field: "nonsense"}) == field


def test_measures_subset():
    assert error_field(measures=["return", "apology"]) == "measures.1"
    assert error_field(measures=["return", "return"]) == "measures"


def test_every_product_needs_name_and_batch():
    products = [{"name": "甲", "batch_no": "1"}, {"name": "乙"}]
    assert error_field(products=products) == "products.1.batch_no"


def test_not_an_object():
    with pytest.raises(Invalid) as caught:
        validate_metadata(["not", "an", "object"])
    assert caught.value.field == "metadata"


def test_wrong_types_are_not_coerced():
    assert error_field(title=["a"]) == "title"
    assert error_field(customer="张三") == "customer"
