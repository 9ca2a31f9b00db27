"""Batches: 1-10 entries, distinct well-formed ids, 1 MiB in total, per-entry results."""

from __future__ import annotations

import pytest
from tests_support import count_rows

import eventyard
from eventyard import Client, SendEntry


def test_send_batch_reports_each_entry_in_order(client: Client) -> None:
    queue = client.create_queue("q")
    results = queue.send_batch(
        [
            "plain",
            {"body": "with-id", "id": "mine", "attributes": {"k": "v"}},
            {"MessageBody": "aws-shaped", "Id": "aws", "DelaySeconds": 0},
            SendEntry({"json": True}, id="entry"),
            {"not": "an entry"},  # no "body" key: the dict is the body
        ]
    )
    assert [r.id for r in results] == ["0", "mine", "aws", "entry", "4"]
    assert all(r.ok and r.message_id for r in results)
    bodies = sorted(repr(m.body) for m in queue.receive(10))
    assert bodies == sorted(
        repr(b) for b in ["plain", "with-id", "aws-shaped", {"json": True}, {"not": "an entry"}]
    )


def test_a_bad_entry_fails_alone(client: Client) -> None:
    queue = client.create_queue("q", max_message_bytes=1024)
    results = queue.send_batch(
        ["ok", "x" * 1025, {"body": "bad\x00"}, {"body": "d", "delay_seconds": 901}]
    )
    assert [r.ok for r in results] == [True, False, False, False]
    assert isinstance(results[1].error, eventyard.MessageTooLong)
    assert isinstance(results[2].error, eventyard.InvalidMessageContents)
    assert isinstance(results[3].error, eventyard.InvalidParameterValue)
    assert [r.id for r in results.failed] == ["1", "2", "3"]
    assert len(results.successful) == 1
    with pytest.raises(eventyard.MessageTooLong):
        results.raise_for_errors()
    assert queue.stats().visible == 1


def test_batch_shape_errors_write_nothing(client: Client, database_url: str) -> None:
    queue = client.create_queue("q")
    cases: list[tuple[list[object], type[Exception], str]] = [
        ([], eventyard.EmptyBatchRequest, "at least 1 entry"),
        (
            [str(i) for i in range(11)],
            eventyard.TooManyEntriesInBatch,
            "11 entries; the limit is 10",
        ),
        (
            [{"body": "a", "id": "x"}, {"body": "b", "id": "x"}],
            eventyard.BatchEntryIdsNotDistinct,
            "'x' more than once",
        ),
        ([{"body": "a", "id": "bad id"}], eventyard.InvalidBatchEntryId, "batch entry id"),
        ([{"body": "a", "id": "x" * 81}], eventyard.InvalidBatchEntryId, "1 to 80"),
    ]
    for entries, error, message in cases:
        with pytest.raises(error, match=message):
            queue.send_batch(entries)
    assert count_rows(database_url, "eventyard_messages") == 0


def test_batch_total_is_limited_to_1_mib(client: Client, database_url: str) -> None:
    queue = client.create_queue("q")
    entries = ["x" * 200_000] * 6
    with pytest.raises(eventyard.BatchRequestTooLong, match="1200000 bytes; the limit"):
        queue.send_batch(entries)
    assert count_rows(database_url, "eventyard_messages") == 0
    assert all(r.ok for r in queue.send_batch(["x" * 200_000] * 5))


def test_delete_batch_per_entry(client: Client) -> None:
    queue = client.create_queue("q", visibility_timeout=0)
    queue.send_batch(["a", "b", "c"])
    first = queue.receive(10)
    again = queue.receive(10)  # visibility 0: received again, first handles are stale
    mixed = [again[0], first[1], ("custom", again[2].receipt_handle), "garbage"]
    results = queue.delete_batch(mixed)
    assert [r.id for r in results] == ["0", "1", "custom", "3"]
    assert [r.ok for r in results] == [True, False, True, False]
    assert isinstance(results[1].error, eventyard.ReceiptHandleIsInvalid)
    assert queue.stats().total == 1


def test_delete_batch_shape_errors(client: Client) -> None:
    queue = client.create_queue("q")
    with pytest.raises(eventyard.EmptyBatchRequest):
        queue.delete_batch([])
    with pytest.raises(eventyard.TooManyEntriesInBatch):
        queue.delete_batch(["h"] * 11)
    with pytest.raises(eventyard.BatchEntryIdsNotDistinct):
        queue.delete_batch([("a", "h1"), ("a", "h2")])


def test_change_visibility_batch_per_entry(client: Client) -> None:
    queue = client.create_queue("q")
    queue.send_batch(["a", "b", "c"])
    messages = queue.receive(10)
    results = queue.change_visibility_batch(
        [(messages[0], 0), ("two", messages[1].receipt_handle, 100), (messages[2], 50_000)]
    )
    assert [r.id for r in results] == ["0", "two", "2"]
    assert [r.ok for r in results] == [True, True, False]
    assert "0 to 43200" in str(results[2].error)
    assert queue.stats().visible == 1
    with pytest.raises(eventyard.InvalidParameterValue, match="must be"):
        queue.change_visibility_batch(["not a tuple"])
