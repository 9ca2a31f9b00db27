"""Canonical forms of leaf values: exact keys, micro-units, IP addresses."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventyard.patterns._values import (
    FALSE_KEY,
    NULL_KEY,
    NUMBER_LIMIT,
    TRUE_KEY,
    exact_key,
    is_number,
    number_micros,
    parse_ip,
)


@pytest.mark.parametrize(
    ("value", "micros"),
    [
        (0, 0),
        (5, 5_000_000),
        (5.0, 5_000_000),
        (-2.5, -2_500_000),
        (0.1, 100_000),
        (3.018e2, 301_800_000),  # 301.8
        (-0.000001, -1),
        (NUMBER_LIMIT, NUMBER_LIMIT * 1_000_000),
        (-NUMBER_LIMIT, -NUMBER_LIMIT * 1_000_000),
        (5.0e9, NUMBER_LIMIT * 1_000_000),
    ],
)
def test_numbers_in_range_become_micro_units(value: float, micros: int) -> None:
    assert number_micros(value) == micros


@pytest.mark.parametrize(
    "value",
    [
        NUMBER_LIMIT + 1,
        5.000001e9,
        -6e9,
        10**30,
        math.nan,
        math.inf,
        -math.inf,
        True,
        False,
        None,
        "5",
    ],
)
def test_out_of_range_and_non_numbers_have_no_micro_units(value: object) -> None:
    assert number_micros(value) is None


def test_six_decimal_places_are_kept_and_the_seventh_rounds() -> None:
    assert number_micros(1.000001) != number_micros(1.000002)
    assert number_micros(1.0000001) == number_micros(1.0)


def test_exact_keys_equal_for_equal_numbers_whatever_the_spelling() -> None:
    assert exact_key(300) == exact_key(300.0) == exact_key(3.0e2)
    assert exact_key(10**12) == exact_key(1e12)  # out of range: still by value


def test_exact_keys_keep_booleans_null_numbers_and_strings_apart() -> None:
    keys = [exact_key(v) for v in (True, 1, False, 0, None, "null", "1", "true")]
    assert len(set(keys)) == len(keys)
    assert exact_key(True) is TRUE_KEY
    assert exact_key(False) is FALSE_KEY
    assert exact_key(None) is NULL_KEY


def test_out_of_range_number_key_never_collides_with_micro_units() -> None:
    # 6e9 is out of range; 6000 in micro-units is the integer 6e9.
    assert exact_key(6e9) != exact_key(6000)


def test_objects_and_arrays_have_no_exact_key() -> None:
    assert exact_key({}) is None
    assert exact_key([1]) is None


def test_is_number_excludes_booleans() -> None:
    assert is_number(1)
    assert is_number(1.5)
    assert not is_number(True)
    assert not is_number("1")
    assert not is_number(None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.0.0.1", (4, 0x0A000001)),
        ("255.255.255.255", (4, 0xFFFFFFFF)),
        ("2001:db8::1", (6, 0x20010DB8000000000000000000000001)),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", (6, 0x20010DB8000000000000000000000001)),
        ("::", (6, 0)),
    ],
)
def test_ip_literals_parse_to_version_and_integer(text: str, expected: tuple[int, int]) -> None:
    assert parse_ip(text) == expected


@pytest.mark.parametrize(
    "text",
    ["10.0.0.256", "10.0.0", "localhost", "10.0.0.1/24", "abc", "", "1.2.3.4 ", "::ffff:1.2.3.4"],
)
def test_non_ip_strings_do_not_parse(text: str) -> None:
    assert parse_ip(text) is None


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-5e9, max_value=5e9))
def test_micro_units_preserve_order(value: float) -> None:
    smaller = number_micros(value - 1)
    here = number_micros(value)
    assert here is not None
    if smaller is not None:
        assert smaller <= here
