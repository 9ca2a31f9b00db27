"""Sending, receiving, deleting and visibility: the standard-queue rows of SEMANTICS.md."""

from __future__ import annotations

import pytest
from tests_support import FakeClock, count_rows

import eventyard
from eventyard import Client


def test_bodies_come_back_as_sent(client: Client) -> None:
    queue = client.create_queue("q")
    bodies = ["text", b"\x00bytes", {"order_id": 1}, [1, 2], 42]
    for body in bodies:
        queue.send(body)
    received = queue.receive(max_messages=10)
    assert sorted(repr(m.body) for m in received) == sorted(repr(b) for b in bodies)
    by_body = {repr(m.body): m for m in received}
    assert by_body[repr({"order_id": 1})].text == '{"order_id":1}'


def test_message_and_system_attributes(client: Client, clock: FakeClock) -> None:
    queue = client.create_queue("q")
    message_id = queue.send("x", attributes={"kind": "book", "copies": 2})
    sent_at = int(clock.now * 1000)
    clock.advance(1.5)
    [message] = queue.receive()
    assert message.message_id == message_id
    assert message.attributes == {"kind": "book", "copies": 2}
    assert message.message_attributes["kind"] == {"DataType": "String", "StringValue": "book"}
    system = message.system_attributes
    assert system["ApproximateReceiveCount"] == "1"
    assert system["SentTimestamp"] == str(sent_at)
    assert system["ApproximateFirstReceiveTimestamp"] == str(sent_at + 1500)
    assert system["SenderId"] == client.sender_id
    assert "SequenceNumber" not in system


def test_first_receive_timestamp_stays_the_first(client: Client, clock: FakeClock) -> None:
    queue = client.create_queue("q", visibility_timeout=1)
    queue.send("x")
    first = queue.receive()[0].first_receive_timestamp
    clock.advance(2)
    again = queue.receive()[0]
    assert again.receive_count == 2
    assert again.first_receive_timestamp == first


def test_receive_takes_up_to_max_messages(client: Client) -> None:
    queue = client.create_queue("q")
    queue.send_batch([str(i) for i in range(10)])
    queue.send_batch([str(i) for i in range(10, 15)])
    assert len(queue.receive(max_messages=4)) == 4
    assert len(queue.receive(max_messages=10)) == 10
    assert len(queue.receive(max_messages=10)) == 1
    assert queue.receive(max_messages=10) == []


def test_native_receive_may_take_more_than_ten(client: Client) -> None:
    queue = client.create_queue("q")
    for start in range(0, 30, 10):
        queue.send_batch([str(i) for i in range(start, start + 10)])
    assert len(queue.receive(max_messages=25)) == 25


def test_visibility_timeout_hides_then_returns(client: Client, clock: FakeClock) -> None:
    queue = client.create_queue("q", visibility_timeout=30)
    queue.send("x")
    assert len(queue.receive()) == 1
    clock.advance(29.999)
    assert queue.receive() == []
    clock.advance(0.001)
    [again] = queue.receive()
    assert again.receive_count == 2


def test_receive_may_override_the_visibility_timeout(client: Client, clock: FakeClock) -> None:
    queue = client.create_queue("q", visibility_timeout=30)
    queue.send("x")
    queue.receive(visibility_timeout=2)
    clock.advance(2)
    assert len(queue.receive()) == 1


def test_visibility_timeout_zero_leaves_it_visible(client: Client) -> None:
    queue = client.create_queue("q")
    queue.send("x")
    queue.receive(visibility_timeout=0)
    assert queue.receive()[0].receive_count == 2


def test_delete_removes_for_good(client: Client, clock: FakeClock) -> None:
    queue = client.create_queue("q", visibility_timeout=1)
    queue.send("x")
    [message] = queue.receive()
    queue.delete(message.receipt_handle)
    clock.advance(5)
    assert queue.receive() == []
    queue.delete(message)  # deleting again is fine (SQS: idempotent)


def test_stale_receipt_handle_cannot_delete_or_extend(client: Client, clock: FakeClock) -> None:
    queue = client.create_queue("q", visibility_timeout=1)
    queue.send("x")
    first = queue.receive()[0]
    clock.advance(1)
    second = queue.receive()[0]
    with pytest.raises(eventyard.ReceiptHandleIsInvalid, match="stale"):
        queue.delete(first.receipt_handle)
    with pytest.raises(eventyard.ReceiptHandleIsInvalid, match="stale"):
        queue.change_visibility(first.receipt_handle, 100)
    assert queue.stats().in_flight == 1
    queue.delete(second.receipt_handle)
    assert queue.stats().total == 0


def test_latest_handle_still_deletes_after_visibility_ran_out(
    client: Client, clock: FakeClock
) -> None:
    queue = client.create_queue("q", visibility_timeout=1)
    queue.send("x")
    message = queue.receive()[0]
    clock.advance(10)  # visible again, but nobody received it since
    queue.delete(message)
    assert queue.stats().total == 0


def test_foreign_and_garbage_receipt_handles(client: Client) -> None:
    a = client.create_queue("a")
    b = client.create_queue("b")
    a.send("x")
    [message] = a.receive()
    with pytest.raises(eventyard.ReceiptHandleIsInvalid, match="another queue"):
        b.delete(message.receipt_handle)
    for garbage in ["", "nonsense", "ey1:1:2", "ey1:a:b:c"]:
        with pytest.raises(eventyard.ReceiptHandleIsInvalid):
            a.delete(garbage)
    assert a.stats().in_flight == 1


def test_change_visibility_counts_from_the_call(client: Client, clock: FakeClock) -> None:
    queue = client.create_queue("q", visibility_timeout=10)
    queue.send("x")
    message = queue.receive()[0]
    clock.advance(8)
    queue.change_visibility(message, 10)
    clock.advance(9.999)
    assert queue.receive() == []
    clock.advance(0.001)
    assert len(queue.receive()) == 1


def test_change_visibility_to_zero_releases(client: Client) -> None:
    queue = client.create_queue("q")
    queue.send("x")
    message = queue.receive()[0]
    queue.change_visibility(message.receipt_handle, 0)
    assert queue.receive()[0].receive_count == 2


def test_change_visibility_total_is_capped_at_12_hours(client: Client, clock: FakeClock) -> None:
    queue = client.create_queue("q", visibility_timeout=43_200)
    queue.send("x")
    message = queue.receive()[0]
    clock.advance(3_600)
    with pytest.raises(eventyard.InvalidParameterValue, match="12 hours"):
        queue.change_visibility(message, 43_200)
    queue.change_visibility(message, 43_200 - 3_600)


def test_change_visibility_of_a_message_not_in_flight(client: Client, clock: FakeClock) -> None:
    queue = client.create_queue("q", visibility_timeout=1)
    queue.send("x")
    message = queue.receive()[0]
    clock.advance(2)
    with pytest.raises(eventyard.MessageNotInflight):
        queue.change_visibility(message, 5)


def test_change_visibility_range(client: Client) -> None:
    queue = client.create_queue("q")
    queue.send("x")
    message = queue.receive()[0]
    with pytest.raises(eventyard.InvalidParameterValue, match="0 to 43200"):
        queue.change_visibility(message, 43_201)


def test_queue_delay_and_message_delay(client: Client, clock: FakeClock) -> None:
    queue = client.create_queue("q", delay_seconds=5)
    queue.send("queue-delay")
    queue.send("no-delay", delay_seconds=0)
    queue.send("long-delay", delay_seconds=900)

    def take() -> list[object]:
        messages = queue.receive(10)
        for message in messages:
            queue.delete(message)
        return [m.body for m in messages]

    assert take() == ["no-delay"]
    assert queue.stats().delayed == 2
    clock.advance(4.999)
    assert take() == []
    clock.advance(0.001)
    assert take() == ["queue-delay"]
    clock.advance(895)
    assert take() == ["long-delay"]


def test_retention_expiry(client: Client, clock: FakeClock, database_url: str) -> None:
    queue = client.create_queue("q", retention_seconds=60, visibility_timeout=1)
    queue.send("old")
    clock.advance(30)
    queue.send("young")
    clock.advance(30)
    assert queue.stats().visible == 1  # "old" has expired: it is not counted
    assert [m.body for m in queue.receive(10)] == ["young"]
    assert count_rows(database_url, "eventyard_messages") == 1  # and is gone for good


def test_in_flight_messages_expire_too(client: Client, clock: FakeClock) -> None:
    queue = client.create_queue("q", retention_seconds=60, visibility_timeout=120)
    queue.send("x")
    message = queue.receive()[0]
    clock.advance(121)
    assert queue.receive() == []
    assert queue.stats().total == 0
    with pytest.raises(eventyard.ReceiptHandleIsInvalid):
        queue.change_visibility(message, 10)


def test_stats_count_visible_in_flight_delayed_and_oldest_age(
    client: Client, clock: FakeClock
) -> None:
    queue = client.create_queue("q")
    assert queue.stats() == eventyard.QueueStats(0, 0, 0, None)
    queue.send("a")
    clock.advance(10)
    queue.send_batch(["b", "c"])
    queue.send("d", delay_seconds=60)
    queue.receive(max_messages=1)
    stats = queue.stats()
    assert (stats.visible, stats.in_flight, stats.delayed) == (2, 1, 1)
    assert stats.oldest_age_seconds == pytest.approx(10.0)


def test_purge_removes_everything_once_per_minute(client: Client, clock: FakeClock) -> None:
    queue = client.create_queue("q")
    queue.send_batch(["a", "b", "c"])
    queue.receive()
    assert queue.purge() == 3
    assert queue.stats().total == 0
    queue.send("after")
    clock.advance(59)
    with pytest.raises(eventyard.PurgeQueueInProgress, match="one purge per 60 s"):
        queue.purge()
    assert queue.stats().visible == 1
    clock.advance(1)
    assert queue.purge() == 1


def test_purge_makes_held_handles_useless(client: Client) -> None:
    queue = client.create_queue("q")
    queue.send("a")
    message = queue.receive()[0]
    queue.purge()
    queue.delete(message)  # gone already: success, like SQS
    with pytest.raises(eventyard.ReceiptHandleIsInvalid, match="gone"):
        queue.change_visibility(message, 5)
