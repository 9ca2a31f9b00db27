"""The shared leaf matchers, one table per operator, and FieldCondition."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventyard.patterns import _operators as op
from eventyard.patterns._values import number_micros, parse_ip
from eventyard.patterns._wildcard import parse_wildcard

# Leaves of every JSON type, for "never matches the wrong type" checks.
NON_STRINGS: list[object] = [None, True, False, 0, 1, 2.5, -3]


def micros(value: float) -> int:
    result = number_micros(value)
    assert result is not None
    return result


# -- string operators ------------------------------------------------------------


@pytest.mark.parametrize(
    ("predicate", "value", "expected"),
    [
        (op.prefix("2017-10"), "2017-10-02T18:43:48Z", True),
        (op.prefix("2017-10"), "2017-11-02", False),
        (op.prefix(""), "", True),
        (op.prefix(""), "anything", True),
        (op.prefix("Ab"), "abc", False),
        (op.prefix_ignore_case("EventB"), "eventbridge", True),
        (op.prefix_ignore_case("EventB"), "EVENTBRIDGE", True),
        (op.prefix_ignore_case("EventB"), "event-b", False),
        (op.suffix(".png"), "image.png", True),
        (op.suffix(".png"), "image.PNG", False),
        (op.suffix(""), "x", True),
        (op.suffix_ignore_case(".png"), "image.PNG", True),
        (op.suffix_ignore_case(".png"), "image.jpg", False),
        (op.equals_ignore_case("Hello"), "hELLO", True),
        (op.equals_ignore_case("Hello"), "hello!", False),
        (op.equals_ignore_case(""), "", True),
        (op.equals_ignore_case(""), " ", False),
        (op.wildcard(parse_wildcard("*.png")), "a.png", True),
        (op.wildcard(parse_wildcard("*.png")), "a.jpg", False),
    ],
)
def test_string_operators(predicate: op.Predicate, value: str, expected: bool) -> None:
    assert predicate(value) is expected


@pytest.mark.parametrize(
    "predicate",
    [
        op.prefix(""),
        op.prefix_ignore_case(""),
        op.suffix(""),
        op.suffix_ignore_case(""),
        op.equals_ignore_case("1"),
        op.wildcard(parse_wildcard("*")),
    ],
)
@pytest.mark.parametrize("value", NON_STRINGS)
def test_string_operators_never_match_other_types(predicate: op.Predicate, value: object) -> None:
    assert predicate(value) is False


# -- numeric ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bounds", "value", "expected"),
    [
        ((micros(0), False, micros(5), True), 5, True),  # > 0, <= 5
        ((micros(0), False, micros(5), True), 0, False),
        ((micros(0), False, micros(5), True), 5.000001, False),
        ((micros(0), False, micros(5), True), 0.000001, True),
        ((None, False, micros(10), False), 9.999999, True),  # < 10
        ((None, False, micros(10), False), 10, False),
        ((None, False, micros(10), True), 10.0, True),  # <= 10
        ((micros(200), True, None, False), 200, True),  # >= 200
        ((micros(200), True, None, False), 199.999999, False),
        ((micros(301.8), True, micros(301.8), True), 3.018e2, True),  # = 301.8
        ((micros(301.8), True, micros(301.8), True), 301.81, False),
        ((micros(-5), False, micros(-1), False), -3, True),
    ],
)
def test_numeric_ranges(
    bounds: tuple[int | None, bool, int | None, bool], value: float, expected: bool
) -> None:
    assert op.numeric(*bounds)(value) is expected


@pytest.mark.parametrize("value", ["5", None, True, False, 6e9, -6e9, 10**20])
def test_numeric_never_matches_strings_null_booleans_or_out_of_range(value: object) -> None:
    assert op.numeric(None, False, None, False)(value) is False


# -- cidr ------------------------------------------------------------------------


def _cidr(text: str) -> op.Predicate:
    address, bits = text.split("/")
    parsed = parse_ip(address)
    assert parsed is not None
    width = 32 if parsed[0] == 4 else 128
    return op.cidr(parsed[0], parsed[1], parsed[1] | ((1 << (width - int(bits))) - 1))


@pytest.mark.parametrize(
    ("block", "value", "expected"),
    [
        ("10.0.0.0/24", "10.0.0.0", True),
        ("10.0.0.0/24", "10.0.0.255", True),
        ("10.0.0.0/24", "10.0.1.0", False),
        ("10.0.0.0/24", "10.0.0.256", False),
        ("10.0.0.0/8", "10.255.0.1", True),
        ("0.0.0.0/0", "192.168.1.1", True),
        ("2001:db8:1234:1a00::/64", "2001:0db8:1234:1a00:0000:0000:0000:0000", True),
        ("2001:db8:1234:1a00::/64", "2001:db8:1234:1a00:ffff::1", True),
        ("2001:db8:1234:1a00::/64", "2001:0db8:123f:1a01::", False),
        ("10.0.0.0/8", "::ffff:10.0.0.1", False),  # v4 block, v6 value
        ("::/0", "10.0.0.1", False),  # v6 block, v4 value
        ("10.0.0.0/24", "not an ip", False),
    ],
)
def test_cidr(block: str, value: str, expected: bool) -> None:
    assert _cidr(block)(value) is expected


@pytest.mark.parametrize("value", [*NON_STRINGS, 167772161])
def test_cidr_never_matches_non_strings(value: object) -> None:
    assert _cidr("0.0.0.0/0")(value) is False


# -- anything-but -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("predicate", "value", "expected"),
    [
        (op.anything_but(["stopped", "overloaded"], []), "pending", True),
        (op.anything_but(["stopped", "overloaded"], []), "stopped", False),
        (op.anything_but(["stopped"], []), None, True),  # null is not excluded
        (op.anything_but(["stopped"], []), 5, True),
        (op.anything_but(["5"], []), 5, True),  # the string "5" does not exclude the number
        (op.anything_but([], [micros(100), micros(200)]), 100.0, False),
        (op.anything_but([], [micros(100), micros(200)]), 150, True),
        (op.anything_but([], [micros(100)]), "100", True),
        (op.anything_but([], [micros(0)]), 789, True),
        (op.anything_but([], [micros(0)]), True, True),
        (op.anything_but_prefix(["init"]), "init-1", False),
        (op.anything_but_prefix(["init"]), "post-init", True),
        (op.anything_but_prefix(["init", "post"]), "post-init", False),
        (op.anything_but_prefix(["init"]), 12, True),
        (op.anything_but_prefix(["init"]), None, True),
        (op.anything_but_suffix([".txt"]), "file.txt", False),
        (op.anything_but_suffix([".txt"]), "file.txt.bak", True),
        (op.anything_but_suffix([".txt", ".jpg"]), "a.jpg", False),
        (op.anything_but_ignore_case(["initializing"]), "INITIALIZING", False),
        (op.anything_but_ignore_case(["initializing"]), "pending", True),
        (op.anything_but_ignore_case(["a", "Stopped"]), "STOPPED", False),
        (op.anything_but_wildcard([parse_wildcard("*/init/*")]), "dir/init/file", False),
        (op.anything_but_wildcard([parse_wildcard("*/dir/*")]), "dir/init/file", True),
        (op.anything_but_wildcard([parse_wildcard("*/dir/*")]), 123, True),
        (op.anything_but_wildcard([parse_wildcard("")]), "x", True),
        (op.anything_but_wildcard([parse_wildcard("")]), "", False),
    ],
)
def test_anything_but(predicate: op.Predicate, value: object, expected: bool) -> None:
    assert predicate(value) is expected


# -- FieldCondition ----------------------------------------------------------------


def test_exact_values_match_by_type_and_value() -> None:
    condition = op.FieldCondition(exact_values=["a", 5, True, None], value_count=4)
    assert condition.accepts_any(["a"])
    assert condition.accepts_any([5.0])
    assert condition.accepts_any([True])
    assert condition.accepts_any([None])
    assert not condition.accepts_any(["5", 1, "true", "null", False])


def test_exact_string_only_fast_path_ignores_equal_hashing_values() -> None:
    condition = op.FieldCondition(exact_values=["a"], value_count=1)
    assert not condition.accepts_any([True, 1, 1.0, None])
    assert condition.accepts_any([1, "a"])


def test_ip_literals_compare_as_addresses() -> None:
    condition = op.FieldCondition(exact_values=["2001:db8::1"], value_count=1)
    assert condition.accepts("2001:0db8:0000:0000:0000:0000:0000:0001")
    assert not condition.accepts("2001:db8::2")


def test_exists_true_accepts_any_leaf_and_false_only_flags_absence() -> None:
    present = op.FieldCondition(any_value=True, value_count=1)
    absent = op.FieldCondition(absence_ok=True, value_count=1)
    assert present.accepts_any([None])
    assert present.accepts_any([""])
    assert not absent.accepts_any(["x"])
    assert absent.absence_ok
    assert not present.absence_ok


def test_alternatives_are_or_ed() -> None:
    condition = op.FieldCondition(
        exact_values=["skyli"], predicates=[op.prefix("hey"), op.prefix("ad")], value_count=3
    )
    assert condition.accepts_any(["admin"])
    assert condition.accepts_any(["nobody", "hey you"])
    assert not condition.accepts_any(["nobody"])


def test_index_keys_only_for_pure_exact_conditions() -> None:
    assert op.FieldCondition(exact_values=["a", 1], value_count=2).index_keys == frozenset(
        {"a", micros(1)}
    )
    assert op.FieldCondition(exact_values=["a"], predicates=[op.prefix("b")]).index_keys is None
    assert op.FieldCondition(exact_values=["a"], absence_ok=True).index_keys is None
    assert op.FieldCondition(exact_values=["10.0.0.1"]).index_keys is None  # IP: normalised
    assert op.FieldCondition(any_value=True).index_keys is None


_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
)


@given(st.lists(_LEAF, min_size=1, max_size=5))
def test_every_operator_tolerates_any_leaf(leaves: list[object]) -> None:
    predicates = [
        op.prefix("a"),
        op.suffix("a"),
        op.equals_ignore_case("a"),
        op.prefix_ignore_case("a"),
        op.suffix_ignore_case("a"),
        op.numeric(micros(-1), True, micros(1), False),
        _cidr("10.0.0.0/8"),
        op.wildcard(parse_wildcard("*a*")),
        op.anything_but(["a"], []),
        op.anything_but([], [micros(1)]),
        op.anything_but_prefix(["a"]),
        op.anything_but_suffix(["a"]),
        op.anything_but_ignore_case(["a"]),
        op.anything_but_wildcard([parse_wildcard("a*")]),
    ]
    condition = op.FieldCondition(exact_values=["a", 1, None], predicates=predicates)
    assert isinstance(condition.accepts_any(leaves), bool)
