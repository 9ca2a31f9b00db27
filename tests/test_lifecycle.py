"""The pure message lifecycle: the transition table and the rules stores apply."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventyard import lifecycle
from eventyard.errors import InvalidParameterValue, MessageNotInflight
from eventyard.lifecycle import Event, FifoCandidate, State

NOW = 1_000_000_000


def test_state_is_derived_from_fields_and_clock() -> None:
    def state(visible_at: int, count: int, retained_from: int = NOW) -> State:
        return lifecycle.state_of(visible_at, count, retained_from, 60, NOW)

    assert state(NOW, 0) is State.VISIBLE
    assert state(NOW + 1, 0) is State.DELAYED
    assert state(NOW + 1, 1) is State.IN_FLIGHT
    assert state(NOW - 1, 3) is State.VISIBLE
    assert state(NOW + 1, 1, retained_from=NOW - 60_000) is State.EXPIRED


def test_transition_table_covers_the_documented_moves() -> None:
    assert lifecycle.transition(State.DELAYED, Event.DELAY_OVER) is State.VISIBLE
    assert lifecycle.transition(State.VISIBLE, Event.RECEIVE) is State.IN_FLIGHT
    assert lifecycle.transition(State.VISIBLE, Event.RECEIVE_OVER_LIMIT) is State.DEAD_LETTERED
    assert lifecycle.transition(State.IN_FLIGHT, Event.VISIBILITY_OVER) is State.VISIBLE
    assert lifecycle.transition(State.IN_FLIGHT, Event.CHANGE_VISIBILITY_ZERO) is State.VISIBLE
    for state in (State.DELAYED, State.VISIBLE, State.IN_FLIGHT):
        assert lifecycle.transition(state, Event.DELETE) is State.DELETED
        assert lifecycle.transition(state, Event.PURGE) is State.PURGED
        assert lifecycle.transition(state, Event.RETENTION_OVER) is State.EXPIRED


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (State.VISIBLE, Event.CHANGE_VISIBILITY),
        (State.DELAYED, Event.RECEIVE),
        (State.DELETED, Event.RECEIVE),
        (State.IN_FLIGHT, Event.RECEIVE),
        (State.EXPIRED, Event.REDRIVE),
    ],
)
def test_moves_outside_the_table_are_refused(state: State, event: Event) -> None:
    with pytest.raises(lifecycle.InvalidTransition):
        lifecycle.transition(state, event)


def test_receive_over_the_limit_dead_letters() -> None:
    assert lifecycle.receive_event(0, 3) is Event.RECEIVE
    assert lifecycle.receive_event(2, 3) is Event.RECEIVE
    assert lifecycle.receive_event(3, 3) is Event.RECEIVE_OVER_LIMIT
    assert lifecycle.receive_event(500, None) is Event.RECEIVE


def test_change_visibility_counts_from_the_call_and_caps_at_12_hours() -> None:
    received = NOW - 1_000
    new = lifecycle.visible_after_change(
        visible_at_ms=NOW + 5_000,
        received_at_ms=received,
        receive_count=1,
        new_timeout_seconds=60,
        now_ms=NOW,
    )
    assert new == NOW + 60_000
    with pytest.raises(InvalidParameterValue, match="12 hours"):
        lifecycle.visible_after_change(
            visible_at_ms=NOW + 5_000,
            received_at_ms=received,
            receive_count=1,
            new_timeout_seconds=43_200,
            now_ms=NOW,
        )
    with pytest.raises(MessageNotInflight):
        lifecycle.visible_after_change(
            visible_at_ms=NOW,
            received_at_ms=received,
            receive_count=1,
            new_timeout_seconds=10,
            now_ms=NOW,
        )


def test_fifo_group_lock() -> None:
    messages = [
        FifoCandidate(1, "a", NOW + 10),  # in flight: locks group a
        FifoCandidate(2, "a", NOW),
        FifoCandidate(3, "b", NOW),
        FifoCandidate(4, "b", NOW),
        FifoCandidate(5, "c", NOW),
    ]
    chosen = lifecycle.deliverable_fifo(messages, NOW, 10)
    assert [m.position for m in chosen] == [3, 4, 5]
    assert [m.position for m in lifecycle.deliverable_fifo(messages, NOW, 2)] == [3, 4]


def test_deduplication_keys() -> None:
    explicit = lifecycle.deduplication_key(
        deduplication_id="d1",
        body_text="x",
        content_based=False,
        group_id="g",
        scope_by_group=False,
    )
    assert explicit == "d1"
    by_body = lifecycle.deduplication_key(
        deduplication_id=None, body_text="x", content_based=True, group_id="g", scope_by_group=False
    )
    assert by_body == "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
    scoped = lifecycle.deduplication_key(
        deduplication_id="d1", body_text="x", content_based=False, group_id="g", scope_by_group=True
    )
    assert scoped == "g\x1fd1"  # a separator no group or deduplication id may hold
    with pytest.raises(InvalidParameterValue, match="content_based_deduplication"):
        lifecycle.deduplication_key(
            deduplication_id=None,
            body_text="x",
            content_based=False,
            group_id="g",
            scope_by_group=False,
        )


@given(
    st.lists(st.tuples(st.sampled_from("abc"), st.booleans()), min_size=0, max_size=30),
    st.integers(1, 10),
)
def test_fifo_never_delivers_behind_an_invisible_message_of_its_group(
    shape: list[tuple[str, bool]], limit: int
) -> None:
    messages = [
        FifoCandidate(i, group, NOW if visible else NOW + 1)
        for i, (group, visible) in enumerate(shape)
    ]
    chosen = lifecycle.deliverable_fifo(messages, NOW, limit)
    assert len(chosen) <= limit
    for message in chosen:
        earlier = [
            m for m in messages if m.group_id == message.group_id and m.position < message.position
        ]
        assert all(m.visible_at_ms <= NOW for m in earlier)
    assert [m.position for m in chosen] == sorted(m.position for m in chosen)
