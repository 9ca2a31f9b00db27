"""SNS filter policies: attribute shapes, body scope, limits, and the shared operators."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

from eventyard.errors import InvalidFilterPolicy
from eventyard.patterns import FilterPolicy, compile_filter_policy
from eventyard.patterns._filter_policy import value_combinations
from eventyard.patterns._syntax import compile_syntax, filter_policy_dialect


def string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def number(value: str) -> dict[str, str]:
    return {"DataType": "Number", "StringValue": value}


def string_array(values: list[Any]) -> dict[str, str]:
    return {"DataType": "String.Array", "StringValue": json.dumps(values)}


BINARY = {"DataType": "Binary", "BinaryValue": b"\x00\x01"}

# The SNS documentation's example message.
DOC_ATTRIBUTES = {
    "store": string("example_corp"),
    "event": string("order_placed"),
    "customer_interests": string_array(["soccer", "rugby", "hockey"]),
    "price_usd": number("210.75"),
}
DOC_POLICY = {
    "store": ["example_corp"],
    "event": [{"anything-but": "order_cancelled"}],
    "customer_interests": ["rugby", "football", "baseball"],
    "price_usd": [{"numeric": [">=", 100]}],
}


# -- the API ---------------------------------------------------------------------


def test_default_scope_is_message_attributes() -> None:
    policy = compile_filter_policy({"store": ["example_corp"]})
    assert policy.scope == "MessageAttributes"
    assert policy.matches("{}", {"store": string("example_corp")})
    assert not policy.matches("{}", {"store": string("other")})


def test_documentation_example_matches_and_each_condition_counts() -> None:
    policy = compile_filter_policy(DOC_POLICY)
    assert policy.matches("order body", DOC_ATTRIBUTES)
    for name, replacement in [
        ("store", string("other_corp")),
        ("event", string("order_cancelled")),
        ("customer_interests", string_array(["chess"])),
        ("price_usd", number("99.99")),
    ]:
        assert not policy.matches("order body", {**DOC_ATTRIBUTES, name: replacement}), name


def test_policy_exposes_json_source_and_scope_and_is_immutable() -> None:
    policy = compile_filter_policy('{"a": {"b": ["c"]}}', scope="MessageBody")
    assert policy.json == '{"a":{"b":["c"]}}'
    assert policy.source == {"a": {"b": ["c"]}}
    assert policy.scope == "MessageBody"
    with pytest.raises(AttributeError):
        policy._scope = "MessageAttributes"
    assert pickle.loads(pickle.dumps(policy)) == policy
    assert hash(policy) == hash(compile_filter_policy({"a": {"b": ["c"]}}, scope="MessageBody"))
    assert isinstance(policy, FilterPolicy)


def test_compiling_a_compiled_policy_keeps_or_changes_its_scope() -> None:
    policy = compile_filter_policy({"a": ["b"]})
    assert compile_filter_policy(policy) is policy
    as_body = compile_filter_policy(policy, scope="MessageBody")
    assert as_body.scope == "MessageBody"
    assert as_body != policy


def test_unknown_scope_is_rejected() -> None:
    with pytest.raises(
        InvalidFilterPolicy, match="scope must be MessageAttributes or MessageBody, got 'Body'"
    ):
        compile_filter_policy({"a": ["b"]}, scope="Body")  # type: ignore[arg-type]


# -- message attributes ----------------------------------------------------------

ATTRIBUTE_CASES: list[tuple[str, dict[str, Any], dict[str, Any] | None, bool]] = [
    ("string", {"a": ["x"]}, {"a": string("x")}, True),
    ("string-other", {"a": ["x"]}, {"a": string("y")}, False),
    (
        "custom-string-type",
        {"a": ["x"]},
        {"a": {"DataType": "String.custom", "StringValue": "x"}},
        True,
    ),
    ("notification-shape", {"a": ["x"]}, {"a": {"Type": "String", "Value": "x"}}, True),
    ("bare-value", {"a": ["x"]}, {"a": "x"}, True),
    ("missing", {"a": ["x"]}, {"b": string("x")}, False),
    ("no-attributes", {"a": ["x"]}, None, False),
    ("empty-attributes", {"a": ["x"]}, {}, False),
    ("number-exact", {"price": [100]}, {"price": number("100")}, True),
    ("number-exact-spelled-differently", {"price": [100]}, {"price": number("1.0e2")}, True),
    ("number-exact-float", {"price": [100.5]}, {"price": number("100.50")}, True),
    (
        "custom-number-type",
        {"price": [100]},
        {"price": {"DataType": "Number.int", "StringValue": "100"}},
        True,
    ),
    ("number-range", {"price": [{"numeric": [">", 10, "<=", 20]}]}, {"price": number("15")}, True),
    (
        "number-range-outside",
        {"price": [{"numeric": [">", 10, "<=", 20]}]},
        {"price": number("25")},
        False,
    ),
    (
        "numeric-on-string-attribute",
        {"price": [{"numeric": [">", 10]}]},
        {"price": string("15")},
        False,
    ),
    ("string-value-on-number-attribute", {"price": ["100"]}, {"price": number("100")}, False),
    ("number-value-on-string-attribute", {"price": [100]}, {"price": string("100")}, False),
    ("malformed-number-is-ignored", {"price": [{"exists": True}]}, {"price": number("ten")}, False),
    ("huge-number", {"price": [{"numeric": [">", 0]}]}, {"price": number("1" * 5000)}, False),
    (
        "string-array",
        {"interests": ["rugby"]},
        {"interests": string_array(["soccer", "rugby"])},
        True,
    ),
    ("string-array-none", {"interests": ["rugby"]}, {"interests": string_array(["soccer"])}, False),
    (
        "string-array-numbers",
        {"sizes": [{"numeric": [">", 10]}]},
        {"sizes": string_array([1, 20])},
        True,
    ),
    ("string-array-null", {"x": [None]}, {"x": string_array([None, "a"])}, True),
    ("string-array-empty-exists", {"x": [{"exists": True}]}, {"x": string_array([])}, False),
    (
        "string-array-malformed",
        {"x": [{"exists": True}]},
        {"x": {"DataType": "String.Array", "StringValue": "[oops"}},
        False,
    ),
    ("string-that-looks-like-array", {"x": ["a"]}, {"x": string('["a"]')}, False),
    ("binary-never-matches", {"b": [{"exists": True}]}, {"b": BINARY}, False),
    ("binary-is-absent", {"b": [{"exists": False}]}, {"b": BINARY}, True),
    ("exists-false-missing", {"b": [{"exists": False}]}, {"a": string("x")}, True),
    ("exists-false-present", {"b": [{"exists": False}]}, {"b": string("x")}, False),
    (
        "anything-but",
        {"event": [{"anything-but": ["order_cancelled", "order_failed"]}]},
        {"event": string("order_placed")},
        True,
    ),
    (
        "anything-but-listed",
        {"event": [{"anything-but": ["order_cancelled"]}]},
        {"event": string("order_cancelled")},
        False,
    ),
    ("anything-but-missing", {"event": [{"anything-but": "x"}]}, {}, False),
    (
        "anything-but-prefix",
        {"event": [{"anything-but": {"prefix": "order-"}}]},
        {"event": string("refund-1")},
        True,
    ),
    (
        "prefix",
        {"customer_interests": [{"prefix": "bas"}]},
        {"customer_interests": string("baseball")},
        True,
    ),
    ("suffix", {"file": [{"suffix": ".png"}]}, {"file": string("a.PNG")}, False),
    (
        "equals-ignore-case",
        {"store": [{"equals-ignore-case": "Example_Corp"}]},
        {"store": string("EXAMPLE_CORP")},
        True,
    ),
    ("cidr", {"source_ip": [{"cidr": "10.0.0.0/24"}]}, {"source_ip": string("10.0.0.7")}, True),
    (
        "cidr-outside",
        {"source_ip": [{"cidr": "10.0.0.0/24"}]},
        {"source_ip": string("10.0.1.7")},
        False,
    ),
    ("dotted-attribute-name", {"store.name": ["x"]}, {"store.name": string("x")}, True),
    (
        "or",
        {
            "source": ["aws.cloudwatch"],
            "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}],
        },
        {"source": string("aws.cloudwatch"), "namespace": string("AWS/EC2")},
        True,
    ),
    (
        "or-none",
        {
            "source": ["aws.cloudwatch"],
            "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}],
        },
        {"source": string("aws.cloudwatch"), "namespace": string("AWS/S3")},
        False,
    ),
    ("malformed-or-is-a-key", {"$or": ["a", "b"]}, {"$or": string("a")}, True),
]


@pytest.mark.parametrize(
    ("policy", "attributes", "expected"),
    [case[1:] for case in ATTRIBUTE_CASES],
    ids=[case[0] for case in ATTRIBUTE_CASES],
)
def test_message_attributes(
    policy: dict[str, Any], attributes: dict[str, Any] | None, expected: bool
) -> None:
    assert compile_filter_policy(policy).matches("ignored body", attributes) is expected


def test_attribute_scope_ignores_the_body() -> None:
    policy = compile_filter_policy({"a": ["x"]})
    assert not policy.matches('{"a": "x"}', {})


# -- message body ----------------------------------------------------------------

BODY_POLICY = {
    "store": ["example_corp"],
    "customer": {"interests": ["rugby"], "tier": [{"anything-but": "basic"}]},
}

BODY_CASES: list[tuple[str, Any, bool]] = [
    (
        "json-text",
        '{"store": "example_corp", "customer": {"interests": ["soccer", "rugby"], "tier": "gold"}}',
        True,
    ),
    (
        "bytes",
        b'{"store": "example_corp", "customer": {"interests": "rugby", "tier": "gold"}}',
        True,
    ),
    ("dict", {"store": "example_corp", "customer": {"interests": "rugby", "tier": "gold"}}, True),
    (
        "excluded-tier",
        {"store": "example_corp", "customer": {"interests": "rugby", "tier": "basic"}},
        False,
    ),
    ("missing-nested", {"store": "example_corp"}, False),
    ("not-json", "order 42 placed", False),
    ("json-array", "[1, 2]", False),
    ("json-string", '"text"', False),
    ("empty", "", False),
    ("none", None, False),
]


@pytest.mark.parametrize(
    ("body", "expected"), [case[1:] for case in BODY_CASES], ids=[case[0] for case in BODY_CASES]
)
def test_message_body(body: Any, expected: bool) -> None:
    policy = compile_filter_policy(BODY_POLICY, scope="MessageBody")
    assert policy.matches(body, {"store": string("example_corp")}) is expected


def test_body_scope_ignores_the_attributes() -> None:
    policy = compile_filter_policy({"a": ["x"]}, scope="MessageBody")
    assert not policy.matches("{}", {"a": string("x")})


def test_body_scope_array_consistency_and_exists() -> None:
    policy = compile_filter_policy(
        {"items": {"sku": ["A"], "qty": [{"numeric": [">", 1]}]}}, scope="MessageBody"
    )
    assert policy.matches({"items": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}]})
    assert not policy.matches({"items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]})


# -- limits ------------------------------------------------------------------------


def keys(count: int) -> dict[str, list[str]]:
    return {f"key_{n}": ["v"] for n in range(count)}


def test_five_keys_are_allowed_six_are_not() -> None:
    compile_filter_policy(keys(5))
    with pytest.raises(InvalidFilterPolicy, match=r"it has 6 keys .*; the limit is 5"):
        compile_filter_policy(keys(6))


def test_only_leaf_keys_count_in_a_nested_policy() -> None:
    compile_filter_policy({"a": {"b": {"c": ["v"]}}, "d": {"e": ["v"]}}, scope="MessageBody")
    with pytest.raises(InvalidFilterPolicy, match="6 keys"):
        compile_filter_policy({"a": keys(4), "b": ["v"], "c": ["v"]}, scope="MessageBody")


def test_keys_are_counted_per_or_alternative() -> None:
    compile_filter_policy(
        {"k1": ["v"], "k2": ["v"], "$or": [keys(3), {"x": ["v"], "y": ["v"], "z": ["v"]}]}
    )
    with pytest.raises(InvalidFilterPolicy, match="6 keys"):
        compile_filter_policy({"k1": ["v"], "k2": ["v"], "$or": [keys(4), {"x": ["v"]}]})


def test_150_value_combinations_are_allowed_151_are_not() -> None:
    fifty = [f"v{n}" for n in range(50)]
    compile_filter_policy({"a": fifty, "b": ["x", "y", "z"]})  # 50 x 3 = 150
    compile_filter_policy({"a": [f"v{n}" for n in range(150)]})
    with pytest.raises(InvalidFilterPolicy, match="151 value combinations; the limit is 150"):
        compile_filter_policy({"a": [f"v{n}" for n in range(151)]})
    with pytest.raises(InvalidFilterPolicy, match="153 value combinations"):
        compile_filter_policy({"a": [*fifty, "extra"], "b": ["x", "y", "z"]})  # 51 x 3


def test_nested_keys_multiply_combinations_by_their_level() -> None:
    documented = {
        "key_a": {"key_b": {"key_c": ["1", "2", "3", "4"]}},
        "key_d": {"key_e": ["1", "2", "3"]},
    }
    compile_filter_policy(documented, scope="MessageBody")  # 3 x 4 x 2 x 3 = 72
    with pytest.raises(InvalidFilterPolicy, match="216 value combinations"):
        compile_filter_policy({**documented, "key_f": ["1", "2", "3"]}, scope="MessageBody")


def test_or_alternatives_add_up() -> None:
    documented = {
        "source": ["aws.cloudwatch"],
        "$or": [
            {"metricName": ["CPUUtilization", "ReadLatency"]},
            {
                "metricType": ["MetricType"],
                "$or": [{"metricId": [1234, 4321]}, {"spaceId": [1000, 2000, 3000]}],
            },
        ],
    }
    compile_filter_policy(documented)  # (1 x 2) + (1 x 1 x 2) + (1 x 1 x 3) = 7
    wide = {"$or": [{"a": [f"{n}" for n in range(76)]}, {"b": [f"{n}" for n in range(75)]}]}
    with pytest.raises(InvalidFilterPolicy, match="151 value combinations"):
        compile_filter_policy(wide)


@pytest.mark.parametrize(
    ("policy", "combinations"),
    [
        ({"key_a": ["1", "2", "3"], "key_b": ["1"], "key_c": ["1", "2"]}, 6),
        (
            {
                "key_a": {"key_b": {"key_c": ["1", "2", "3", "4"]}},
                "key_d": {"key_e": ["1", "2", "3"]},
            },
            72,
        ),
        (
            {
                "source": ["aws.cloudwatch"],
                "$or": [
                    {"metricName": ["CPUUtilization", "ReadLatency"]},
                    {
                        "metricType": ["MetricType"],
                        "$or": [{"metricId": [1, 2]}, {"spaceId": [1, 2, 3]}],
                    },
                ],
            },
            7,
        ),
        (
            {
                "$or": [{"metricName": ["CPU", "Read"]}, {"namespace": ["AWS/EC2", "AWS/ES"]}],
                "detail": {
                    "scope": ["Service"],
                    "$or": [{"source": ["aws.cw"]}, {"type": ["Alarm"]}],
                },
            },
            32,
        ),
    ],
)
def test_documented_combination_counts(policy: dict[str, Any], combinations: int) -> None:
    compiled = compile_syntax(policy, filter_policy_dialect(nested=True))
    assert value_combinations(compiled.branches) == combinations


def test_size_limit_is_256_kib() -> None:
    with pytest.raises(InvalidFilterPolicy, match="the limit is 262144 bytes"):
        compile_filter_policy({"a": ["x" * 262_144]})


def test_nested_policy_needs_the_body_scope() -> None:
    with pytest.raises(InvalidFilterPolicy, match="at customer: nested objects are not allowed"):
        compile_filter_policy({"customer": {"tier": ["gold"]}})


@pytest.mark.parametrize(
    ("policy", "where", "reason"),
    [
        ({"a": [{"wildcard": "*x"}]}, "a[0]", "wildcard is not supported"),
        ({"a": []}, "at a:", "empty arrays are not allowed"),
        ({"a": "x"}, "at a:", "must be an object or an array"),
        ({"a": [{"numeric": [">", 5, "<", 1]}]}, "a[0].numeric", "must be below"),
        ({"a": [{"cidr": "10.0.0.1"}]}, "a[0].cidr", "exactly one '/'"),
        ({"a": [{"NUMERIC": [">", 1]}]}, "a[0]", "unknown operator 'NUMERIC'"),
        ({}, "", "empty objects are not allowed"),
        ([], "", "must be a JSON object"),
    ],
)
def test_malformed_policies_name_the_reason_and_place(policy: Any, where: str, reason: str) -> None:
    with pytest.raises(InvalidFilterPolicy) as caught:
        compile_filter_policy(policy)
    message = str(caught.value)
    assert message.startswith("Filter policy is not valid")
    assert where in message
    assert reason in message


def test_matching_never_raises_on_odd_attributes() -> None:
    policy = compile_filter_policy({"a": [{"exists": False}]})
    odd: dict[Any, Any] = {
        1: string("x"),
        "b": None,
        "c": {"DataType": None},
        "d": {"DataType": "Number", "StringValue": "nan"},
        "e": {"DataType": "Number", "StringValue": "inf"},
        "f": object(),
        "g": {"DataType": "String.Array", "StringValue": "5"},
    }
    assert policy.matches(None, odd) is True
