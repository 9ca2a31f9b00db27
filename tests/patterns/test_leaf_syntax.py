"""A field's list: every malformed operator argument is rejected, naming place and reason."""

from __future__ import annotations

from typing import Any

import pytest

from eventyard.errors import InvalidEventPattern
from eventyard.patterns._leaf_syntax import LeafCompiler, describe
from eventyard.patterns._syntax import EVENT_PATTERN, compile_syntax


def compile_leaf(values: list[Any], *, allow_wildcard: bool = True) -> Any:
    compiler = LeafCompiler(
        lambda where, reason: ValueError(f"{where}: {reason}"), allow_wildcard=allow_wildcard
    )
    return compiler.compile(values, "field")


# (id, pattern, where the error points, words the reason must contain)
INVALID: list[tuple[str, Any, str, str]] = [
    ("empty-list", {"detail": {"total": []}}, "at detail.total:", "empty arrays are not allowed"),
    ("leaf-nested-array", {"a": [["x"]]}, "at a[0]:", "must be a string, number"),
    ("unknown-operator", {"a": [{"startswith": "x"}]}, "at a[0]:", "unknown operator 'startswith'"),
    ("operator-case", {"a": [{"EXISTS": True}]}, "at a[0]:", "unknown operator 'EXISTS'"),
    ("two-operators", {"a": [{"prefix": "x", "suffix": "y"}]}, "at a[0]:", "exactly one operator"),
    ("no-operator", {"a": [{}]}, "at a[0]:", "exactly one operator"),
    ("prefix-number", {"a": [{"prefix": 1}]}, "at a[0].prefix:", "prefix takes a string"),
    ("prefix-list", {"a": [{"prefix": ["x"]}]}, "at a[0].prefix:", "prefix takes a string"),
    ("prefix-bad-inner", {"a": [{"prefix": {"suffix": "x"}}]}, "at a[0].prefix:", "prefix takes"),
    (
        "prefix-inner-number",
        {"a": [{"prefix": {"equals-ignore-case": 1}}]},
        "a[0].prefix.equals-ignore-case",
        "takes a string",
    ),
    ("suffix-number", {"a": [{"suffix": 1}]}, "at a[0].suffix:", "suffix takes a string"),
    (
        "eic-list",
        {"a": [{"equals-ignore-case": ["x"]}]},
        "a[0].equals-ignore-case",
        "takes a string",
    ),
    ("exists-string", {"a": [{"exists": "true"}]}, "at a[0].exists:", "true or false"),
    ("exists-number", {"a": [{"exists": 1}]}, "at a[0].exists:", "true or false"),
    (
        "numeric-not-array",
        {"detail": {"total": [{"numeric": ">"}]}},
        "detail.total[0].numeric",
        "takes an array",
    ),
    ("numeric-empty", {"detail": {"total": [{"numeric": []}]}}, "detail.total[0].numeric", "empty"),
    (
        "numeric-bad-operator",
        {"detail": {"total": [{"numeric": ["!=", 1]}]}},
        "detail.total[0].numeric[0]",
        "unknown numeric operator",
    ),
    (
        "numeric-operator-not-string",
        {"t": [{"numeric": [1, 2]}]},
        "t[0].numeric[0]",
        "unknown numeric operator",
    ),
    (
        "numeric-missing-number",
        {"t": [{"numeric": [">"]}]},
        "t[0].numeric",
        "must be followed by a number",
    ),
    (
        "numeric-non-number",
        {"detail": {"total": [{"numeric": [">", "5"]}]}},
        "detail.total[0].numeric[1]",
        "must be a number",
    ),
    ("numeric-boolean", {"t": [{"numeric": [">", True]}]}, "t[0].numeric[1]", "must be a number"),
    ("numeric-null", {"t": [{"numeric": ["=", None]}]}, "t[0].numeric[1]", "must be a number"),
    (
        "numeric-lower-above-upper",
        {"detail": {"total": [{"numeric": [">", 10, "<", 5]}]}},
        "detail.total[0].numeric",
        "lower bound 10 must be below the upper bound 5",
    ),
    (
        "numeric-empty-range",
        {"t": [{"numeric": [">=", 5, "<=", 5]}]},
        "t[0].numeric",
        "must be below",
    ),
    (
        "numeric-upper-first",
        {"t": [{"numeric": ["<", 5, ">", 0]}]},
        "t[0].numeric",
        "wrong operator order",
    ),
    (
        "numeric-two-lowers",
        {"t": [{"numeric": [">", 0, ">", 1]}]},
        "t[0].numeric[2]",
        "needs '<' or '<='",
    ),
    (
        "numeric-equals-range",
        {"t": [{"numeric": ["=", 0, "<", 1]}]},
        "t[0].numeric",
        "exactly one number",
    ),
    (
        "numeric-dangling",
        {"t": [{"numeric": [">", 0, "<"]}]},
        "t[0].numeric",
        "must be followed by a number",
    ),
    (
        "numeric-too-long",
        {"t": [{"numeric": [">", 0, "<", 1, "<", 2]}]},
        "t[0].numeric",
        "at most 4 elements",
    ),
    (
        "numeric-out-of-range",
        {"t": [{"numeric": [">", 6e9]}]},
        "t[0].numeric[1]",
        "outside the supported range",
    ),
    ("cidr-no-slash", {"ip": [{"cidr": "10.0.0.1"}]}, "ip[0].cidr", "exactly one '/'"),
    (
        "cidr-bad-address",
        {"ip": [{"cidr": "10.0.0.300/24"}]},
        "ip[0].cidr",
        "not an IPv4 or IPv6 address",
    ),
    ("cidr-bad-mask", {"ip": [{"cidr": "10.0.0.0/x"}]}, "ip[0].cidr", "whole number"),
    ("cidr-mask-too-long-v4", {"ip": [{"cidr": "10.0.0.0/33"}]}, "ip[0].cidr", "0 to 32"),
    ("cidr-mask-too-long-v6", {"ip": [{"cidr": "2001:db8::/129"}]}, "ip[0].cidr", "0 to 128"),
    ("cidr-not-string", {"ip": [{"cidr": ["10.0.0.0/8"]}]}, "ip[0].cidr", "cidr takes a string"),
    ("cidr-hostname", {"ip": [{"cidr": "example.com/8"}]}, "ip[0].cidr", "not an IPv4"),
    (
        "wildcard-double-star",
        {"f": [{"wildcard": "a**b"}]},
        "f[0].wildcard",
        "consecutive wildcard characters",
    ),
    ("wildcard-bad-escape", {"f": [{"wildcard": "a\\b"}]}, "f[0].wildcard", "invalid escape"),
    (
        "wildcard-not-string",
        {"f": [{"wildcard": ["a*"]}]},
        "f[0].wildcard",
        "wildcard takes a string",
    ),
    (
        "wildcard-too-complex",
        {"arn": [{"wildcard": "*:*:*:*:*:event-bus/*"}]},
        "at arn:",
        "too complex",
    ),
    (
        "wildcard-list-too-complex",
        {
            "k": [
                {"wildcard": "*.bif"},
                {"wildcard": "*.tiff"},
                {"wildcard": "*.tif"},
                {"wildcard": "*.svs"},
            ]
        },
        "at k:",
        "too complex",
    ),
    (
        "anything-but-null",
        {"s": [{"anything-but": None}]},
        "s[0].anything-but",
        "anything-but takes",
    ),
    (
        "anything-but-bool",
        {"s": [{"anything-but": True}]},
        "s[0].anything-but",
        "anything-but takes",
    ),
    ("anything-but-empty", {"s": [{"anything-but": []}]}, "s[0].anything-but", "empty"),
    (
        "anything-but-mixed",
        {"s": [{"anything-but": ["a", 1]}]},
        "s[0].anything-but",
        "all strings or all numbers",
    ),
    (
        "anything-but-null-in-list",
        {"s": [{"anything-but": ["a", None]}]},
        "s[0].anything-but[1]",
        "only strings or only numbers",
    ),
    (
        "anything-but-unknown",
        {"s": [{"anything-but": {"numeric": [">", 1]}}]},
        "s[0].anything-but",
        "unsupported anything-but operator 'numeric'",
    ),
    (
        "anything-but-two-keys",
        {"s": [{"anything-but": {"prefix": "a", "suffix": "b"}}]},
        "s[0].anything-but",
        "exactly one",
    ),
    (
        "anything-but-empty-prefix",
        {"s": [{"anything-but": {"prefix": ""}}]},
        "s[0].anything-but.prefix",
        "must not be empty",
    ),
    (
        "anything-but-empty-suffix",
        {"s": [{"anything-but": {"suffix": ""}}]},
        "s[0].anything-but.suffix",
        "must not be empty",
    ),
    (
        "anything-but-prefix-number",
        {"s": [{"anything-but": {"prefix": 1}}]},
        "s[0].anything-but.prefix",
        "string or a non-empty array",
    ),
    (
        "anything-but-prefix-object",
        {"s": [{"anything-but": {"prefix": {"equals-ignore-case": "a"}}}]},
        "s[0].anything-but.prefix",
        "string or a non-empty array",
    ),
    (
        "anything-but-eic-number",
        {"s": [{"anything-but": {"equals-ignore-case": 1}}]},
        "anything-but.equals-ignore-case",
        "string",
    ),
    (
        "anything-but-eic-list-number",
        {"s": [{"anything-but": {"equals-ignore-case": ["a", 1]}}]},
        "anything-but.equals-ignore-case[1]",
        "must be strings",
    ),
    (
        "anything-but-wildcard-number",
        {"s": [{"anything-but": {"wildcard": 1}}]},
        "anything-but.wildcard",
        "string",
    ),
    (
        "anything-but-wildcard-bad",
        {"s": [{"anything-but": {"wildcard": "a**"}}]},
        "anything-but.wildcard",
        "consecutive wildcard",
    ),
    (
        "anything-but-number-out-of-range",
        {"s": [{"anything-but": [6e9]}]},
        "s[0].anything-but[0]",
        "outside the supported range",
    ),
]


@pytest.mark.parametrize(
    ("pattern", "where", "reason"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_invalid_lists_name_the_reason_and_the_place(pattern: Any, where: str, reason: str) -> None:
    with pytest.raises(InvalidEventPattern) as caught:
        compile_syntax(pattern, EVENT_PATTERN)
    message = str(caught.value)
    assert message.startswith("Event pattern is not valid")
    assert where in message
    assert reason in message


# Valid neighbours of the errors above: the same operators, well formed.
VALID: list[tuple[str, Any]] = [
    ("one-value", {"detail": {"total": [5]}}),
    ("prefix-empty", {"a": [{"prefix": ""}]}),
    ("prefix-ignore-case", {"a": [{"prefix": {"equals-ignore-case": "x"}}]}),
    ("suffix-ignore-case", {"a": [{"suffix": {"equals-ignore-case": "x"}}]}),
    ("eic-empty", {"a": [{"equals-ignore-case": ""}]}),
    ("exists-false", {"a": [{"exists": False}]}),
    ("numeric-equals", {"t": [{"numeric": ["=", 3.018e2]}]}),
    ("numeric-range", {"t": [{"numeric": [">", 0, "<=", 5]}]}),
    ("numeric-upper", {"t": [{"numeric": ["<", 10]}]}),
    ("numeric-edges", {"t": [{"numeric": [">=", -5e9, "<=", 5e9]}]}),
    ("cidr-v4", {"ip": [{"cidr": "10.0.0.0/24"}]}),
    ("cidr-v4-32", {"ip": [{"cidr": "10.0.0.1/32"}]}),
    ("cidr-v6", {"ip": [{"cidr": "2001:db8:1234:1a00::/64"}]}),
    ("wildcard-escapes", {"f": [{"wildcard": "a\\*b\\\\c*"}]}),
    ("wildcard-empty", {"f": [{"wildcard": ""}]}),
    ("wildcard-five-stars", {"f": [{"wildcard": "a*b*c*d*e*f"}]}),
    ("anything-but-numbers", {"s": [{"anything-but": [100, 200.5]}]}),
    ("anything-but-zero", {"s": [{"anything-but": 0}]}),
    ("anything-but-prefix-list", {"s": [{"anything-but": {"prefix": ["a", "b"]}}]}),
    ("anything-but-wildcard-empty", {"s": [{"anything-but": {"wildcard": ""}}]}),
    ("anything-but-eic-list", {"s": [{"anything-but": {"equals-ignore-case": ["a", "B"]}}]}),
    ("null-and-empty-string", {"a": [None, ""]}),
    ("big-exact-number", {"account": [123456789012]}),
]


@pytest.mark.parametrize("pattern", [case[1] for case in VALID], ids=[case[0] for case in VALID])
def test_valid_neighbours_compile(pattern: Any) -> None:
    assert compile_syntax(pattern, EVENT_PATTERN).branches


def test_the_condition_counts_alternatives_and_sorts_them_by_kind() -> None:
    condition = compile_leaf(["a", 5, None, {"prefix": "b"}, {"exists": False}])
    assert condition.value_count == 5
    assert condition.exact_strings == frozenset({"a"})
    assert len(condition.exact_others) == 2
    assert len(condition.predicates) == 1
    assert condition.absence_ok
    assert not condition.any_value


def test_exists_true_and_false_together_accept_anything() -> None:
    condition = compile_leaf([{"exists": True}, {"exists": False}])
    assert condition.any_value
    assert condition.absence_ok


def test_errors_come_from_the_callers_factory() -> None:
    with pytest.raises(ValueError, match=r"^field\[0\]\.numeric: numeric takes an array"):
        compile_leaf([{"numeric": ">"}])
    with pytest.raises(ValueError, match=r"^field\[0\]: wildcard is not supported"):
        compile_leaf([{"wildcard": "*"}], allow_wildcard=False)


def test_describe_renders_json_and_truncates() -> None:
    assert describe(None) == "null"
    assert describe(["a", 1]) == '["a", 1]'
    assert describe("x" * 100).endswith("...")
    assert len(describe("x" * 100)) == 60
    assert describe(object()).startswith("<object")
