"""An operator's view and actions (eventyard additions): peek, delete by id, redrive chosen
messages, per-queue counters and function statistics — through the public API."""

from __future__ import annotations

import base64

import pytest
from tests_support import FakeClock

import eventyard
from eventyard import Client
from eventyard.model.stats import DURATION_BUCKET_BOUNDS_MS, DURATION_BUCKETS


def _dead_letter(client: Client, clock: FakeClock, source: str, bodies: list[object]) -> list[str]:
    """Send bodies to ``source`` (max_receive_count=1) and let them reach its DLQ."""
    queue = client.get_queue(source)
    ids = [queue.send(body) for body in bodies]
    while queue.receive(10):
        pass
    clock.advance(queue.attributes.visibility_timeout)
    assert queue.receive(10) == []  # this receive moved them
    return ids


# -- peek ------------------------------------------------------------------------------


def test_peek_shows_messages_oldest_first_and_changes_nothing(
    client: Client, clock: FakeClock
) -> None:
    queue = client.create_queue("q", visibility_timeout=30)
    sent_at = int(clock.now * 1000)
    first = queue.send({"n": 1}, attributes={"kind": "book"})
    clock.advance(1)
    second = queue.send(b"\x00raw")
    third = queue.send("later", delay_seconds=60)
    [held] = queue.receive(1)
    assert held.message_id == first
    before = queue.stats()
    page = queue.peek()
    assert [m.message_id for m in page.messages] == [first, second, third]
    assert page.next_page_token is None
    one, two, three = page.messages
    assert one.body == {"n": 1}
    assert one.attributes == {"kind": "book"}
    assert (one.state, one.receive_count, one.sent_timestamp) == ("in_flight", 1, sent_at)
    assert one.visible_at_timestamp == sent_at + 1000 + 30_000  # received at +1 s
    assert one.system_attributes["ApproximateReceiveCount"] == "1"
    assert one.system_attributes["SenderId"] == client.sender_id
    assert (two.body, two.state, two.receive_count) == (b"\x00raw", "visible", 0)
    assert (three.state, three.visible_at_timestamp) == ("delayed", sent_at + 1000 + 60_000)
    assert not hasattr(one, "receipt_handle")
    # nothing changed: the counts, the receive count, the held message's visibility
    assert queue.stats() == before
    assert queue.peek().messages == page.messages
    assert queue.counters().received == 1
    [next_one] = queue.receive(1)
    assert (next_one.message_id, next_one.receive_count) == (second, 1)


def test_peek_pages_with_an_opaque_token(client: Client) -> None:
    queue = client.create_queue("q")
    ids: list[str] = []
    for start in range(0, 25, 10):
        ids.extend(r.message_id or "" for r in queue.send_batch(range(start, min(start + 10, 25))))
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        page = queue.peek(limit=10, page_token=token)
        seen.extend(m.message_id for m in page.messages)
        pages += 1
        if page.next_page_token is None:
            break
        token = page.next_page_token
    assert (seen, pages) == (ids, 3)
    assert len(queue.peek(limit=1000).messages) == 25
    exact = queue.peek(limit=25)
    assert exact.next_page_token is None  # no empty last page


def test_peek_input_errors_name_the_field(client: Client) -> None:
    queue = client.create_queue("q")
    other = client.create_queue("other")
    queue.send_batch(["a", "b"])
    other.send_batch(["c", "d"])
    for bad in (0, 1001, "10", True):
        with pytest.raises(eventyard.InvalidParameterValue, match="limit must be"):
            queue.peek(limit=bad)  # type: ignore[arg-type]
    with pytest.raises(eventyard.InvalidParameterValue, match=r"page_token '\?\?' is malformed"):
        queue.peek(page_token="??")
    forged = base64.urlsafe_b64encode(b"p1:x:1").decode()
    with pytest.raises(eventyard.InvalidParameterValue, match=r"page_token .* malformed"):
        queue.peek(page_token=forged)
    foreign = other.peek(limit=1).next_page_token
    assert foreign is not None
    with pytest.raises(eventyard.InvalidParameterValue, match=r"page_token .* another queue"):
        queue.peek(page_token=foreign)
    with pytest.raises(eventyard.InvalidParameterValue, match="page_token must be a string"):
        queue.peek(page_token=5)  # type: ignore[arg-type]


def test_peek_hides_expired_messages_and_shows_the_dead_letter_source(
    client: Client, clock: FakeClock
) -> None:
    dlq = client.create_queue("dlq", retention_seconds=120)
    client.create_queue(
        "orders", visibility_timeout=5, dead_letter_queue="dlq", max_receive_count=1
    )
    [dead] = _dead_letter(client, clock, "orders", [{"order": 1}])
    [peeked] = dlq.peek().messages
    assert (peeked.message_id, peeked.dead_letter_source_queue) == (dead, "orders")
    assert peeked.system_attributes["DeadLetterQueueSourceArn"].endswith(":orders")
    assert peeked.receive_count == 1
    clock.advance(120)  # a standard message keeps its retention clock in the DLQ
    assert dlq.peek().messages == []


def test_peek_a_fifo_queue(client: Client) -> None:
    queue = client.create_queue("jobs.fifo")
    queue.send("a", group_id="g1", deduplication_id="1")
    queue.send("b", group_id="g1", deduplication_id="2")
    queue.receive(1)
    a, b = queue.peek().messages
    assert (a.group_id, a.state, b.state) == ("g1", "in_flight", "visible")
    assert a.system_attributes["MessageGroupId"] == "g1"
    assert a.system_attributes["SequenceNumber"] < b.system_attributes["SequenceNumber"]


# -- delete by id ----------------------------------------------------------------------


def test_delete_message_ids_in_any_state(client: Client, clock: FakeClock) -> None:
    queue = client.create_queue("q")
    visible = queue.send("visible")
    in_flight = queue.send("in flight")
    delayed = queue.send("delayed", delay_seconds=60)
    kept = queue.send("kept")
    queue.receive(1)  # "visible" is the first one: now in flight
    [received] = [m for m in queue.peek().messages if m.state == "in_flight"]
    assert received.message_id == visible
    result = queue.delete_message_ids([visible, in_flight, delayed, "no-such-id"])
    assert [r.message_id for r in result] == [visible, in_flight, delayed, "no-such-id"]
    assert [r.ok for r in result] == [True, True, True, False]
    assert isinstance(result.failed[0].error, eventyard.MessageNotFound)
    assert "'q'" in str(result.failed[0].error)
    assert [m.message_id for m in queue.peek().messages] == [kept]
    assert queue.counters().deleted == 3
    # deleting again: not found any more; messages or peeked messages work as ids too
    again = queue.delete_message_ids([*queue.peek().messages, visible])
    assert [r.ok for r in again] == [True, False]
    assert queue.stats().total == 0


def test_delete_message_ids_input_errors(client: Client) -> None:
    queue = client.create_queue("q")
    other = client.create_queue("other")
    theirs = other.send("x")
    with pytest.raises(eventyard.EmptyBatchRequest):
        queue.delete_message_ids([])
    with pytest.raises(eventyard.BatchEntryIdsNotDistinct, match="'a' more than once"):
        queue.delete_message_ids(["a", "a"])
    with pytest.raises(eventyard.TooManyEntriesInBatch, match="1001 message ids; the limit is"):
        queue.delete_message_ids([str(i) for i in range(1001)])
    with pytest.raises(eventyard.InvalidParameterValue, match="list of message ids"):
        queue.delete_message_ids("abc")
    with pytest.raises(eventyard.InvalidParameterValue, match="must be a non-empty string"):
        queue.delete_message_ids([3])
    # another queue's message is not this queue's to delete
    assert not queue.delete_message_ids([theirs])[0].ok
    assert other.stats().visible == 1


def test_delete_message_ids_does_not_delete_expired_or_moved_messages(
    client: Client, clock: FakeClock
) -> None:
    queue = client.create_queue("q", retention_seconds=60)
    old = queue.send("old")
    clock.advance(60)
    assert not queue.delete_message_ids([old])[0].ok


# -- redrive of chosen messages ------------------------------------------------------------


def test_redrive_messages_back_to_their_sources(client: Client, clock: FakeClock) -> None:
    dlq = client.create_queue("dlq")
    a = client.create_queue("a", visibility_timeout=5, dead_letter_queue="dlq", max_receive_count=1)
    client.create_queue("b", visibility_timeout=5, dead_letter_queue="dlq", max_receive_count=1)
    [from_a, stays] = _dead_letter(client, clock, "a", ["from-a", "stays"])
    [from_b] = _dead_letter(client, clock, "b", ["from-b"])
    client.store.record_failures(
        [eventyard.store.records.FailureRecord(from_a, "a", "fn", 1, "E", "m", "", 0)]
    )
    result = client.redrive_messages("dlq", [from_a, from_b, "missing"])
    assert [(r.message_id, r.ok) for r in result] == [
        (from_a, True),
        (from_b, True),
        ("missing", False),
    ]
    assert isinstance(result[2].error, eventyard.MessageNotFound)
    assert [m.message_id for m in dlq.peek().messages] == [stays]
    [back] = a.peek().messages
    assert (back.message_id, back.state, back.receive_count, back.dead_letter_source_queue) == (
        from_a,
        "visible",
        0,
        None,
    )
    [received] = a.receive()
    assert (received.body, received.receive_count) == ("from-a", 1)
    [kept] = client.message_failures(from_a)
    assert kept.function == "fn"
    assert client.get_queue("b").receive()[0].message_id == from_b


def test_redrive_messages_to_a_destination_and_what_stays(client: Client, clock: FakeClock) -> None:
    dlq = client.create_queue("dlq")
    other = client.create_queue("other")
    client.create_queue("fifo.fifo")
    held = dlq.send("held")
    clock.advance(1)
    orphan = dlq.send("orphan")  # sent straight to the DLQ: no source queue
    assert dlq.receive(1)[0].message_id == held  # in flight now
    [result] = client.redrive_messages("dlq", [orphan])
    assert isinstance(result.error, eventyard.InvalidParameterValue)
    assert "no dead-letter source queue" in str(result.error)
    assert "give a destination" in str(result.error)
    [in_flight] = client.redrive_messages("dlq", [held], destination="other")
    assert isinstance(in_flight.error, eventyard.ResourceInUse)
    assert "in flight" in str(in_flight.error)
    [moved] = client.redrive_messages("dlq", [orphan], destination="other")
    assert moved.ok
    assert [m.body for m in other.peek().messages] == ["orphan"]
    assert [m.message_id for m in dlq.peek().messages] == [held]
    with pytest.raises(eventyard.InvalidParameterValue, match="must be a standard queue"):
        client.redrive_messages("dlq", [held], destination="fifo.fifo")
    with pytest.raises(eventyard.QueueDoesNotExist):
        client.redrive_messages("nope", [held])
    with pytest.raises(eventyard.QueueDoesNotExist):
        client.redrive_messages("dlq", [held], destination="nope")
    with pytest.raises(eventyard.EmptyBatchRequest):
        client.redrive_messages("dlq", [])


def test_redrive_messages_whose_source_was_deleted(client: Client, clock: FakeClock) -> None:
    dlq = client.create_queue("dlq")
    client.create_queue("a", visibility_timeout=5, dead_letter_queue="dlq", max_receive_count=1)
    [dead] = _dead_letter(client, clock, "a", ["x"])
    client.get_queue("a").set_attributes(dead_letter_queue=None, max_receive_count=None)
    client.delete_queue("a")
    [result] = client.redrive_messages("dlq", [dead])
    assert isinstance(result.error, eventyard.QueueDoesNotExist)
    assert dlq.stats().visible == 1


# -- counters ------------------------------------------------------------------------------


def test_counters_count_every_operation(client: Client, clock: FakeClock) -> None:
    client.create_queue("dlq")
    queue = client.create_queue(
        "q", visibility_timeout=5, dead_letter_queue="dlq", max_receive_count=1
    )
    assert queue.counters() == eventyard.QueueCounters(0, 0, 0, 0, 0)
    queue.send_batch([str(i) for i in range(10)])
    queue.send("one more")
    received = queue.receive(4)
    queue.delete_batch(received[:3])
    queue.delete(received[0])  # already deleted: not counted twice
    clock.advance(5)
    # the one left in flight comes back over its max receive count: dead-lettered
    rest = queue.receive(10)
    assert len(rest) == 7
    assert queue.counters() == eventyard.QueueCounters(
        sent=11, received=11, deleted=3, dead_lettered=1, purged=0
    )
    assert queue.purge() == 7
    assert queue.counters().purged == 7
    dlq = client.get_queue("dlq")
    # a dead-letter move is no send to the DLQ (as SQS's NumberOfMessagesSent)
    assert dlq.counters().sent == 0
    assert dlq.stats().visible == 1


def test_counters_of_fifo_sends_skip_duplicates_and_topic_fan_out_counts(
    client: Client,
) -> None:
    jobs = client.create_queue("jobs.fifo")
    jobs.send("a", group_id="g", deduplication_id="1")
    jobs.send("a", group_id="g", deduplication_id="1")
    assert jobs.counters().sent == 1
    topic = client.create_topic("news")
    one = client.create_queue("one")
    two = client.create_queue("two")
    topic.subscribe(one)
    topic.subscribe(two)
    topic.publish_batch(["x", "y", "z"])
    assert (one.counters().sent, two.counters().sent) == (3, 3)


def test_counters_roll_back_with_the_transaction_and_go_with_the_queue(
    client: Client, clock: FakeClock
) -> None:
    queue = client.create_queue("q")

    def send_then_fail() -> None:
        with client.transaction() as tx:
            tx.send("q", "lost")
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        send_then_fail()
    assert queue.counters().sent == 0
    with client.transaction() as tx:
        tx.send("q", "kept")
    assert queue.counters().sent == 1
    client.delete_queue("q")
    with pytest.raises(eventyard.QueueDoesNotExist):
        queue.counters()
    clock.advance(61)
    assert client.create_queue("q").counters() == eventyard.QueueCounters()


def test_counters_are_shared_by_clients_of_the_same_database(
    client: Client, database_url: str, clock: FakeClock
) -> None:
    client.create_queue("q").send_batch(["a", "b"])
    with eventyard.connect(database_url, durability="process", clock=clock) as other:
        other.get_queue("q").receive(2)
    assert client.get_queue("q").counters() == eventyard.QueueCounters(sent=2, received=2)


# -- function statistics ------------------------------------------------------------------


def test_function_stats_window_percentiles_and_totals(client: Client, clock: FakeClock) -> None:
    store = client.store
    now = client.now_ms()
    assert client.function_stats() == {}
    # ten minutes ago: outside a 5-minute window, inside the totals
    store.record_invocations("resize", now - 600_000, 1, 1, 10, [70_000.0])
    for duration in (3.0, 7.0, 7.0, 40.0):
        store.record_invocations("resize", now, 1, 0, 10, [duration])
    store.record_invocations("resize", now, 1, 1, 10, [4_000.0])
    store.record_invocations("mail", now - 120_000, 1, 0, 1, [12.0])
    stats = client.function_stats(window_seconds=300)
    assert sorted(stats) == ["mail", "resize"]
    resize = stats["resize"]
    assert (resize.invocations, resize.errors, resize.messages) == (5, 1, 50)
    assert (resize.total_invocations, resize.total_errors, resize.total_messages) == (6, 2, 60)
    assert resize.total_duration_ms == pytest.approx(74_057.0)
    assert len(resize.total_buckets) == DURATION_BUCKETS
    assert (resize.total_buckets[0], resize.total_buckets[-1]) == (1, 1)
    assert resize.p50_ms is not None
    assert 5.0 <= resize.p50_ms <= 10.0
    assert resize.p99_ms is not None
    assert 2_500.0 <= resize.p99_ms <= 5_000.0
    assert resize.cumulative_buckets()[-1] == (float("inf"), 6)
    assert [b for b, _ in resize.cumulative_buckets()[:-1]] == list(DURATION_BUCKET_BOUNDS_MS)
    assert stats["mail"].invocations == 1
    narrow = client.function_stats(window_seconds=60)
    assert narrow["mail"].invocations == 0  # two minutes ago
    assert narrow["mail"].p50_ms is None
    assert narrow["mail"].total_invocations == 1


def test_function_stats_totals_never_decrease(client: Client, clock: FakeClock) -> None:
    store = client.store
    store.record_invocations("fn", client.now_ms(), 1, 0, 1, [1.0])
    clock.advance(2 * 3600)  # the minute rows are pruned; the totals stay
    store.record_invocations("fn", client.now_ms(), 1, 0, 1, [1.0])
    clock.advance(600)
    fn = client.function_stats()["fn"]
    assert (fn.invocations, fn.total_invocations) == (0, 2)


def test_function_stats_window_is_checked(client: Client) -> None:
    for bad in (59, 3601, "300", 1.5):
        with pytest.raises(eventyard.InvalidParameterValue, match="window_seconds must be"):
            client.function_stats(window_seconds=bad)  # type: ignore[arg-type]


def test_peek_pages_skip_expired_messages(client: Client, clock: FakeClock) -> None:
    queue = client.create_queue("q", retention_seconds=60)
    queue.send_batch(["old-1", "old-2", "old-3"])
    clock.advance(30)
    queue.send_batch(["new-1", "new-2", "new-3"])
    clock.advance(30)  # the first three have expired
    page = queue.peek(limit=2)
    assert [m.body for m in page.messages] == ["new-1", "new-2"]
    assert page.next_page_token is not None
    assert [m.body for m in queue.peek(limit=2, page_token=page.next_page_token).messages] == [
        "new-3"
    ]
