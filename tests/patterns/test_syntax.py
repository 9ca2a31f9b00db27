"""The document grammar: objects, $or, sizes and depth; branches and path overrides."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eventyard.errors import InvalidEventPattern, InvalidFilterPolicy
from eventyard.patterns._syntax import (
    EVENT_PATTERN,
    EVENT_PATTERN_MAX_BYTES,
    MAX_NESTING_DEPTH,
    MAX_OR_COMBINATIONS,
    compile_syntax,
    filter_policy_dialect,
)


def branches_of(pattern: object) -> list[dict[str, int]]:
    """Each branch as {path: number of values}, for compact assertions."""
    compiled = compile_syntax(pattern, EVENT_PATTERN)
    return [
        {test.path: test.condition.value_count for test in branch} for branch in compiled.branches
    ]


def nested(depth: int) -> dict[str, Any]:
    pattern: dict[str, Any] = {"leaf": ["x"]}
    for _ in range(depth - 1):
        pattern = {"a": pattern}
    return pattern


# (id, pattern, where the error points, words the reason must contain)
INVALID: list[tuple[str, Any, str, str]] = [
    ("not-an-object-list", [{"a": ["b"]}], "", "must be a JSON object"),
    ("not-an-object-string", '"source"', "", "must be a JSON object"),
    ("not-json", '{"source": [', "", "must be valid JSON"),
    ("empty-object", {}, "", "empty objects are not allowed"),
    ("empty-nested-object", {"detail": {}}, "at detail:", "empty objects are not allowed"),
    ("leaf-string", {"source": "aws.ec2"}, "at source:", "must be an object or an array"),
    ("leaf-number", {"detail": {"total": 42}}, "at detail.total:", "must be an object or an array"),
    ("leaf-null", {"a": None}, "at a:", "must be an object or an array"),
    ("or-not-array", {"$or": {"a": ["b"]}}, "at $or:", "array of at least 2 objects"),
    ("or-one-object", {"$or": [{"a": ["b"]}]}, "at $or:", "at least 2 objects"),
    ("or-empty", {"$or": []}, "at $or:", "at least 2 objects"),
    ("or-not-objects", {"$or": ["a", "b"]}, "at $or[0]:", "must be an object"),
    (
        "or-nested-bad",
        {"detail": {"$or": [{"a": [1]}, {"b": []}]}},
        "detail.$or[1].b",
        "empty arrays",
    ),
    (
        "or-reserved-name",
        {"$or": [{"prefix": ["a"]}, {"b": ["c"]}]},
        "at $or[0].prefix:",
        "reserved word",
    ),
    (
        "or-reserved-deep",
        {"$or": [{"a": {"numeric": ["x"]}}, {"b": ["c"]}]},
        "$or[0].a.numeric",
        "reserved word",
    ),
    ("non-finite", {"a": [float("nan")]}, "", "JSON"),
    ("non-string-key", {1: ["a"]}, "", "field names must be strings"),
]


@pytest.mark.parametrize(
    ("pattern", "where", "reason"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_invalid_patterns_name_the_reason_and_the_place(
    pattern: Any, where: str, reason: str
) -> None:
    with pytest.raises(InvalidEventPattern) as caught:
        compile_syntax(pattern, EVENT_PATTERN)
    message = str(caught.value)
    assert message.startswith("Event pattern is not valid")
    assert where in message
    assert reason in message


# Valid neighbours of the errors above: the same operators, well formed.
VALID: list[tuple[str, Any]] = [
    ("or-two", {"$or": [{"a": ["b"]}, {"c": ["d"]}]}),
    ("reserved-name-outside-or", {"prefix": ["a"], "numeric": [1]}),
    ("deep-enough", nested(MAX_NESTING_DEPTH)),
]


@pytest.mark.parametrize("pattern", [case[1] for case in VALID], ids=[case[0] for case in VALID])
def test_valid_neighbours_compile(pattern: Any) -> None:
    assert compile_syntax(pattern, EVENT_PATTERN).branches


def test_too_deep_names_the_limit() -> None:
    with pytest.raises(InvalidEventPattern, match=f"deeper than {MAX_NESTING_DEPTH} levels"):
        compile_syntax(nested(MAX_NESTING_DEPTH + 1), EVENT_PATTERN)


def test_absurdly_deep_json_text_is_an_error_not_a_crash() -> None:
    text = '{"a":' * 5000 + '["x"]' + "}" * 5000
    with pytest.raises(InvalidEventPattern):
        compile_syntax(text, EVENT_PATTERN)


def test_size_limit_is_4096_bytes_of_compact_json() -> None:
    def pattern_of(size: int) -> dict[str, Any]:
        overhead = len('{"a":[""]}')
        return {"a": ["x" * (size - overhead)]}

    assert len(json.dumps(pattern_of(EVENT_PATTERN_MAX_BYTES), separators=(",", ":"))) == 4096
    compile_syntax(pattern_of(EVENT_PATTERN_MAX_BYTES), EVENT_PATTERN)
    with pytest.raises(InvalidEventPattern, match="4097 bytes of compact JSON; the limit is 4096"):
        compile_syntax(pattern_of(EVENT_PATTERN_MAX_BYTES + 1), EVENT_PATTERN)


def test_size_counts_utf8_bytes_not_characters() -> None:
    emoji = "🚀" * 1100  # 4400 bytes, 1100 characters
    with pytest.raises(InvalidEventPattern, match="the limit is 4096"):
        compile_syntax({"a": [emoji]}, EVENT_PATTERN)


def test_whitespace_does_not_count_towards_the_size() -> None:
    text = '{"a": [' + " " * 5000 + '"b"]}'
    assert compile_syntax(text, EVENT_PATTERN).canonical_json == '{"a":["b"]}'


def test_or_combinations_limit() -> None:
    four = [{f"k{n}": [n]} for n in range(4)]
    five = [{f"k{n}": [n]} for n in range(5)]
    # 4 * 4 * 4 * 4 * 4 = 1024 > 1000; 5 * 5 * 5 * 5 = 625 is fine
    compile_syntax(
        {"a": {"$or": five}, "b": {"$or": five}, "c": {"$or": five}, "d": {"$or": five}},
        EVENT_PATTERN,
    )
    too_many = {f"x{n}": {"$or": four} for n in range(5)}
    with pytest.raises(InvalidEventPattern, match=f"more than {MAX_OR_COMBINATIONS} combinations"):
        compile_syntax(too_many, EVENT_PATTERN)


def test_nesting_and_dotted_keys_are_the_same_path() -> None:
    assert branches_of({"a": {"b": [1]}}) == branches_of({"a.b": [1]}) == [{"a.b": 1}]


def test_or_expands_to_branches_sharing_the_outer_fields() -> None:
    pattern = {
        "source": ["aws.cloudwatch"],
        "$or": [
            {"metricName": ["CPUUtilization", "ReadLatency"]},
            {"metricType": ["MetricType"], "namespace": ["AWS/EC2", "AWS/ES"]},
            {"scope": ["Service"]},
        ],
    }
    assert branches_of(pattern) == [
        {"source": 1, "metricName": 2},
        {"source": 1, "metricType": 1, "namespace": 2},
        {"source": 1, "scope": 1},
    ]


def test_nested_or_multiplies_alternatives() -> None:
    pattern = {"$or": [{"a": [1]}, {"b": [1]}], "detail": {"$or": [{"c": [1]}, {"d": [1]}]}}
    assert sorted(sorted(branch) for branch in branches_of(pattern)) == [
        ["a", "detail.c"],
        ["a", "detail.d"],
        ["b", "detail.c"],
        ["b", "detail.d"],
    ]


def test_later_mention_of_a_path_overrides_an_earlier_one() -> None:
    compiled = compile_syntax('{"a": {"b": [1]}, "a.b": [2, 3]}', EVENT_PATTERN)
    (branch,) = compiled.branches
    assert [test.condition.value_count for test in branch] == [2]
    # duplicate JSON keys: the last one is used (as AWS documents)
    compiled = compile_syntax('{"loc": [{"prefix": "us-"}], "loc": ["x", "y", "z"]}', EVENT_PATTERN)
    assert compiled.branches[0][0].condition.value_count == 3


def test_branches_are_sorted_by_path() -> None:
    (branch,) = compile_syntax(
        {"source": ["a"], "detail": {"z": [1], "a": [1]}, "detail-type": ["t"]}, EVENT_PATTERN
    ).branches
    assert [test.path for test in branch] == ["detail-type", "detail.a", "detail.z", "source"]


def test_canonical_json_is_compact_and_keeps_key_order() -> None:
    compiled = compile_syntax('{ "b": ["x"],\n  "a": [ 1 ] }', EVENT_PATTERN)
    assert compiled.canonical_json == '{"b":["x"],"a":[1]}'


def test_bytes_input_must_be_utf8() -> None:
    assert compile_syntax(b'{"a": ["\xc3\xa9"]}', EVENT_PATTERN).canonical_json == '{"a":["é"]}'
    with pytest.raises(InvalidEventPattern, match="UTF-8"):
        compile_syntax(b'{"a": ["\xff"]}', EVENT_PATTERN)


def test_filter_policy_dialect_rejects_wildcards_and_nesting() -> None:
    flat = filter_policy_dialect(nested=False)
    with pytest.raises(InvalidFilterPolicy, match="wildcard is not supported"):
        compile_syntax({"a": [{"wildcard": "*"}]}, flat)
    with pytest.raises(InvalidFilterPolicy, match="unsupported anything-but operator 'wildcard'"):
        compile_syntax({"a": [{"anything-but": {"wildcard": "*"}}]}, flat)
    with pytest.raises(InvalidFilterPolicy, match="at a: nested objects are not allowed"):
        compile_syntax({"a": {"b": ["c"]}}, flat)
    assert compile_syntax({"a": {"b": ["c"]}}, filter_policy_dialect(nested=True)).branches


def test_filter_policy_reads_a_malformed_or_as_an_ordinary_key() -> None:
    flat = filter_policy_dialect(nested=False)
    (branch,) = compile_syntax({"$or": ["a", "b"]}, flat).branches
    assert [test.path for test in branch] == ["$or"]
    with pytest.raises(InvalidFilterPolicy, match=r"unknown operator 'numeric'|numeric takes"):
        compile_syntax({"$or": [{"numeric": 123}, {"prefix": "abc"}]}, flat)
