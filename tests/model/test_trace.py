"""W3C trace context: parsing, child spans, and stamping outgoing attributes."""

from __future__ import annotations

import pytest

from eventyard.model import trace

VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_parse_accepts_version_00_only() -> None:
    assert trace.parse(VALID) == VALID
    assert trace.parse(VALID.upper().replace("X", "x")) == VALID
    for bad in (
        None,
        "",
        "garbage",
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        VALID + "-extra",
        12,
    ):
        assert trace.parse(bad) is None


def test_a_child_keeps_the_trace_and_flags_with_a_new_span() -> None:
    child = trace.child(VALID)
    assert trace.trace_id(child) == trace.trace_id(VALID)
    assert child[36:52] != VALID[36:52]
    assert child.endswith("-01")
    fresh = trace.child(None)
    assert trace.parse(fresh) == fresh
    assert trace.trace_id(fresh) != trace.trace_id(VALID)


def test_stamped_adds_a_child_only_inside_a_trace_and_when_there_is_room() -> None:
    assert trace.stamped({"a": "1"}) == {"a": "1"}
    with trace.use(VALID):
        assert trace.current() == VALID
        stamped = trace.stamped(None)
        assert stamped is not None
        assert trace.trace_id(str(stamped["traceparent"])) == trace.trace_id(VALID)
        assert trace.stamped({"traceparent": "mine"}) == {"traceparent": "mine"}
        full = {f"a{i}": "x" for i in range(10)}
        assert trace.stamped(full) is full  # the trace is dropped, never the message
    assert trace.current() is None


@pytest.mark.parametrize("value", [None, "not a traceparent"])
def test_use_ignores_what_is_not_a_trace(value: str | None) -> None:
    with trace.use(value):
        assert trace.current() is None
