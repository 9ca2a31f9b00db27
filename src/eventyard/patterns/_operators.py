"""Matchers for one field: the operators EventBridge patterns and SNS policies share.

What it is: precompiled tests for a single leaf value (``prefix``, ``suffix``,
``equals-ignore-case``, ``anything-but`` in all its forms, ``numeric``,
``cidr``, ``wildcard``) and ``FieldCondition``, the OR of everything listed for
one field (``"state": ["a", {"prefix": "b"}, {"exists": false}]``).

What it is not: parsing or validation (``_syntax`` builds these from JSON and
rejects bad input before anything here runs), nor the walk over an event.

Every test receives a leaf of the event (a string, number, boolean or null)
and never raises: type mismatches simply do not match. The rules, as in
EventBridge: string operators only match strings; ``numeric`` only matches
numbers; ``anything-but`` matches any leaf that is not excluded, including
null, booleans and values of the other type (``{"anything-but": 5}`` matches
``"5"``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from functools import lru_cache

from eventyard.patterns._values import exact_key, number_micros, parse_ip
from eventyard.patterns._wildcard import WildcardMatcher

#: A compiled test of one leaf value.
Predicate = Callable[[object], bool]

# Event values are tested far more often than they change; most IP-shaped
# strings recur (the same client addresses), so parsing is cached.
_cached_ip = lru_cache(maxsize=4096)(parse_ip)


def fold_case(text: str) -> str:
    """The case-insensitive form used by every ``equals-ignore-case`` variant."""
    return text.lower()


def prefix(text: str) -> Predicate:
    def test(value: object) -> bool:
        return isinstance(value, str) and value.startswith(text)

    return test


def prefix_ignore_case(text: str) -> Predicate:
    folded = fold_case(text)

    def test(value: object) -> bool:
        return isinstance(value, str) and fold_case(value).startswith(folded)

    return test


def suffix(text: str) -> Predicate:
    def test(value: object) -> bool:
        return isinstance(value, str) and value.endswith(text)

    return test


def suffix_ignore_case(text: str) -> Predicate:
    folded = fold_case(text)

    def test(value: object) -> bool:
        return isinstance(value, str) and fold_case(value).endswith(folded)

    return test


def equals_ignore_case(text: str) -> Predicate:
    folded = fold_case(text)

    def test(value: object) -> bool:
        return isinstance(value, str) and fold_case(value) == folded

    return test


def numeric(
    lower: int | None, lower_inclusive: bool, upper: int | None, upper_inclusive: bool
) -> Predicate:
    """A range over micro-units; None is an open end. ``=`` is a closed point range."""

    def test(value: object) -> bool:
        micros = number_micros(value)
        if micros is None:
            return False
        if lower is not None and (micros < lower or (micros == lower and not lower_inclusive)):
            return False
        return upper is None or micros < upper or (micros == upper and upper_inclusive)

    return test


def cidr(version: int, lowest: int, highest: int) -> Predicate:
    def test(value: object) -> bool:
        if not isinstance(value, str):
            return False
        address = _cached_ip(value)
        return address is not None and address[0] == version and lowest <= address[1] <= highest

    return test


def wildcard(pieces: Sequence[str]) -> Predicate:
    matcher = WildcardMatcher(pieces)

    def test(value: object) -> bool:
        return isinstance(value, str) and matcher(value)

    return test


def anything_but(strings: Iterable[str], numbers_micros: Iterable[int]) -> Predicate:
    """Matches every leaf except the listed strings and (by value) numbers."""
    excluded_strings = frozenset(strings)
    excluded_numbers = frozenset(numbers_micros)

    def test(value: object) -> bool:
        if isinstance(value, str):
            return value not in excluded_strings
        # non-numbers (None micros) and numbers of another value are not excluded
        return number_micros(value) not in excluded_numbers

    return test


def anything_but_prefix(prefixes: Sequence[str]) -> Predicate:
    options = tuple(prefixes)

    def test(value: object) -> bool:
        return not (isinstance(value, str) and value.startswith(options))

    return test


def anything_but_suffix(suffixes: Sequence[str]) -> Predicate:
    options = tuple(suffixes)

    def test(value: object) -> bool:
        return not (isinstance(value, str) and value.endswith(options))

    return test


def anything_but_ignore_case(texts: Iterable[str]) -> Predicate:
    excluded = frozenset(fold_case(text) for text in texts)

    def test(value: object) -> bool:
        return not (isinstance(value, str) and fold_case(value) in excluded)

    return test


def anything_but_wildcard(patterns: Sequence[Sequence[str]]) -> Predicate:
    matchers = tuple(WildcardMatcher(pieces) for pieces in patterns)

    def test(value: object) -> bool:
        return not (isinstance(value, str) and any(matcher(value) for matcher in matchers))

    return test


class FieldCondition:
    """Everything one field's list allows, OR-ed: exact values, operators, exists.

    ``accepts_any`` answers for the leaves found at the field's path (never an
    empty list: a field with no leaves is absent, and only ``exists: false``
    accepts absence, see ``absence_ok``).
    """

    __slots__ = (
        "absence_ok",
        "accepts_any",
        "any_value",
        "exact_ips",
        "exact_others",
        "exact_strings",
        "predicates",
        "value_count",
    )

    def __init__(
        self,
        *,
        exact_values: Sequence[object] = (),
        predicates: Sequence[Predicate] = (),
        any_value: bool = False,
        absence_ok: bool = False,
        value_count: int = 0,
    ) -> None:
        strings: set[str] = set()
        others: set[Hashable] = set()
        ips: set[tuple[int, int]] = set()
        for value in exact_values:
            key = exact_key(value)
            if isinstance(key, str):
                strings.add(key)
                # EventBridge compares IP literals as addresses: "2001:db8::1"
                # in a pattern matches "2001:0db8:0:0:0:0:0:1" in an event.
                address = parse_ip(key)
                if address is not None:
                    ips.add(address)
            elif key is not None:
                others.add(key)
        self.exact_strings = frozenset(strings)
        self.exact_others = frozenset(others)
        self.exact_ips = frozenset(ips)
        self.predicates = tuple(predicates)
        #: ``exists: true``: any leaf at all satisfies the field.
        self.any_value = any_value
        #: ``exists: false``: the field may be absent.
        self.absence_ok = absence_ok
        #: How many alternatives the list had (SNS complexity counts these).
        self.value_count = value_count
        #: ``accepts_any(leaves)``: does any leaf found at the field's path
        #: satisfy any alternative? (A per-field closure: this is the hot path.)
        self.accepts_any: Callable[[Sequence[object]], bool] = self._specialise()

    @property
    def index_keys(self) -> frozenset[Hashable] | None:
        """The exact keys, if exact values are the only alternatives (an index anchor)."""
        if self.predicates or self.any_value or self.absence_ok or self.exact_ips:
            return None
        keys: frozenset[Hashable] = self.exact_strings | self.exact_others
        return keys or None

    def accepts(self, value: object) -> bool:
        """Does one leaf satisfy any alternative?"""
        return self.accepts_any((value,))

    def _specialise(self) -> Callable[[Sequence[object]], bool]:
        # Built once per field so the hot loop does no needless work: a field of
        # exact strings (the common case) is a single C-level set intersection.
        if self.any_value:
            return _always
        strings = self.exact_strings
        others = self.exact_others
        ips = self.exact_ips
        predicates = self.predicates
        if not others and not ips and not predicates:
            return lambda values: not strings.isdisjoint(values)

        def accepts_any(values: Sequence[object]) -> bool:
            for value in values:
                if isinstance(value, str):
                    if value in strings:
                        return True
                    if ips:
                        address = _cached_ip(value)
                        if address is not None and address in ips:
                            return True
                elif others and exact_key(value) in others:
                    return True
                for predicate in predicates:
                    if predicate(value):
                        return True
            return False

        return accepts_any


def _always(values: Sequence[object]) -> bool:
    return True
