"""Message attributes: names, types, values, limits, and both ways to read them."""

from __future__ import annotations

import pytest

from eventyard.errors import InvalidAttributeName, InvalidAttributeValue, InvalidParameterValue
from eventyard.model.attributes import encode_attributes, plain_attributes, typed_attributes


def test_plain_values_map_to_sqs_types_and_back() -> None:
    stored, size = encode_attributes({"kind": "book", "copies": 3, "price": 9.5, "thumb": b"\x01"})
    assert plain_attributes(stored) == {"kind": "book", "copies": 3, "price": 9.5, "thumb": b"\x01"}
    assert typed_attributes(stored) == {
        "kind": {"DataType": "String", "StringValue": "book"},
        "copies": {"DataType": "Number", "StringValue": "3"},
        "price": {"DataType": "Number", "StringValue": "9.5"},
        "thumb": {"DataType": "Binary", "BinaryValue": b"\x01"},
    }
    # name + type + value bytes, as SQS counts them
    assert size == (4 + 6 + 4) + (6 + 6 + 1) + (5 + 6 + 3) + (5 + 6 + 1)


def test_sqs_shape_with_custom_type_labels() -> None:
    stored, _ = encode_attributes(
        {
            "a": {"DataType": "String.url", "StringValue": "https://x"},
            "b": {"DataType": "Number.int", "StringValue": "-12"},
            "c": {"DataType": "Binary.gif", "BinaryValue": b"GIF"},
        }
    )
    typed = typed_attributes(stored)
    assert typed["a"]["DataType"] == "String.url"
    assert plain_attributes(stored)["b"] == -12
    assert typed["c"] == {"DataType": "Binary.gif", "BinaryValue": b"GIF"}


def test_no_attributes_store_nothing() -> None:
    assert encode_attributes(None) == (None, 0)
    assert encode_attributes({}) == (None, 0)
    assert plain_attributes(None) == {}


def test_at_most_ten_attributes() -> None:
    encode_attributes({f"a{i}": "v" for i in range(10)})
    with pytest.raises(InvalidParameterValue, match="at most 10 attributes; got 11"):
        encode_attributes({f"a{i}": "v" for i in range(11)})


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "non-empty"),
        ("x" * 257, "257 characters"),
        ("has space", "letters, digits"),
        ("AWS.trace", "reserved prefix"),
        ("amazon.x", "reserved prefix"),
        (".lead", "start or end"),
        ("trail.", "start or end"),
        ("a..b", "'..'"),
    ],
)
def test_bad_attribute_names(name: str, reason: str) -> None:
    with pytest.raises(InvalidAttributeName, match=reason):
        encode_attributes({name: "v"})


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "non-empty StringValue"),
        ({"DataType": "String"}, "non-empty StringValue"),
        ({"DataType": "Binary", "BinaryValue": b""}, "non-empty BinaryValue"),
        ({"DataType": "Text", "StringValue": "x"}, "String, Number or Binary"),
        ({"DataType": "Number", "StringValue": "12abc"}, "not a number"),
        ({"DataType": "Number", "StringValue": "1" * 39}, "out of range"),
        ({"DataType": "Binary", "BinaryValue": "not base64!"}, "not base64"),
        (True, "is a bool"),
        (float("inf"), "not a finite number"),
        ([1, 2], "value of type list"),
        ("bad\x00char", "U\\+0000"),
    ],
)
def test_bad_attribute_values(value: object, reason: str) -> None:
    with pytest.raises(InvalidParameterValue, match=reason):
        encode_attributes({"name": value})


def test_bad_attribute_errors_are_specific_types() -> None:
    with pytest.raises(InvalidAttributeValue):
        encode_attributes({"n": ""})
    with pytest.raises(InvalidAttributeName):
        encode_attributes({"AWS.x": "v"})
