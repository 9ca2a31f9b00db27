"""Collecting an event's leaves at the tested paths, and array-consistent branches."""

from __future__ import annotations

from typing import Any

import pytest

from eventyard.patterns._fields import _ConsistentSearch, branch_matches, build_trie, collect
from eventyard.patterns._syntax import EVENT_PATTERN, compile_syntax


def leaves(paths: list[str], event: dict[str, Any]) -> dict[str, list[object]]:
    values, _ = collect(build_trie(paths), event)
    return values


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    compiled = compile_syntax(pattern, EVENT_PATTERN)
    values, chains = collect(build_trie(compiled.paths), event)
    return any(branch_matches(branch, values, chains) for branch in compiled.branches)


def test_only_the_tested_paths_are_collected() -> None:
    event = {"source": "s", "detail": {"a": 1, "b": {"c": 2}}, "other": "x"}
    assert leaves(["source", "detail.b.c"], event) == {"source": ["s"], "detail.b.c": [2]}


def test_dotted_event_keys_and_nested_keys_are_the_same_path() -> None:
    assert leaves(["a.b.c"], {"a": {"b.c": 1}}) == {"a.b.c": [1]}
    assert leaves(["a.b.c"], {"a.b": {"c": 2}}) == {"a.b.c": [2]}
    assert leaves(["a.b.c"], {"a.b.c": 3, "a": {"b": {"c": 4}}}) == {"a.b.c": [3, 4]}


def test_arrays_contribute_every_scalar_element_flattened() -> None:
    found = leaves(["r"], {"r": ["a", ["b", ["c"]], {"x": 1}, None]})
    assert sorted(found["r"], key=repr) == sorted(["a", "b", "c", None], key=repr)


def test_objects_and_empty_arrays_are_not_leaves() -> None:
    assert leaves(["a", "b"], {"a": {"x": 1}, "b": []}) == {}


def test_arrays_of_objects_are_walked() -> None:
    event = {"items": [{"sku": "A"}, {"sku": "B"}, {"other": 1}, [{"sku": "C"}]]}
    assert leaves(["items.sku"], event) == {"items.sku": ["A", "B", "C"]}


def test_chains_are_kept_only_for_leaves_under_arrays_of_objects() -> None:
    _, chains = collect(build_trie(["plain", "list"]), {"plain": 1, "list": [1, 2]})
    assert chains == {}
    values, chains = collect(
        build_trie(["items.sku", "top"]), {"top": 1, "items": [{"sku": "A"}, {"sku": "B"}]}
    )
    assert values["items.sku"] == ["A", "B"]
    first, second = chains["items.sku"]
    assert (first[0][1], second[0][1]) == (0, 1)
    assert first[0][0] == second[0][0]  # the same array
    assert "top" not in chains


def test_mixed_leaves_keep_chains_aligned() -> None:
    values, chains = collect(build_trie(["a.b"]), {"a.b": 0, "a": [{"b": 1}, {"b": 2}]})
    assert values["a.b"] == [0, 1, 2]
    assert chains["a.b"][0] == ()
    assert len(chains["a.b"]) == 3


EMPLOYEES = {
    "Employees": [
        {"Name": "John", "Title": "Manager"},
        {"Name": "Jane", "Title": "Intern"},
    ]
}


def test_fields_inside_one_array_must_come_from_the_same_element() -> None:
    assert not matches({"Employees": {"Name": ["John"], "Title": ["Intern"]}}, EMPLOYEES)
    assert matches({"Employees": {"Name": ["Jane"], "Title": ["Intern"]}}, EMPLOYEES)
    assert matches({"Employees": {"Name": ["John"]}}, EMPLOYEES)


def test_nested_arrays_are_consistent_at_every_level() -> None:
    event = {
        "a": [
            {"id": 1, "b": [{"x": "p"}, {"x": "q"}]},
            {"id": 2, "b": [{"x": "r"}]},
        ]
    }
    assert matches({"a": {"id": [1], "b": {"x": ["q"]}}}, event)
    assert not matches({"a": {"id": [2], "b": {"x": ["q"]}}}, event)


def test_fields_in_different_arrays_are_independent() -> None:
    event = {"a": [{"x": 1}, {"x": 2}], "b": [{"y": 3}, {"y": 4}]}
    assert matches({"a": {"x": [2]}, "b": {"y": [3]}}, event)


def test_absence_inside_arrays_depends_on_fields_chosen_earlier_in_path_order() -> None:
    # "d.a" sorts before "d.x": element 0 is chosen, and it has no "x".
    assert matches({"d": {"a": [1], "x": [{"exists": False}]}}, {"d": [{"a": 1}, {"x": 1}]})
    # "d.x" sorts before "d.y": nothing is chosen yet, and some element has "x".
    assert not matches({"d": {"x": [{"exists": False}], "y": [1]}}, {"d": [{"y": 1}, {"x": 1}]})


def test_absence_outside_arrays() -> None:
    assert matches({"a": [{"exists": False}]}, {"b": 1})
    assert not matches({"a": [{"exists": False}]}, {"a": None})


def test_consistency_search_is_polynomial_with_many_independent_arrays(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each field alone is satisfiable, the last two never together: without
    # memoising failures the search would try 60 ** 3 * 59 combinations.
    size = 60
    event: dict[str, Any] = {name: [{"v": n} for n in range(size)] for name in ("a", "b", "c", "d")}
    event["d"][0] = {"v": -1, "w": "yes"}
    pattern: dict[str, Any] = {
        name: {"v": [{"numeric": [">=", 0]}]} for name in ("a", "b", "c", "d")
    }
    pattern["d"]["w"] = ["yes"]
    steps = 0
    original = _ConsistentSearch._search

    def counting(self: _ConsistentSearch, position: int, chosen: dict[int, int]) -> bool:
        nonlocal steps
        steps += 1
        return original(self, position, chosen)

    monkeypatch.setattr(_ConsistentSearch, "_search", counting)
    assert not matches(pattern, event)
    assert steps < 1000  # about 4 x 60 with memoised failures
    event["d"][1]["w"] = "yes"
    assert matches(pattern, event)


def test_python_built_events_are_read_as_json_would_read_them() -> None:
    # tuples are arrays; values JSON cannot hold (sets, bytes, objects) are not leaves
    assert leaves(["a"], {"a": ("x", ("y",))}) == {"a": ["x", "y"]}
    assert leaves(["a.b"], {"a": ({"b": 1},)}) == {"a.b": [1]}
    assert leaves(["a", "b", "c"], {"a": {1, 2}, "b": b"x", "c": [object(), "z"]}) == {"c": ["z"]}
    assert not matches({"a": [{"exists": True}]}, {"a": {1, 2}})
