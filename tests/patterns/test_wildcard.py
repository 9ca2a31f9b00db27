"""Wildcards: parsing with escapes, linear matching, and the complexity limit."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventyard.patterns._wildcard import (
    MAX_WILDCARD_COMPLEXITY,
    WildcardMatcher,
    complexity,
    parse_wildcard,
)


@pytest.mark.parametrize(
    ("pattern", "pieces"),
    [
        ("", ("",)),
        ("abc", ("abc",)),
        ("*", ("", "")),
        ("a*b", ("a", "b")),
        ("*a*", ("", "a", "")),
        (r"a\*b", ("a*b",)),
        (r"a\\b", ("a\\b",)),
        (r"a\\*b", ("a\\", "b")),
        (r"\*", ("*",)),
    ],
)
def test_parse_splits_on_unescaped_stars(pattern: str, pieces: tuple[str, ...]) -> None:
    assert parse_wildcard(pattern) == pieces


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("a**b", "consecutive wildcard characters '**' at position 1"),
        ("**", "consecutive wildcard characters '**' at position 0"),
        (r"a\b", "invalid escape at position 1"),
        ("a\\", "invalid escape at position 1"),
    ],
)
def test_parse_rejects_double_stars_and_stray_backslashes(pattern: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        parse_wildcard(pattern)


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("*", "", True),
        ("*", "anything", True),
        ("", "", True),
        ("", "x", False),
        ("abc", "abc", True),
        ("abc", "abcd", False),
        ("/Users/*/doc.txt", "/Users/me/a/b/doc.txt", True),
        ("/Users/*/doc.txt", "/Users/me/a/b/notdoc.txt", False),  # needs "/doc.txt"
        ("/Users/*/doc.txt", "/Users/me/doc.txt.bak", False),
        ("a*a", "a", False),  # the pieces may not overlap
        ("a*a", "aa", True),
        ("*.png", ".png", True),
        ("x*y*z", "xyz", True),
        ("x*y*z", "xzy", False),
        (r"\*", "*", True),
        (r"\*", "a", False),
        ("a\\\\b", "a\\b", True),
        ("arn:aws:events:us-east-1:*:event-bus/*", "arn:aws:events:us-east-1:1:event-bus/b", True),
        ("arn:aws:events:us-east-1:*:event-bus/*", "arn:aws:events:us-west-2:1:event-bus/b", False),
        ("é*ü", "éxxü", True),
    ],
)
def test_matching(pattern: str, value: str, expected: bool) -> None:
    assert WildcardMatcher(parse_wildcard(pattern))(value) is expected


def test_matching_is_linear_on_a_value_that_would_make_a_regex_backtrack() -> None:
    matcher = WildcardMatcher(parse_wildcard("*a*a*a*a*b"))
    assert matcher("a" * 200_000) is False  # returns at once: no backtracking


def _reference(pattern: str, value: str) -> bool:
    regex = ".*".join(re.escape(piece) for piece in parse_wildcard(pattern))
    return re.fullmatch(regex, value, re.DOTALL) is not None


_TEXT = st.text(alphabet="ab*", max_size=8).filter(lambda t: "**" not in t)


@given(_TEXT, st.text(alphabet="ab", max_size=10))
def test_matcher_agrees_with_a_regular_expression(pattern: str, value: str) -> None:
    assert WildcardMatcher(parse_wildcard(pattern))(value) is _reference(pattern, value)


@pytest.mark.parametrize(
    "patterns",
    [
        ["arn:aws:events:us-east-1:*:event-bus/*"],
        ["/Users/*/dir/dir/dir/dir/dir/doc.txt"],
        ["*/init/*", "*/dir/*"],
        ["*.jpg", "*.png", "*.gif"],
        ["a*b*c*d*e*f"],
        ["no stars at all", "another"],
    ],
)
def test_documented_wildcards_are_within_the_complexity_limit(patterns: list[str]) -> None:
    assert complexity([parse_wildcard(p) for p in patterns]) <= MAX_WILDCARD_COMPLEXITY


@pytest.mark.parametrize(
    "patterns",
    [
        ["*:*:*:*:*:event-bus/*"],  # the AWS documentation's rejected example
        ["*.bif", "*.tiff", "*.tif", "*.svs"],  # reported rejected by EventBridge
        ["*/dir/dir/dir/dir/dir/dir/dir/dir/dir/dir/doc"],
    ],
)
def test_complex_wildcards_exceed_the_limit(patterns: list[str]) -> None:
    assert complexity([parse_wildcard(p) for p in patterns]) > MAX_WILDCARD_COMPLEXITY


def test_complexity_grows_with_stars() -> None:
    scores = [complexity([parse_wildcard(":".join(["*"] * n) + ":x")]) for n in range(1, 7)]
    assert scores == sorted(scores)
    assert scores[0] < scores[-1]
