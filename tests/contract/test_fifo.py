"""FIFO queues: group ids, order, group locks, deduplication, sequence numbers."""

from __future__ import annotations

import pytest
from tests_support import FakeClock, count_rows

import eventyard
from eventyard import Client


def _drain_bodies(queue: eventyard.Queue, max_messages: int = 10) -> list[object]:
    messages = queue.receive(max_messages)
    for message in messages:
        queue.delete(message)
    return [m.body for m in messages]


def test_group_id_is_required(client: Client, database_url: str) -> None:
    queue = client.create_queue("jobs.fifo", content_based_deduplication=True)
    with pytest.raises(eventyard.InvalidParameterValue, match="group_id is required"):
        queue.send("x")
    with pytest.raises(eventyard.InvalidParameterValue, match="group_id"):
        queue.send("x", group_id="has space")
    assert count_rows(database_url, "eventyard_messages") == 0


def test_deduplication_id_or_content_based_is_required(client: Client) -> None:
    queue = client.create_queue("jobs.fifo")
    with pytest.raises(eventyard.InvalidParameterValue, match="deduplication_id is required"):
        queue.send("x", group_id="g")
    queue.send("x", group_id="g", deduplication_id="d1")


def test_per_message_delay_is_refused(client: Client) -> None:
    queue = client.create_queue("jobs.fifo", content_based_deduplication=True)
    with pytest.raises(eventyard.InvalidParameterValue, match="not supported on FIFO"):
        queue.send("x", group_id="g", delay_seconds=0)


def test_queue_delay_applies_to_fifo(client: Client, clock: FakeClock) -> None:
    queue = client.create_queue("jobs.fifo", content_based_deduplication=True, delay_seconds=3)
    queue.send("x", group_id="g")
    assert queue.receive() == []
    clock.advance(3)
    assert _drain_bodies(queue) == ["x"]


def test_order_within_a_group(client: Client) -> None:
    queue = client.create_queue("jobs.fifo", content_based_deduplication=True)
    for i in range(25):
        queue.send(f"m{i}", group_id="g")
    received: list[object] = []
    while batch := _drain_bodies(queue, 7):
        received.extend(batch)
    assert received == [f"m{i}" for i in range(25)]


def test_in_flight_message_locks_its_group(client: Client, clock: FakeClock) -> None:
    queue = client.create_queue(
        "jobs.fifo", content_based_deduplication=True, visibility_timeout=10
    )
    queue.send_batch(
        [
            {"body": "a1", "group_id": "a"},
            {"body": "a2", "group_id": "a"},
            {"body": "b1", "group_id": "b"},
        ]
    )
    [first] = queue.receive(1)
    assert first.body == "a1"
    # a1 in flight: a2 must wait; b1 is free; one receive may span groups
    assert [m.body for m in queue.receive(10)] == ["b1"]
    assert queue.receive(10) == []
    clock.advance(10)  # a1 and b1 come back; a1 still before a2
    assert [m.body for m in queue.receive(10)] == ["a1", "a2", "b1"]


def test_a_receive_returns_several_messages_of_a_group_in_order(client: Client) -> None:
    queue = client.create_queue("jobs.fifo", content_based_deduplication=True)
    queue.send_batch([{"body": f"x{i}", "group_id": "g"} for i in range(5)])
    assert [m.body for m in queue.receive(3)] == ["x0", "x1", "x2"]
    assert queue.receive(3) == []  # x3 waits behind x0..x2 in flight


def test_deleting_the_head_unlocks_the_group(client: Client) -> None:
    queue = client.create_queue("jobs.fifo", content_based_deduplication=True)
    queue.send("one", group_id="g")
    queue.send("two", group_id="g")
    [head] = queue.receive(1)
    assert queue.receive(1) == []
    queue.delete(head)
    assert [m.body for m in queue.receive(1)] == ["two"]


def test_explicit_deduplication_within_five_minutes(client: Client, clock: FakeClock) -> None:
    queue = client.create_queue("jobs.fifo")
    first = queue.send("x", group_id="g", deduplication_id="d")
    clock.advance(299)
    again = queue.send_batch([{"body": "other body", "group_id": "g", "deduplication_id": "d"}])
    assert again[0].duplicate
    assert again[0].message_id == first
    assert queue.stats().visible == 1
    clock.advance(1)
    assert queue.send("x", group_id="g", deduplication_id="d") != first
    assert queue.stats().visible == 2


def test_deduplication_holds_after_the_original_is_deleted(client: Client) -> None:
    queue = client.create_queue("jobs.fifo", content_based_deduplication=True)
    queue.send("x", group_id="g")
    assert _drain_bodies(queue) == ["x"]
    queue.send("x", group_id="g")
    assert queue.receive() == []


def test_content_based_deduplication_hashes_the_body(client: Client) -> None:
    queue = client.create_queue("jobs.fifo", content_based_deduplication=True)
    results = queue.send_batch(
        [
            {"body": "same", "group_id": "g1"},
            {"body": "same", "group_id": "g2"},  # queue scope: a duplicate across groups
            {"body": "different", "group_id": "g1"},
        ]
    )
    assert [r.duplicate for r in results] == [False, True, False]
    assert results[1].message_id == results[0].message_id
    assert results[1].sequence_number == results[0].sequence_number


def test_deduplication_scope_message_group(client: Client) -> None:
    queue = client.create_queue(
        "jobs.fifo", content_based_deduplication=True, deduplication_scope="messageGroup"
    )
    results = queue.send_batch(
        [
            {"body": "same", "group_id": "g1"},
            {"body": "same", "group_id": "g2"},
            {"body": "same", "group_id": "g1"},
        ]
    )
    assert [r.duplicate for r in results] == [False, False, True]


def test_fifo_system_attributes_and_sequence_numbers(client: Client) -> None:
    queue = client.create_queue("jobs.fifo")
    results = queue.send_batch(
        [{"body": f"m{i}", "group_id": "g", "deduplication_id": f"d{i}"} for i in range(3)]
    )
    sequences = [r.sequence_number for r in results]
    assert all(s is not None and len(s) == 20 and s.isdigit() for s in sequences)
    assert sequences == sorted(sequences)  # type: ignore[type-var]
    messages = queue.receive(10)
    assert [m.sequence_number for m in messages] == sequences
    system = messages[0].system_attributes
    assert system["MessageGroupId"] == "g"
    assert system["MessageDeduplicationId"] == "d0"
    assert system["SequenceNumber"] == sequences[0]


def test_fifo_dead_letter_queue(client: Client, clock: FakeClock) -> None:
    client.create_queue("dlq.fifo")
    queue = client.create_queue(
        "jobs.fifo",
        content_based_deduplication=True,
        visibility_timeout=1,
        dead_letter_queue="dlq.fifo",
        max_receive_count=2,
    )
    queue.send("poison", group_id="g")
    queue.send("next", group_id="g")
    for _ in range(2):
        assert [m.body for m in queue.receive(1)] == ["poison"]
        clock.advance(1)
    # the third receive parks the poison message and frees its group
    assert [m.body for m in queue.receive(1)] == ["next"]
    dead = client.get_queue("dlq.fifo").receive(10)
    assert [(m.body, m.group_id) for m in dead] == [("poison", "g")]
