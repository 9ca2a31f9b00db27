"""The rule index: same answers as testing every pattern, without testing every pattern."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from eventyard.errors import InvalidEventPattern, InvalidParameterValue
from eventyard.patterns import RuleIndex, compile_pattern
from eventyard.patterns._rule_index import MAX_FAN_OUT

ORDER = {
    "source": "com.shop.orders",
    "detail-type": "OrderPlaced",
    "detail": {
        "total": 1500,
        "currency": "EUR",
        "items": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}],
    },
}


def test_match_returns_matching_ids_in_insertion_order() -> None:
    index: RuleIndex[str] = RuleIndex()
    index.add("big", {"detail": {"total": [{"numeric": [">", 1000]}]}})
    index.add("payments", {"source": ["com.shop.payments"]})
    index.add("orders", {"source": ["com.shop.orders"], "detail-type": ["OrderPlaced"]})
    index.add("euro", {"detail": {"currency": ["EUR"]}})
    assert index.match(ORDER) == ["big", "orders", "euro"]
    assert index.match(json.dumps(ORDER)) == ["big", "orders", "euro"]
    assert index.match({"source": "x"}) == []


def test_adding_an_id_again_replaces_its_pattern() -> None:
    index: RuleIndex[str] = RuleIndex()
    index.add("r", {"source": ["com.shop.payments"]})
    index.add("other", {"source": ["com.shop.orders"]})
    assert index.match(ORDER) == ["other"]
    index.add("r", {"source": ["com.shop.orders"]})
    assert len(index) == 2
    assert index.match(ORDER) == ["other", "r"]


def test_remove_discard_clear_and_membership() -> None:
    index: RuleIndex[int] = RuleIndex()
    for number in range(5):
        index.add(number, {"source": ["com.shop.orders"]})
    assert index.match(ORDER) == [0, 1, 2, 3, 4]
    index.remove(2)
    assert index.match(ORDER) == [0, 1, 3, 4]
    with pytest.raises(KeyError):
        index.remove(2)
    assert index.discard(3) is True
    assert index.discard(3) is False
    assert 0 in index
    assert 3 not in index
    assert list(index) == [0, 1, 4]
    assert index.get(0) == compile_pattern({"source": ["com.shop.orders"]})
    assert index.get(3) is None
    index.clear()
    assert len(index) == 0
    assert index.match(ORDER) == []


def test_an_invalid_pattern_leaves_the_index_unchanged() -> None:
    index: RuleIndex[str] = RuleIndex()
    index.add("r", {"source": ["com.shop.orders"]})
    with pytest.raises(InvalidEventPattern):
        index.add("r", {"source": []})
    assert index.match(ORDER) == ["r"]


def test_compiled_patterns_and_json_text_can_be_added() -> None:
    index: RuleIndex[str] = RuleIndex()
    returned = index.add("a", compile_pattern({"source": ["com.shop.orders"]}))
    index.add("b", '{"detail": {"currency": ["EUR"]}}')
    assert returned == compile_pattern({"source": ["com.shop.orders"]})
    assert index.match(ORDER) == ["a", "b"]


def test_events_that_are_not_objects_match_nothing_and_bad_json_raises() -> None:
    index: RuleIndex[str] = RuleIndex()
    index.add("absent", {"x": [{"exists": False}]})
    assert index.match("[1]") == []
    with pytest.raises(InvalidParameterValue):
        index.match("{oops")


def test_or_rules_are_reported_once() -> None:
    index: RuleIndex[str] = RuleIndex()
    index.add(
        "either", {"$or": [{"source": ["com.shop.orders"]}, {"detail": {"currency": ["EUR"]}}]}
    )
    assert index.match(ORDER) == ["either"]


def test_exact_values_found_in_different_array_elements_are_checked_for_consistency() -> None:
    index: RuleIndex[str] = RuleIndex()
    index.add("same-item", {"detail": {"items": {"sku": ["A"], "qty": [1]}}})
    index.add("a-twice", {"detail": {"items": {"sku": ["A"], "qty": [2]}}})
    assert index.match(ORDER) == ["a-twice"]


def test_many_alternatives_beyond_the_fan_out_still_match() -> None:
    index: RuleIndex[str] = RuleIndex()
    values = [f"v{n}" for n in range(MAX_FAN_OUT + 1)]
    index.add("wide", {"a": values, "b": ["x"]})
    index.add("wider", {"a": values, "b": values})
    assert index.match({"a": values[-1], "b": "x"}) == ["wide"]
    assert index.match({"a": values[0], "b": values[-1]}) == ["wider"]


def test_array_values_reach_every_matching_alternative() -> None:
    index: RuleIndex[str] = RuleIndex()
    index.add("one", {"resources": ["r1", "r2"]})
    index.add("two", {"resources": ["r2"]})
    index.add("both", {"resources": ["r1"], "source": ["s"]})
    assert index.match({"resources": ["r2", "r1", "r2"], "source": "s"}) == ["one", "two", "both"]


def test_numbers_booleans_and_null_are_indexed_by_value_and_type() -> None:
    index: RuleIndex[str] = RuleIndex()
    index.add("five", {"n": [5]})
    index.add("true", {"n": [True]})
    index.add("null", {"n": [None]})
    index.add("string", {"n": ["5"]})
    assert index.match({"n": 5.0}) == ["five"]
    assert index.match({"n": True}) == ["true"]
    assert index.match({"n": 1}) == []
    assert index.match({"n": None}) == ["null"]
    assert index.match({"n": "5"}) == ["string"]


# -- the index answers exactly what the naive loop answers -------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_index_returns_exactly_what_the_naive_loop_returns(
    data: st.DataObject, pattern_strategy: Any, event_strategy: Any
) -> None:
    sources = data.draw(st.lists(pattern_strategy, min_size=1, max_size=12))
    index: RuleIndex[int] = RuleIndex()
    patterns = {}
    for number, source in enumerate(sources):
        try:
            patterns[number] = index.add(number, source)
        except InvalidEventPattern:
            continue
    assume(patterns)
    removed = data.draw(st.sets(st.sampled_from(sorted(patterns)), max_size=2))
    for number in removed:
        index.remove(number)
        del patterns[number]
    for _ in range(6):
        event = data.draw(event_strategy)
        expected = [number for number, pattern in patterns.items() if pattern.matches(event)]
        assert index.match(event) == expected
