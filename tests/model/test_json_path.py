"""The JSONPath subset of InputPath / InputPathsMap: what parses, what is refused, what it finds."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventyard.errors import InvalidParameterValue
from eventyard.model.json_path import MAX_LENGTH, MISSING, JsonPath

EVENT: dict[str, Any] = {
    "version": "0",
    "detail-type": "EC2 Instance State-change Notification",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {
        "instance-id": "i-0123456789",
        "state": "RUNNING",
        "items": [{"id": 1, "tags": ["a"]}, {"id": 2}, {"name": "no id"}],
        "nothing": None,
        "a/b": "slash",
        "ünï": "unicode",
        "7": "digit name",
    },
}


@pytest.mark.parametrize(
    ("text", "steps", "definite"),
    [
        ("$", (), True),
        ("$.detail", ("detail",), True),
        ("$.detail-type", ("detail-type",), True),
        ("$.detail.instance-id", ("detail", "instance-id"), True),
        ("$.resources[0]", ("resources", 0), True),
        ("$.detail.items[12].tags[0]", ("detail", "items", 12, "tags", 0), True),
        ("$.detail.a/b", ("detail", "a/b"), True),
        ("$.detail.under_score", ("detail", "under_score"), True),
        ("$.detail.ünï", ("detail", "ünï"), True),
        ("$.detail.7", ("detail", "7"), True),
        ("$[0]", (0,), True),
        ("$.detail.*", None, False),
        ("$.detail.items[*].id", None, False),
        ("$.*", None, False),
    ],
)
def test_supported_paths_parse(text: str, steps: tuple[object, ...] | None, definite: bool) -> None:
    path = JsonPath.parse(text)
    assert path.text == text
    assert path.definite is definite
    if steps is not None:
        assert path.steps == steps


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "starts with '\\$'"),
        ("detail", "starts with '\\$'"),
        ("@.detail", "starts with '\\$'"),
        ("$.", "must follow '.'"),
        ("$.detail.", "must follow '.'"),
        ("$..detail", "deep scan"),
        ("$['detail']", "use dot notation for names"),
        ('$["detail"]', "use dot notation for names"),
        ("$.items[-1]", "non-negative array index"),
        ("$.items[0:2]", "non-negative array index"),
        ("$.items[0,1]", "non-negative array index"),
        ("$.items[?(@.id)]", "non-negative array index"),
        ("$.items[]", "non-negative array index"),
        ("$.items[ 0]", "non-negative array index"),
        ("$.items[٣]", "non-negative array index"),
        ("$.items[0", "not closed"),
        ("$.a b", "unexpected ' '"),
        ("$ .a", "unexpected ' '"),
        ("$.a:b", "unexpected ':'"),
        ("$.a$b", "unexpected '\\$'"),
        ("$detail", "unexpected 'd'"),
        ("$.a.**", "unexpected '\\*'"),
    ],
)
def test_unsupported_paths_are_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidParameterValue, match=reason) as caught:
        JsonPath.parse(text, "input_path")
    message = str(caught.value)
    assert message.startswith(f"input_path {text!r} is not a JSONPath EventBridge supports")
    assert "(at character" in message


def test_the_error_says_where() -> None:
    with pytest.raises(InvalidParameterValue, match=r"at character 9\)"):
        JsonPath.parse("$.detail..x")


def test_length_limit_is_256_characters() -> None:
    longest = "$." + "a" * (MAX_LENGTH - 2)
    assert JsonPath.parse(longest).text == longest
    with pytest.raises(InvalidParameterValue, match="has 257 characters; it may have at most 256"):
        JsonPath.parse(longest + "a", "input_path")


@pytest.mark.parametrize("value", [None, 5, ["$.a"], b"$.a"])
def test_a_path_must_be_a_string(value: object) -> None:
    with pytest.raises(InvalidParameterValue, match="input_path must be a string JSONPath"):
        JsonPath.parse(value, "input_path")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$", EVENT),
        ("$.version", "0"),
        ("$.detail-type", "EC2 Instance State-change Notification"),
        ("$.resources[0]", "arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"),
        ("$.detail.state", "RUNNING"),
        ("$.detail.items[0]", {"id": 1, "tags": ["a"]}),
        ("$.detail.items[0].tags[0]", "a"),
        ("$.detail.nothing", None),
        ("$.detail.a/b", "slash"),
        ("$.detail.ünï", "unicode"),
        ("$.detail.7", "digit name"),
        # missing: absent key, index past the end, name on a list, index on an object
        ("$.detail.absent", MISSING),
        ("$.detail.absent.deeper", MISSING),
        ("$.resources[1]", MISSING),
        ("$.resources.name", MISSING),
        ("$.detail[0]", MISSING),
        ("$.version.x", MISSING),
        ("$.detail.nothing.x", MISSING),
        ("$[0]", MISSING),
        # wildcards always give a list of the matches
        ("$.detail.items[*].id", [1, 2]),
        ("$.detail.items.*.id", [1, 2]),
        ("$.resources[*]", ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"]),
        ("$.detail.items[*].tags[0]", ["a"]),
        ("$.detail.absent.*", []),
        ("$.version.*", []),
        ("$.detail.items[*].missing", []),
    ],
)
def test_find(text: str, expected: object) -> None:
    assert JsonPath.parse(text).find(EVENT) == expected


def test_wildcard_on_an_object_gives_its_values_in_order() -> None:
    assert JsonPath.parse("$.*").find({"b": 1, "a": [2], "c": None}) == [1, [2], None]


def test_missing_is_not_null() -> None:
    assert JsonPath.parse("$.a").find({"a": None}) is None
    assert JsonPath.parse("$.a").find({}) is MISSING
    assert repr(MISSING) == "MISSING"


def test_booleans_are_not_indices_and_keys_are_exact() -> None:
    assert JsonPath.parse("$.a[1]").find({"a": [True, False]}) is False
    assert JsonPath.parse("$.A").find({"a": 1}) is MISSING


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "b", "0", "a-b"]), inner, max_size=3)
    ),
    max_leaves=12,
)
steps = st.sampled_from([".a", ".b", ".0", ".a-b", "[0]", "[1]", ".*", "[*]"])


@given(st.lists(steps, max_size=5), json_values)
def test_any_supported_path_finds_without_raising(parts: list[str], document: object) -> None:
    text = "$" + "".join(parts)
    path = JsonPath.parse(text)
    found = path.find(document)
    if not path.definite:
        assert isinstance(found, list)
    if found is not MISSING:
        json.dumps(found)  # what it finds is still JSON
