"""EventBridge event patterns: the public API, every edge rule, the AWS examples, properties."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from eventyard.errors import InvalidEventPattern, InvalidParameterValue
from eventyard.patterns import EventPattern, compile_pattern, matches

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

EC2_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "111122223333",
    "time": "2017-12-22T18:43:48Z",
    "region": "us-west-1",
    "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
    "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"},
}


def envelope(**fields: Any) -> dict[str, Any]:
    """An EventBridge envelope with some fields replaced or added."""
    event = {
        "version": "0",
        "id": "1",
        "source": "test-source",
        "detail-type": "test-detail-type",
        "account": "123456789012",
        "region": "us-east-2",
        "time": "2022-07-13T13:48:01Z",
        "resources": [],
    }
    event.update(
        {"detail-type" if key == "detail_type" else key: value for key, value in fields.items()}
    )
    return event


def detail(**fields: Any) -> dict[str, Any]:
    return envelope(detail=fields)


# -- the API ---------------------------------------------------------------------


def test_compile_accepts_a_dict_json_text_or_bytes() -> None:
    as_dict = compile_pattern({"source": ["aws.ec2"]})
    assert compile_pattern('{"source": ["aws.ec2"]}') == as_dict
    assert compile_pattern(b'{"source": ["aws.ec2"]}') == as_dict
    assert compile_pattern(as_dict) is as_dict


def test_matches_accepts_a_dict_or_json_text_event() -> None:
    pattern = compile_pattern(
        {"detail-type": ["OrderPlaced"], "detail": {"total": [{"numeric": [">", 1000]}]}}
    )
    event = {"detail-type": "OrderPlaced", "detail": {"total": 1500}}
    assert pattern.matches(event)
    assert pattern.matches(json.dumps(event))
    assert pattern.matches(json.dumps(event).encode())
    assert not pattern.matches({"detail-type": "OrderPlaced", "detail": {"total": 999}})


def test_convenience_matches_takes_any_form_of_pattern() -> None:
    event = {"source": "aws.ec2"}
    assert matches({"source": ["aws.ec2"]}, event)
    assert matches('{"source": ["aws.ec2"]}', json.dumps(event))
    assert matches(compile_pattern({"source": ["aws.ec2"]}), event)
    assert not matches({"source": ["aws.s3"]}, event)


def test_invalid_pattern_raises_at_compile_time_with_the_place() -> None:
    with pytest.raises(InvalidEventPattern, match=r"at detail\.total: empty arrays"):
        compile_pattern({"detail": {"total": []}})
    with pytest.raises(InvalidEventPattern):
        matches({"detail": {"total": []}}, {})


def test_event_that_is_not_json_raises_and_json_that_is_not_an_object_does_not_match() -> None:
    pattern = compile_pattern({"a": [{"exists": False}]})
    with pytest.raises(InvalidParameterValue, match="event is not valid JSON"):
        pattern.matches("{not json")
    for not_an_object in ("[1, 2]", "5", '"text"', "null"):
        assert pattern.matches(not_an_object) is False


def test_json_and_source_expose_the_pattern_for_storage() -> None:
    source = {"source": ["aws.ec2"], "detail": {"state": [{"anything-but": "running"}]}}
    pattern = compile_pattern(source)
    assert pattern.json == '{"source":["aws.ec2"],"detail":{"state":[{"anything-but":"running"}]}}'
    assert pattern.source == source
    pattern.source["source"].append("mutated")  # a copy: the pattern is unchanged
    assert pattern.source == source
    assert compile_pattern(pattern.json) == pattern


def test_compiled_patterns_are_immutable_hashable_and_picklable() -> None:
    pattern = compile_pattern({"source": ["aws.ec2"]})
    with pytest.raises(AttributeError):
        pattern._json = "{}"
    with pytest.raises(AttributeError):
        pattern.anything = 1
    assert {pattern: 1}[compile_pattern('{"source":["aws.ec2"]}')] == 1
    assert pickle.loads(pickle.dumps(pattern)) == pattern
    assert copy.deepcopy(pattern) == pattern
    assert repr(pattern) == 'EventPattern({"source":["aws.ec2"]})'
    assert pattern != compile_pattern({"source": ["aws.s3"]})
    assert pattern != '{"source":["aws.ec2"]}'


def test_the_source_dict_is_not_retained() -> None:
    source: dict[str, Any] = {"source": ["aws.ec2"]}
    pattern = compile_pattern(source)
    source["source"] = ["aws.s3"]
    assert pattern.matches({"source": "aws.ec2"})


def test_pattern_paths_and_branches() -> None:
    pattern = compile_pattern({"a": {"b": [1]}, "$or": [{"c": [1]}, {"d": [1]}]})
    assert pattern.paths == {"a.b", "c", "d"}
    assert len(pattern.branches) == 2
    assert isinstance(pattern, EventPattern)


# -- the edge rules, each with a positive and a negative case ------------------------

EDGE_RULES: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    ("null-matches-json-null", {"a": [None]}, {"a": None}, True),
    ("null-not-string-null", {"a": [None]}, {"a": "null"}, False),
    ("null-not-missing", {"a": [None]}, {}, False),
    ("null-not-empty-string", {"a": [None]}, {"a": ""}, False),
    ("null-in-array", {"a": [None]}, {"a": ["x", None]}, True),
    ("empty-string-matches-empty", {"a": [""]}, {"a": ""}, True),
    ("empty-string-not-null", {"a": [""]}, {"a": None}, False),
    ("empty-string-not-missing", {"a": [""]}, {}, False),
    ("empty-string-not-space", {"a": [""]}, {"a": " "}, False),
    ("exists-true-value", {"a": [{"exists": True}]}, {"a": "x"}, True),
    ("exists-true-null-value", {"a": [{"exists": True}]}, {"a": None}, True),
    ("exists-true-not-missing", {"a": [{"exists": True}]}, {"b": 1}, False),
    ("exists-true-not-object", {"a": [{"exists": True}]}, {"a": {"b": 1}}, False),
    ("exists-true-not-empty-array", {"a": [{"exists": True}]}, {"a": []}, False),
    ("exists-true-array-of-values", {"a": [{"exists": True}]}, {"a": [1]}, True),
    ("exists-false-missing", {"a": [{"exists": False}]}, {"b": 1}, True),
    ("exists-false-present", {"a": [{"exists": False}]}, {"a": "x"}, False),
    ("exists-false-present-null", {"a": [{"exists": False}]}, {"a": None}, False),
    ("exists-false-object-is-not-a-leaf", {"a": [{"exists": False}]}, {"a": {"b": 1}}, True),
    ("exists-false-empty-array", {"a": [{"exists": False}]}, {"a": []}, True),
    ("exists-false-parent-missing", {"a": {"b": [{"exists": False}]}}, {}, True),
    ("exists-false-parent-scalar", {"a": {"b": [{"exists": False}]}}, {"a": "x"}, True),
    ("anything-but-present", {"a": [{"anything-but": "x"}]}, {"a": "y"}, True),
    ("anything-but-excluded", {"a": [{"anything-but": "x"}]}, {"a": "x"}, False),
    ("anything-but-missing", {"a": [{"anything-but": "x"}]}, {}, False),
    ("anything-but-object-value", {"a": [{"anything-but": "x"}]}, {"a": {"b": "y"}}, False),
    ("anything-but-null", {"a": [{"anything-but": "x"}]}, {"a": None}, True),
    ("prefix-empty-any-string", {"a": [{"prefix": ""}]}, {"a": "whatever"}, True),
    ("prefix-empty-empty-string", {"a": [{"prefix": ""}]}, {"a": ""}, True),
    ("prefix-empty-not-number", {"a": [{"prefix": ""}]}, {"a": 5}, False),
    ("prefix-empty-not-null", {"a": [{"prefix": ""}]}, {"a": None}, False),
    ("prefix-empty-not-missing", {"a": [{"prefix": ""}]}, {}, False),
    ("wildcard-empty-matches-empty", {"a": [{"wildcard": ""}]}, {"a": ""}, True),
    ("wildcard-empty-not-other", {"a": [{"wildcard": ""}]}, {"a": "x"}, False),
    ("numeric-number", {"a": [{"numeric": [">", 0]}]}, {"a": 1}, True),
    ("numeric-not-string", {"a": [{"numeric": [">", 0]}]}, {"a": "1"}, False),
    ("numeric-not-null", {"a": [{"numeric": [">", 0]}]}, {"a": None}, False),
    ("numeric-not-boolean", {"a": [{"numeric": [">", 0]}]}, {"a": True}, False),
    ("numeric-not-out-of-range", {"a": [{"numeric": [">", 0]}]}, {"a": 6e9}, False),
    ("boolean-true", {"a": [True]}, {"a": True}, True),
    ("boolean-true-not-one", {"a": [True]}, {"a": 1}, False),
    ("one-not-true", {"a": [1]}, {"a": True}, False),
    ("false-not-zero", {"a": [False]}, {"a": 0}, False),
    ("boolean-not-string", {"a": [True]}, {"a": "true"}, False),
    ("number-by-value", {"a": [5]}, {"a": 5.0}, True),
    ("number-by-value-reverse", {"a": [5.0]}, {"a": 5}, True),
    ("number-exponent", {"a": [3.018e2]}, {"a": 301.8}, True),
    ("number-not-string", {"a": [5]}, {"a": "5"}, False),
    ("string-not-number", {"a": ["5"]}, {"a": 5}, False),
    ("big-number-by-value", {"account": [123456789012]}, {"account": 123456789012.0}, True),
    ("big-number-differs", {"account": [123456789012]}, {"account": 123456789013}, False),
    ("numeric-equals-by-value", {"a": [{"numeric": ["=", 300]}]}, {"a": 300.0}, True),
]


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [case[1:] for case in EDGE_RULES],
    ids=[case[0] for case in EDGE_RULES],
)
def test_edge_rules(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, event) is expected


# -- known EventBridge cases (the AWS documentation's examples) ---------------------
# Patterns are the documentation's; events are ours, each with a matching and a
# non-matching variant. Expected results follow AWS (TestEventPattern).

AWS_CASES: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    # Event patterns: the EC2 example
    (
        "ec2-rule",
        {
            "source": ["aws.ec2"],
            "detail-type": ["EC2 Instance State-change Notification"],
            "detail": {"state": ["terminated"]},
        },
        EC2_EVENT,
        True,
    ),
    (
        "ec2-rule-other-state",
        {"source": ["aws.ec2"], "detail": {"state": ["running"]}},
        EC2_EVENT,
        False,
    ),
    ("ec2-source-only", {"source": ["aws.ec2"]}, EC2_EVENT, True),
    ("ec2-source-list-is-or", {"source": ["aws.s3", "aws.ec2"]}, EC2_EVENT, True),
    ("ec2-other-source", {"source": ["aws.s3"]}, EC2_EVENT, False),
    ("ec2-state-list", {"detail": {"state": ["stopped", "terminated"]}}, EC2_EVENT, True),
    (
        "ec2-all-fields-must-match",
        {"source": ["aws.ec2"], "detail-type": ["Other"]},
        EC2_EVENT,
        False,
    ),
    ("ec2-field-absent", {"detail": {"status": ["terminated"]}}, EC2_EVENT, False),
    ("ec2-wrong-nesting", {"state": ["terminated"]}, EC2_EVENT, False),
    ("ec2-key-case-sensitive", {"Source": ["aws.ec2"]}, EC2_EVENT, False),
    ("ec2-value-case-sensitive", {"source": ["AWS.EC2"]}, EC2_EVENT, False),
    ("ec2-id", {"id": ["6a7e8feb-b491-4cf7-a9f1-bf3703467718"]}, EC2_EVENT, True),
    ("minimal-id", {"id": ["1"]}, envelope(), True),
    (
        "source-and-type",
        {"source": ["order"], "detail-type": ["Test"]},
        envelope(source="order", detail_type="Test"),
        True,
    ),
    (
        "source-and-type-other",
        {"source": ["shipment"], "detail-type": ["Test"]},
        envelope(source="order", detail_type="Test"),
        False,
    ),
    (
        "exact-string-untouched",
        {"s": ["A CamelCase string with an emoji 🚀 and trailing whitespace "]},
        envelope(s="A CamelCase string with an emoji 🚀 and trailing whitespace "),
        True,
    ),
    ("exact-string-no-trim", {"s": ["value"]}, envelope(s="value "), False),
    ("number-300-vs-300.0", {"number": [300]}, envelope(number=300.0), True),
    ("boolean-false", {"flag": [False]}, envelope(flag=False), True),
    ("boolean-false-vs-true", {"flag": [False]}, envelope(flag=True), False),
    (
        "escaped-star-and-backslash-exact",
        {"detail": {"star": ["*"], "backslash": ["\\"]}},
        detail(star="*", backslash="\\"),
        True,
    ),
    (
        "json-string-is-not-parsed",
        {"detail": {"my-key": ["my-value"]}},
        envelope(detail='{"my-key": "my-value"}'),
        False,
    ),
    (
        "dotted-pattern-key",
        {"detail": {"state.status": ["running"]}},
        detail(state={"status": "running"}),
        True,
    ),
    (
        "dotted-event-key",
        {"detail": {"state": {"status": ["running"]}}},
        detail(**{"state.status": "running"}),
        True,
    ),
    (
        "dotted-event-key-deeper",
        {"detail": {"state": {"status": ["running"]}}},
        detail(**{"state.status": {"status": "running"}}),
        False,
    ),
    (
        "dotted-pattern-key-deeper",
        {"detail": {"state.status": {"status": ["running"]}}},
        detail(state={"status": "running"}),
        False,
    ),
    (
        "duplicate-key-last-wins",
        {"detail": {"location": [{"anything-but": "us-east"}]}},
        detail(location="eu-central-1"),
        True,
    ),
    # Null values and empty strings
    (
        "null-value",
        {"detail": {"responseElements": [None]}},
        detail(eventVersion="", responseElements=None),
        True,
    ),
    (
        "null-value-vs-string",
        {"detail": {"responseElements": [None]}},
        detail(eventVersion="", responseElements="null"),
        False,
    ),
    (
        "empty-string",
        {"detail": {"eventVersion": [""]}},
        detail(eventVersion="", responseElements=None),
        True,
    ),
    (
        "empty-string-vs-null",
        {"detail": {"responseElements": [""]}},
        detail(eventVersion="", responseElements=None),
        False,
    ),
    # Arrays
    (
        "arrays-intersect",
        {
            "resources": [
                "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
                "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
            ]
        },
        envelope(
            resources=[
                "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x",
                "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
            ]
        ),
        True,
    ),
    (
        "arrays-disjoint",
        {"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]},
        envelope(resources=["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x"]),
        False,
    ),
    ("arrays-empty-null", {"resources": [None]}, envelope(resources=[]), False),
    ("arrays-empty-exists-false", {"resources": [{"exists": False}]}, envelope(resources=[]), True),
    (
        "arrays-objects-exists",
        {"detail": {"automations": {"id": [{"exists": True}]}}},
        detail(automations=[{"key1": "v"}, {"id": "x"}, {"key2": "v"}]),
        True,
    ),
    (
        "arrays-objects-exists-none",
        {"detail": {"automations": {"id": [{"exists": True}]}}},
        detail(automations=[{"key1": "v"}, {"key2": "v"}]),
        False,
    ),
    (
        "arrays-same-element",
        {"Employees": {"Name": ["Jane"], "Title": ["Intern"]}},
        envelope(
            Employees=[{"Name": "John", "Title": "Manager"}, {"Name": "Jane", "Title": "Intern"}]
        ),
        True,
    ),
    (
        "arrays-different-elements",
        {"Employees": {"Name": ["John"], "Title": ["Intern"]}},
        envelope(
            Employees=[{"Name": "John", "Title": "Manager"}, {"Name": "Jane", "Title": "Intern"}]
        ),
        False,
    ),
    # Prefix
    ("prefix", {"time": [{"prefix": "2017-10-02"}]}, envelope(time="2017-10-02T18:43:48Z"), True),
    (
        "prefix-other",
        {"time": [{"prefix": "2017-10-02"}]},
        envelope(time="2017-10-03T18:43:48Z"),
        False,
    ),
    ("prefix-case", {"time": [{"prefix": "T"}]}, envelope(time="t"), False),
    ("prefix-number-field", {"count": [{"prefix": "1"}]}, envelope(count=12), False),
    ("prefix-catch-all", {"source": [{"prefix": ""}]}, envelope(), True),
    (
        "prefix-dynamodb-keys",
        {
            "dynamodb": {
                "Keys": {"PK": {"S": [{"prefix": "COMPANY"}]}, "SK": {"S": [{"prefix": "PRODUCT"}]}}
            }
        },
        envelope(
            dynamodb={
                "Keys": {"SK": {"S": "PRODUCT#CHOCOLATE#1000"}, "PK": {"S": "COMPANY#1000"}},
                "SizeBytes": 174,
            }
        ),
        True,
    ),
    (
        "prefix-dynamodb-keys-miss",
        {
            "dynamodb": {
                "Keys": {"PK": {"S": [{"prefix": "COMPANY"}]}, "SK": {"S": [{"prefix": "PRODUCT"}]}}
            }
        },
        envelope(dynamodb={"Keys": {"SK": {"S": "ORDER#1"}, "PK": {"S": "COMPANY#1000"}}}),
        False,
    ),
    (
        "prefix-ignore-case",
        {"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}},
        detail(service="EvEnTbridge"),
        True,
    ),
    (
        "prefix-ignore-case-upper",
        {"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}},
        detail(service="EVENTB"),
        True,
    ),
    (
        "prefix-ignore-case-miss",
        {"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}},
        detail(service="Event"),
        False,
    ),
    # Suffix
    ("suffix", {"FileName": [{"suffix": ".png"}]}, envelope(FileName="image.png"), True),
    ("suffix-case", {"FileName": [{"suffix": ".PNG"}]}, envelope(FileName="image.png"), False),
    ("suffix-other", {"FileName": [{"suffix": ".png"}]}, envelope(FileName="image.jpg"), False),
    ("suffix-catch-all", {"source": [{"suffix": ""}]}, envelope(), True),
    (
        "suffix-ignore-case",
        {"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}},
        detail(FileName="image.PNG"),
        True,
    ),
    (
        "suffix-ignore-case-miss",
        {"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}},
        detail(FileName="image.jpg"),
        False,
    ),
    # Anything-but
    (
        "anything-but-string",
        {"detail": {"state": [{"anything-but": "initializing"}]}},
        detail(state="pending"),
        True,
    ),
    (
        "anything-but-string-same",
        {"detail": {"state": [{"anything-but": "initializing"}]}},
        detail(state="initializing"),
        False,
    ),
    (
        "anything-but-string-missing",
        {"detail": {"state": [{"anything-but": "initializing"}]}},
        detail(),
        False,
    ),
    (
        "anything-but-string-null",
        {"detail": {"state": [{"anything-but": "initializing"}]}},
        detail(state=None),
        True,
    ),
    (
        "anything-but-number",
        {"detail": {"x-limit": [{"anything-but": 123}]}},
        detail(**{"x-limit": 789}),
        True,
    ),
    (
        "anything-but-number-same",
        {"detail": {"x-limit": [{"anything-but": 123}]}},
        detail(**{"x-limit": 123}),
        False,
    ),
    (
        "anything-but-number-same-float",
        {"detail": {"x-limit": [{"anything-but": 123}]}},
        detail(**{"x-limit": 123.0}),
        False,
    ),
    (
        "anything-but-zero",
        {"detail": {"x-limit": [{"anything-but": 0}]}},
        detail(**{"x-limit": 789}),
        True,
    ),
    (
        "anything-but-number-vs-string",
        {"detail": {"x-limit": [{"anything-but": 123}]}},
        detail(**{"x-limit": "123"}),
        True,
    ),
    (
        "anything-but-string-list",
        {"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}},
        detail(state="pending"),
        True,
    ),
    (
        "anything-but-string-list-listed",
        {"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}},
        detail(state="stopped"),
        False,
    ),
    (
        "anything-but-string-list-missing",
        {"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}},
        detail(),
        False,
    ),
    (
        "anything-but-string-list-null",
        {"detail": {"state": [{"anything-but": ["stopped", "running"]}]}},
        detail(state=None),
        True,
    ),
    (
        "anything-but-number-list",
        {"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}},
        detail(**{"x-limit": 999}),
        True,
    ),
    (
        "anything-but-number-list-listed",
        {"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}},
        detail(**{"x-limit": 100}),
        False,
    ),
    ("anything-but-in-array", {"tags": [{"anything-but": "a"}]}, envelope(tags=["a", "b"]), True),
    (
        "anything-but-array-all-excluded",
        {"tags": [{"anything-but": "a"}]},
        envelope(tags=["a", "a"]),
        False,
    ),
    (
        "anything-but-command-null",
        {"detail": {"command": [{"anything-but": ["no-message"]}]}},
        detail(command=None, payload="baz"),
        True,
    ),
    (
        "anything-but-command",
        {"detail": {"command": [{"anything-but": ["no-message"]}]}},
        detail(command="no-message", payload="baz"),
        False,
    ),
    (
        "anything-but-prefix",
        {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}},
        detail(state="post-init"),
        True,
    ),
    (
        "anything-but-prefix-hit",
        {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}},
        detail(state="init-prefix"),
        False,
    ),
    (
        "anything-but-prefix-number",
        {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}},
        detail(state=12),
        True,
    ),
    (
        "anything-but-prefix-null",
        {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}},
        detail(state=None),
        True,
    ),
    (
        "anything-but-prefix-missing",
        {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}},
        detail(),
        False,
    ),
    (
        "anything-but-prefix-list",
        {"detail": {"state": [{"anything-but": {"prefix": ["init", "test"]}}]}},
        detail(state="post-init"),
        True,
    ),
    (
        "anything-but-prefix-list-hit",
        {"detail": {"state": [{"anything-but": {"prefix": ["init", "post"]}}]}},
        detail(state="post-init"),
        False,
    ),
    (
        "anything-but-suffix",
        {"detail": {"FileName": [{"anything-but": {"suffix": ".txt"}}]}},
        detail(FileName="file.txt.bak"),
        True,
    ),
    (
        "anything-but-suffix-hit",
        {"detail": {"FileName": [{"anything-but": {"suffix": ".txt"}}]}},
        detail(FileName="file.txt"),
        False,
    ),
    (
        "anything-but-suffix-null",
        {"detail": {"FileName": [{"anything-but": {"suffix": ".txt"}}]}},
        detail(FileName=None),
        True,
    ),
    (
        "anything-but-suffix-list",
        {"detail": {"FileName": [{"anything-but": {"suffix": [".txt", ".jpg"]}}]}},
        detail(FileName="file.txt.bak"),
        True,
    ),
    (
        "anything-but-suffix-list-hit",
        {"detail": {"FileName": [{"anything-but": {"suffix": [".txt", ".jpg"]}}]}},
        detail(FileName="file.jpg"),
        False,
    ),
    (
        "anything-but-ignore-case",
        {"detail": {"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]}},
        detail(state="pending"),
        True,
    ),
    (
        "anything-but-ignore-case-hit",
        {"detail": {"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]}},
        detail(state="INITIALIZING"),
        False,
    ),
    (
        "anything-but-ignore-case-null",
        {"detail": {"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]}},
        detail(state=None),
        True,
    ),
    (
        "anything-but-ignore-case-missing",
        {"detail": {"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]}},
        detail(),
        False,
    ),
    (
        "anything-but-ignore-case-list",
        {
            "detail": {
                "state": [{"anything-but": {"equals-ignore-case": ["initializing", "stopped"]}}]
            }
        },
        detail(state="pending"),
        True,
    ),
    (
        "anything-but-ignore-case-list-hit",
        {
            "detail": {
                "state": [{"anything-but": {"equals-ignore-case": ["initializing", "stopped"]}}]
            }
        },
        detail(state="Stopped"),
        False,
    ),
    (
        "anything-but-wildcard",
        {"detail": {"FilePath": [{"anything-but": {"wildcard": "*/dir/*"}}]}},
        detail(FilePath="dir/init/file"),
        True,
    ),
    (
        "anything-but-wildcard-hit",
        {"detail": {"FilePath": [{"anything-but": {"wildcard": "*/init/*"}}]}},
        detail(FilePath="dir/init/file"),
        False,
    ),
    (
        "anything-but-wildcard-number",
        {"detail": {"FilePath": [{"anything-but": {"wildcard": "*/dir/*"}}]}},
        detail(FilePath=123),
        True,
    ),
    (
        "anything-but-wildcard-empty",
        {"detail": {"FilePath": [{"anything-but": {"wildcard": ""}}]}},
        detail(FilePath="dir/init/file"),
        True,
    ),
    (
        "anything-but-wildcard-list",
        {"detail": {"state": [{"anything-but": {"wildcard": ["*/init/*", "*/dir/*"]}}]}},
        detail(state="dir/post/dir"),
        True,
    ),
    (
        "anything-but-wildcard-list-hit",
        {"detail": {"state": [{"anything-but": {"wildcard": ["*/init/*", "*/dir/*"]}}]}},
        detail(state="dir/init/dir"),
        False,
    ),
    (
        "anything-but-wildcard-missing",
        {"detail": {"state": [{"anything-but": {"wildcard": "*/init/*"}}]}},
        detail(),
        False,
    ),
    # Numeric
    (
        "numeric-and",
        {
            "detail": {
                "c-count": [{"numeric": [">", 0, "<=", 5]}],
                "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"numeric": ["=", 3.018e2]}],
            }
        },
        detail(**{"c-count": 3, "d-count": 9, "x-limit": 301.8}),
        True,
    ),
    (
        "numeric-and-d-count-10",
        {
            "detail": {
                "c-count": [{"numeric": [">", 0, "<=", 5]}],
                "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"numeric": ["=", 3.018e2]}],
            }
        },
        detail(**{"c-count": 3, "d-count": 10, "x-limit": 301.8}),
        False,
    ),
    (
        "numeric-and-c-count-0",
        {"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}},
        detail(**{"c-count": 0}),
        False,
    ),
    (
        "numeric-and-c-count-5",
        {"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}},
        detail(**{"c-count": 5}),
        True,
    ),
    (
        "numeric-string-value",
        {"detail": {"c-count": [{"numeric": [">", 0]}]}},
        detail(**{"c-count": "3"}),
        False,
    ),
    (
        "numeric-in-array",
        {"detail": {"sizes": [{"numeric": [">", 10]}]}},
        detail(sizes=[1, 2, 30]),
        True,
    ),
    (
        "numeric-many-rules",
        {
            "detail": {
                "n1": [{"numeric": ["<", 200]}],
                "n2": [{"numeric": ["<=", 200]}],
                "n3": [{"numeric": [">", 200]}],
                "n4": [{"numeric": [">=", 200]}],
                "n5": [{"numeric": [">=", 200, "<=", 500]}],
                "n6": [{"numeric": [">", 200, "<", 500]}],
            }
        },
        detail(n1=100, n2=200, n3=300, n4=200, n5=500, n6=300),
        True,
    ),
    (
        "numeric-many-rules-edge",
        {"detail": {"n6": [{"numeric": [">", 200, "<", 500]}]}},
        detail(n6=500),
        False,
    ),
    # IP addresses
    (
        "cidr",
        {"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}},
        detail(sourceIPAddress="10.0.0.255"),
        True,
    ),
    (
        "cidr-outside",
        {"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}},
        detail(sourceIPAddress="10.0.1.1"),
        False,
    ),
    (
        "cidr-not-an-ip",
        {"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}},
        detail(sourceIPAddress="10.0.0.256"),
        False,
    ),
    (
        "cidr-number",
        {"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}},
        detail(sourceIPAddress=123),
        False,
    ),
    (
        "cidr-v6",
        {"detail": {"sourceIPAddress": [{"cidr": "2001:db8:1234:1a00::/64"}]}},
        detail(sourceIPAddress="2001:0db8:1234:1a00:0000:0000:0000:0000"),
        True,
    ),
    (
        "cidr-v6-outside",
        {"detail": {"sourceIPAddress": [{"cidr": "2001:db8:1234:1a00::/64"}]}},
        detail(sourceIPAddress="2001:0db8:123f:1a01:0000:0000:0000:0000"),
        False,
    ),
    (
        "cidr-in-a-rule",
        {"detail": {"ip": [{"cidr": "10.102.1.0/24"}]}},
        detail(ip="10.102.1.100"),
        True,
    ),
    # Exists
    (
        "exists",
        {"detail": {"state": [{"exists": True}]}},
        detail(**{"instance-id": "i-abcd1111", "state": "pending"}),
        True,
    ),
    (
        "exists-missing",
        {"detail": {"state": [{"exists": True}]}},
        detail(**{"c-count": {"c1": 100}}),
        False,
    ),
    (
        "exists-false-intermediate-node",
        {"detail": {"c-count": [{"exists": False}]}},
        detail(**{"c-count": {"c1": 100}}),
        True,
    ),
    (
        "exists-false-deep",
        {"detail": {"level1": {"level2:": {"level3": {"level4": [{"exists": False}]}}}}},
        detail(level1={"level2": "l2 value"}),
        True,
    ),
    (
        "exists-false-deep-present",
        {"detail": {"level1": {"level2": {"level3": {"level4": [{"exists": False}]}}}}},
        detail(level1={"level2": {"level3": {"level4": "l4"}}}),
        False,
    ),
    (
        "exists-leaf-only",
        {"dynamodb": {"presentKey": {"S": [{"exists": True}]}}},
        envelope(dynamodb={"id": {"S": "1"}, "presentKey": {"S": "x"}}),
        True,
    ),
    (
        "exists-not-intermediate",
        {"dynamodb": {"presentKey": [{"exists": True}]}},
        envelope(dynamodb={"id": {"S": "1"}, "presentKey": {"S": "x"}}),
        False,
    ),
    (
        "exists-true-rule",
        {"source": ["core"], "detail": {"key": [{"exists": True}]}},
        envelope(source="core", detail={"key": "value"}),
        True,
    ),
    (
        "exists-false-rule",
        {"source": ["core"], "detail": {"key": [{"exists": False}]}},
        envelope(source="core", detail={"no-key": "v"}),
        True,
    ),
    (
        "exists-false-rule-present",
        {"source": ["core"], "detail": {"key": [{"exists": False}]}},
        envelope(source="core", detail={"key": "v"}),
        False,
    ),
    (
        "exists-or-anything-but",
        {
            "dynamodb": {
                "NewImage": {"homemade": {"S": [{"anything-but": ["roses"]}, {"exists": False}]}}
            }
        },
        envelope(dynamodb={"NewImage": {"homemade": {"S": "ABCD", "N": "1"}}}),
        True,
    ),
    (
        "exists-or-anything-but-absent",
        {
            "dynamodb": {
                "NewImage": {"homemade": {"S": [{"anything-but": ["roses"]}, {"exists": False}]}}
            }
        },
        envelope(dynamodb={"NewImage": {"homemade": {"N": "789"}}}),
        True,
    ),
    (
        "exists-or-anything-but-parent-absent",
        {
            "dynamodb": {
                "NewImage": {"homemade": {"S": [{"anything-but": ["roses"]}, {"exists": False}]}}
            }
        },
        envelope(dynamodb={"NewImage": {"purchased": {"N": "789"}}}),
        True,
    ),
    (
        "exists-or-anything-but-excluded",
        {
            "dynamodb": {
                "NewImage": {"homemade": {"S": [{"anything-but": ["roses"]}, {"exists": False}]}}
            }
        },
        envelope(dynamodb={"NewImage": {"homemade": {"S": "roses"}}}),
        False,
    ),
    (
        "exists-with-other-operators",
        {"my_key": [{"exists": True}, {"prefix": "NOPE"}, {"suffix": "NOPE"}]},
        envelope(my_key="my-value"),
        True,
    ),
    # Equals-ignore-case
    (
        "equals-ignore-case",
        {"detail-type": [{"equals-ignore-case": "ec2 instance state-change notification"}]},
        EC2_EVENT,
        True,
    ),
    (
        "equals-ignore-case-in-array",
        {"detail-type": [{"equals-ignore-case": "ec2 instance state-change notification"}]},
        envelope(detail_type=["EC2 Instance State-change Notification"]),
        True,
    ),
    (
        "equals-ignore-case-other",
        {"detail-type": [{"equals-ignore-case": "I do not match"}]},
        EC2_EVENT,
        False,
    ),
    (
        "equals-ignore-case-empty",
        {"detail": {"value": [{"equals-ignore-case": ""}]}},
        detail(value=""),
        True,
    ),
    (
        "equals-ignore-case-empty-other",
        {"detail": {"value": [{"equals-ignore-case": ""}]}},
        detail(value="test-value"),
        False,
    ),
    # Wildcard
    (
        "wildcard-one-star",
        {"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]},
        envelope(EventBusArn="arn:aws:events:us-east-1:123456789012:event-bus/myEventBus"),
        True,
    ),
    (
        "wildcard-one-star-region",
        {"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]},
        envelope(EventBusArn="arn:aws:events:us-west-2:123456789012:event-bus/myEventBus"),
        False,
    ),
    (
        "wildcard-path",
        {"FileName": [{"wildcard": "/Users/*/doc.txt"}]},
        envelope(FileName="/Users/ls_user/dir/dir/dir/doc.txt"),
        True,
    ),
    (
        "wildcard-path-other-file",
        {"FileName": [{"wildcard": "/Users/*/doc.txt"}]},
        envelope(FileName="/Users/ls_user/dir/notmatchingdoc.txt"),
        False,
    ),
    (
        "wildcard-repeating",
        {"FileName": [{"wildcard": "/Users/*/dir/dir/dir/dir/dir/doc.txt"}]},
        envelope(FileName="/Users/u/dir/dir/dir/dir/dir/doc.txt"),
        True,
    ),
    (
        "wildcard-repeating-miss",
        {"FileName": [{"wildcard": "/Users/*/dir/dir/dir/dir/dir/doc.txt"}]},
        envelope(FileName="/Users/u/dir/dir/dir/dir/otherdir/doc.txt"),
        False,
    ),
    (
        "wildcard-prefix-style",
        {"detail": {"eventName": [{"wildcard": "Create*"}]}},
        detail(eventName="CreateRole"),
        True,
    ),
    (
        "wildcard-prefix-style-miss",
        {"detail": {"eventName": [{"wildcard": "Create*"}]}},
        detail(eventName="DeleteRole"),
        False,
    ),
    ("wildcard-escaped-star", {"s": [{"wildcard": "a\\*b"}]}, envelope(s="a*b"), True),
    ("wildcard-escaped-star-miss", {"s": [{"wildcard": "a\\*b"}]}, envelope(s="axb"), False),
    ("wildcard-number", {"s": [{"wildcard": "*"}]}, envelope(s=5), False),
    # Complex example
    (
        "complex",
        {
            "time": [{"prefix": "2022-07-13"}],
            "detail": {
                "state": [{"anything-but": "initializing"}],
                "c-count": [{"numeric": [">", 0, "<=", 5]}],
                "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"anything-but": [100, 200, 300]}],
            },
        },
        detail(state="processing", **{"c-count": 3, "d-count": 9, "x-limit": 999}),
        True,
    ),
    (
        "complex-x-limit-listed",
        {
            "time": [{"prefix": "2022-07-13"}],
            "detail": {
                "state": [{"anything-but": "initializing"}],
                "c-count": [{"numeric": [">", 0, "<=", 5]}],
                "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"anything-but": [100, 200, 300]}],
            },
        },
        detail(state="processing", **{"c-count": 3, "d-count": 9, "x-limit": 300}),
        False,
    ),
    (
        "complex-time",
        {
            "time": [{"prefix": "2017-10-02"}],
            "detail": {"state": [{"anything-but": "initializing"}]},
        },
        detail(state="processing"),
        False,
    ),
    (
        "complex-many",
        {
            "source": [{"exists": True}],
            "detail-type": [{"prefix": "core.app"}],
            "detail": {
                "amount": [200],
                "salary": [2000, 4000],
                "env": ["dev", "prod"],
                "admins": ["skyli", {"prefix": "hey"}, {"prefix": "ad"}],
                "test1": [{"anything-but": 200}],
                "test3": [{"anything-but": ["test3", "test33"]}],
                "test4": [{"anything-but": {"prefix": "test4"}}],
            },
        },
        envelope(
            source="core.update",
            detail_type="core.app.backend",
            detail={
                "amount": 200,
                "salary": 2000,
                "env": "prod",
                "admins": "admin",
                "test1": 300,
                "test3": "test333",
                "test4": "this test4",
            },
        ),
        True,
    ),
    (
        "complex-many-miss",
        {
            "detail-type": [{"prefix": "core.app"}],
            "detail": {"admins": ["skyli", {"prefix": "hey"}, {"prefix": "ad"}]},
        },
        envelope(detail_type="core.app.backend", detail={"admins": "root"}),
        False,
    ),
    # $or
    (
        "or-numeric",
        {
            "detail": {
                "$or": [
                    {"c-count": [{"numeric": [">", 0, "<=", 5]}]},
                    {"d-count": [{"numeric": ["<", 10]}]},
                    {"x-limit": [{"numeric": ["=", 3.018e2]}]},
                ]
            }
        },
        detail(**{"c-count": 0, "d-count": 0, "x-limit": 9.018e2}),
        True,
    ),
    (
        "or-numeric-none",
        {
            "detail": {
                "$or": [
                    {"c-count": [{"numeric": [">", 0, "<=", 5]}]},
                    {"d-count": [{"numeric": ["<", 10]}]},
                    {"x-limit": [{"numeric": ["=", 3.018e2]}]},
                ]
            }
        },
        detail(**{"c-count": 0, "d-count": 10, "x-limit": 9.018e2}),
        False,
    ),
    (
        "or-top-level",
        {
            "source": ["aws.cloudwatch"],
            "$or": [
                {"metricName": ["CPUUtilization", "ReadLatency"]},
                {"namespace": ["AWS/EC2", "AWS/ES"]},
            ],
        },
        envelope(source="aws.cloudwatch", namespace="AWS/EC2"),
        True,
    ),
    (
        "or-top-level-source",
        {
            "source": ["aws.cloudwatch"],
            "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}],
        },
        envelope(source="aws.other", namespace="AWS/EC2"),
        False,
    ),
    (
        "or-nested",
        {
            "source": ["aws.cloudwatch"],
            "$or": [
                {"metricName": ["CPUUtilization"]},
                {
                    "metricType": ["MetricType"],
                    "$or": [{"metricId": [1234, 4321]}, {"spaceId": [1000, 2000, 3000]}],
                },
            ],
        },
        envelope(source="aws.cloudwatch", metricType="MetricType", spaceId=2000),
        True,
    ),
    (
        "or-nested-inner-miss",
        {
            "source": ["aws.cloudwatch"],
            "$or": [
                {"metricName": ["CPUUtilization"]},
                {
                    "metricType": ["MetricType"],
                    "$or": [{"metricId": [1234, 4321]}, {"spaceId": [1000, 2000, 3000]}],
                },
            ],
        },
        envelope(source="aws.cloudwatch", metricType="MetricType", spaceId=4000),
        False,
    ),
    (
        "or-exists",
        {"$or": [{"a": [{"exists": True}]}, {"b": [{"exists": True}]}]},
        envelope(b=1),
        True,
    ),
    (
        "or-exists-none",
        {"$or": [{"a": [{"exists": True}]}, {"b": [{"exists": True}]}]},
        envelope(c=1),
        False,
    ),
]


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [case[1:] for case in AWS_CASES],
    ids=[case[0] for case in AWS_CASES],
)
def test_known_eventbridge_cases(
    pattern: dict[str, Any], event: dict[str, Any], expected: bool
) -> None:
    assert matches(pattern, event) is expected
    assert matches(json.dumps(pattern), json.dumps(event)) is expected


# -- properties ------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(data=st.data())
def test_compiling_is_deterministic(
    data: st.DataObject, pattern_strategy: Any, event_strategy: Any
) -> None:
    source = data.draw(pattern_strategy)
    try:
        first = compile_pattern(source)
    except InvalidEventPattern:
        assume(False)
        raise
    second = compile_pattern(copy.deepcopy(source))
    from_json = compile_pattern(first.json)
    assert first == second == from_json
    assert first.json == second.json == from_json.json
    for _ in range(3):
        event = data.draw(event_strategy)
        assert first.matches(event) == from_json.matches(event) == second.matches(event)


@PROPERTY_SETTINGS
@given(data=st.data())
def test_or_of_patterns_equals_any_of_them(
    data: st.DataObject, pattern_strategy: Any, event_strategy: Any
) -> None:
    first_source = data.draw(pattern_strategy)
    second_source = data.draw(pattern_strategy)
    try:
        first = compile_pattern(first_source)
        second = compile_pattern(second_source)
        either = compile_pattern({"$or": [first_source, second_source]})
    except InvalidEventPattern:
        assume(False)
        raise
    for _ in range(4):
        event = data.draw(event_strategy)
        assert either.matches(event) == (first.matches(event) or second.matches(event))


@PROPERTY_SETTINGS
@given(data=st.data())
def test_matching_never_raises_on_any_json_event(
    data: st.DataObject, pattern_strategy: Any, any_json_strategy: Any, event_strategy: Any
) -> None:
    try:
        pattern = compile_pattern(data.draw(pattern_strategy))
    except InvalidEventPattern:
        assume(False)
        raise
    for strategy in (any_json_strategy, event_strategy):
        event = data.draw(strategy)
        assert isinstance(pattern.matches(json.dumps(event)), bool)
        if not isinstance(event, str):  # a Python str is taken as JSON text
            assert isinstance(pattern.matches(event), bool)


def test_matching_never_raises_on_hostile_events() -> None:
    pattern = compile_pattern(
        {
            "a": [
                {"numeric": [">", 0]},
                {"cidr": "10.0.0.0/8"},
                {"wildcard": "*x*"},
                5,
                {"anything-but": 1},
            ]
        }
    )
    deep: Any = "x"
    for _ in range(5000):
        deep = [deep]
    odd = ({1, 2}, b"bytes", bytearray(b"x"), object(), (1, [2]), {1: "int key"})
    for value in (10**400, -(10**400), 1e308, -1e308, "\udcff", "\x00", "a" * 100_000, deep, *odd):
        assert isinstance(pattern.matches({"a": value}), bool)
    assert isinstance(pattern.matches({"a": float("nan")}), bool)
    assert isinstance(pattern.matches({"a": float("inf")}), bool)
