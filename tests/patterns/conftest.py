"""Hypothesis strategies for patterns and events, shared by the property tests.

The vocabularies are small on purpose: random patterns and random events use
the same keys (dotted ones included) and values, so matches actually happen.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import strategies as st

KEYS = ["a", "b", "c", "a.b", "d"]
STRINGS = ["x", "y", "", "X", "xy", "10.0.0.1", "2001:db8::1"]
NUMBERS = [0, 1, 1.0, 1.5, -2, 300, 6_000_000_000]

leaf_values = st.one_of(
    st.sampled_from(STRINGS), st.sampled_from(NUMBERS), st.booleans(), st.none()
)
texts = st.sampled_from(STRINGS)
nonempty_texts = st.sampled_from([t for t in STRINGS if t])
in_range_numbers = st.sampled_from([n for n in NUMBERS if abs(n) <= 5e9])
wildcards = st.sampled_from(["*", "x*", "*y", "x*y", "", "\\*", "1*.1"])


@st.composite
def numeric_conditions(draw: st.DrawFn) -> dict[str, Any]:
    low, high = sorted(draw(st.lists(in_range_numbers, min_size=2, max_size=2, unique=True)))
    return draw(
        st.sampled_from(
            [
                {"numeric": [">", low]},
                {"numeric": [">=", low]},
                {"numeric": ["<", high]},
                {"numeric": ["<=", high]},
                {"numeric": ["=", low]},
                {"numeric": [">", low, "<=", high]},
                {"numeric": [">=", low, "<", high]},
            ]
        )
    )


anything_but_conditions = st.one_of(
    texts.map(lambda t: {"anything-but": t}),
    in_range_numbers.map(lambda n: {"anything-but": n}),
    st.lists(texts, min_size=1, max_size=3).map(lambda ts: {"anything-but": ts}),
    st.lists(in_range_numbers, min_size=1, max_size=3).map(lambda ns: {"anything-but": ns}),
    nonempty_texts.map(lambda t: {"anything-but": {"prefix": t}}),
    nonempty_texts.map(lambda t: {"anything-but": {"suffix": t}}),
    st.lists(texts, min_size=1, max_size=2).map(
        lambda ts: {"anything-but": {"equals-ignore-case": ts}}
    ),
    wildcards.map(lambda w: {"anything-but": {"wildcard": w}}),
)

conditions = st.one_of(
    leaf_values,
    texts.map(lambda t: {"prefix": t}),
    texts.map(lambda t: {"suffix": t}),
    texts.map(lambda t: {"equals-ignore-case": t}),
    texts.map(lambda t: {"prefix": {"equals-ignore-case": t}}),
    texts.map(lambda t: {"suffix": {"equals-ignore-case": t}}),
    anything_but_conditions,
    numeric_conditions(),
    st.booleans().map(lambda b: {"exists": b}),
    st.sampled_from([{"cidr": "10.0.0.0/8"}, {"cidr": "2001:db8::/32"}, {"cidr": "10.0.0.1/32"}]),
    wildcards.map(lambda w: {"wildcard": w}),
)

leaf_lists = st.lists(conditions, min_size=1, max_size=3)


def _objects(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(KEYS), children, min_size=1, max_size=3)


flat_patterns = _objects(leaf_lists)
nested_patterns = st.recursive(
    flat_patterns, lambda inner: _objects(st.one_of(leaf_lists, inner)), max_leaves=6
)


@st.composite
def event_patterns(draw: st.DrawFn) -> dict[str, Any]:
    pattern = dict(draw(nested_patterns))
    if draw(st.booleans()):
        pattern["$or"] = draw(st.lists(nested_patterns, min_size=2, max_size=3))
    return pattern


_event_values = st.recursive(
    leaf_values,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=10,
)
events = st.dictionaries(st.sampled_from(KEYS), _event_values, max_size=4)

# Anything JSON can hold, for "never raises" checks.
any_json = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=8),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


@pytest.fixture(scope="session")
def pattern_strategy() -> st.SearchStrategy[dict[str, Any]]:
    return event_patterns()


@pytest.fixture(scope="session")
def event_strategy() -> st.SearchStrategy[dict[str, Any]]:
    return events


@pytest.fixture(scope="session")
def any_json_strategy() -> st.SearchStrategy[Any]:
    return any_json
