"""Dead-letter queues and redrive: the redrive-policy and DLQ-redrive rows."""

from __future__ import annotations

import time

import pytest
from tests_support import FakeClock

import eventyard
from eventyard import Client


def _fail_until_dead_lettered(queue: eventyard.Queue, clock: FakeClock, times: int) -> None:
    for expected in range(1, times + 1):
        [message] = queue.receive()
        assert message.receive_count == expected
        clock.advance(queue.attributes.visibility_timeout)


def test_message_moves_to_dlq_after_max_receive_count(client: Client, clock: FakeClock) -> None:
    dlq = client.create_queue("dlq")
    queue = client.create_queue(
        "orders", visibility_timeout=5, dead_letter_queue="dlq", max_receive_count=3
    )
    message_id = queue.send({"order": 1}, attributes={"kind": "book"})
    _fail_until_dead_lettered(queue, clock, 3)
    assert queue.receive() == []  # never delivered a 4th time
    assert queue.stats().total == 0
    assert dlq.stats().visible == 1
    [dead] = dlq.receive()
    assert dead.message_id == message_id
    assert dead.body == {"order": 1}
    assert dead.attributes == {"kind": "book"}
    assert dead.dead_letter_source_queue == "orders"
    assert dead.system_attributes["DeadLetterQueueSourceArn"].endswith(":orders")
    assert dead.receive_count == 4  # SQS keeps counting in the DLQ: 3 failures + this look


def test_dead_lettering_does_not_shorten_a_receive(client: Client, clock: FakeClock) -> None:
    client.create_queue("dlq")
    queue = client.create_queue(
        "orders", visibility_timeout=5, dead_letter_queue="dlq", max_receive_count=1
    )
    queue.send("poison")
    queue.receive()
    clock.advance(5)
    queue.send_batch(["a", "b"])
    # the poison message is parked, and the receive still returns the others
    assert sorted(m.body for m in queue.receive(10)) == ["a", "b"]


def test_dead_letter_age_restarts_but_standard_retention_does_not(
    client: Client, clock: FakeClock
) -> None:
    dlq = client.create_queue("dlq", retention_seconds=120)
    queue = client.create_queue(
        "orders", visibility_timeout=60, dead_letter_queue="dlq", max_receive_count=1
    )
    queue.send("x")
    queue.receive()
    clock.advance(60)
    queue.receive()  # moves it
    assert dlq.stats().oldest_age_seconds == 0
    clock.advance(59)
    assert dlq.stats().visible == 1
    clock.advance(1)  # 120 s after it was first sent: gone, as in SQS
    assert dlq.stats().visible == 0


def test_redrive_returns_messages_to_their_source(live_client: Client) -> None:
    client = live_client
    dlq = client.create_queue("dlq")
    a = client.create_queue("a", visibility_timeout=0, dead_letter_queue="dlq", max_receive_count=1)
    b = client.create_queue("b", visibility_timeout=0, dead_letter_queue="dlq", max_receive_count=1)
    a.send("from-a")
    b.send("from-b")
    for queue in (a, b):
        queue.receive()
        assert queue.receive() == []
    assert dlq.stats().visible == 2
    task = client.start_redrive("dlq")
    progress = task.wait(timeout=30)
    assert (progress.status, progress.to_move, progress.moved, progress.skipped) == (
        "COMPLETED",
        2,
        2,
        0,
    )
    [back_a] = a.receive()
    [back_b] = b.receive()
    assert (back_a.body, back_a.receive_count) == ("from-a", 1)
    assert (back_b.body, back_b.receive_count) == ("from-b", 1)
    assert back_a.dead_letter_source_queue is None
    assert dlq.stats().total == 0
    assert client.redrive_tasks("dlq")[0].task_id == task.task_id


def test_redrive_to_a_chosen_destination(live_client: Client) -> None:
    client = live_client
    dlq = client.create_queue("dlq")
    other = client.create_queue("other")
    dlq.send_batch(["x", "y"])  # sent straight to the DLQ: no source queue
    progress = client.start_redrive("dlq", destination="other").wait(timeout=30)
    assert progress.moved == 2
    assert sorted(m.body for m in other.receive(10)) == ["x", "y"]


def test_redrive_skips_messages_without_a_source_and_in_flight_ones(live_client: Client) -> None:
    client = live_client
    dlq = client.create_queue("dlq")
    dlq.send_batch(["orphan", "held"])
    [held] = dlq.receive(1)
    progress = client.start_redrive("dlq").wait(timeout=30)
    assert (progress.moved, progress.skipped) == (0, 2)
    assert dlq.stats().total == 2
    assert held.receipt_handle


def test_redrive_destination_type_must_match(live_client: Client) -> None:
    live_client.create_queue("dlq")
    live_client.create_queue("jobs.fifo")
    with pytest.raises(eventyard.InvalidParameterValue, match=r"must be a (FIFO|standard) queue"):
        live_client.start_redrive("dlq", destination="jobs.fifo")
    with pytest.raises(eventyard.QueueDoesNotExist):
        live_client.start_redrive("missing")
    with pytest.raises(eventyard.InvalidParameterValue, match="1 to 500"):
        live_client.start_redrive("dlq", max_messages_per_second=501)


def test_redrive_is_rate_limited_and_cancellable(live_client: Client) -> None:
    client = live_client
    dlq = client.create_queue("dlq")
    target = client.create_queue("target")
    for start in range(0, 100, 10):
        dlq.send_batch([str(i) for i in range(start, start + 10)])
    task = client.start_redrive("dlq", destination="target", max_messages_per_second=20)
    with pytest.raises(eventyard.MoveTaskAlreadyRunning, match="already running"):
        client.start_redrive("dlq", destination="target")
    time.sleep(1.2)
    progress = task.cancel()
    assert progress.status == "CANCELLED"
    assert 10 <= progress.moved <= 60  # about 20/s: far from all 100
    assert target.stats().visible == progress.moved
    assert dlq.stats().visible == 100 - progress.moved
    # a new task may start once the first is over, and finishes the job
    assert client.start_redrive("dlq", destination="target").wait(timeout=30).moved == (
        100 - progress.moved
    )


def test_redrive_of_an_empty_queue_completes(live_client: Client) -> None:
    live_client.create_queue("dlq")
    progress = live_client.start_redrive("dlq").wait(timeout=10)
    assert (progress.status, progress.to_move, progress.moved) == ("COMPLETED", 0, 0)


def test_progress_is_visible_from_another_client(live_client: Client, database_url: str) -> None:
    dlq = live_client.create_queue("dlq")
    live_client.create_queue("t")
    dlq.send("x")
    task = live_client.start_redrive("dlq", destination="t")
    task.wait(timeout=10)
    with eventyard.connect(database_url) as other:
        [record] = other.redrive_tasks("dlq")
        assert (record.task_id, record.status, record.moved) == (task.task_id, "COMPLETED", 1)
    with pytest.raises(eventyard.MoveTaskNotFound):
        live_client.store.get_move_task("nope")


def test_a_task_whose_process_died_is_taken_over(live_client: Client) -> None:
    client = live_client
    dlq = client.create_queue("dlq")
    source = client.store.get_queue("dlq")
    client.store.start_move_task("ghost", source, None, None, "gone:1", 0, 30_000)
    dlq.send("x")
    # the ghost task's heartbeat is decades old: a new task marks it failed and runs
    task = client.start_redrive("dlq")
    task.wait(timeout=10)
    ghost = client.store.get_move_task("ghost")
    assert ghost.status == "FAILED"
    assert "gone:1" in (ghost.failure_reason or "")


def test_a_dispatcher_finishes_a_redrive_whose_process_died(
    client: Client, clock: FakeClock
) -> None:
    dlq = client.create_queue("dlq")
    target = client.create_queue("target")
    for start in range(0, 150, 10):
        dlq.send_batch([str(i) for i in range(start, start + 10)])
    source = client.store.get_queue("dlq")
    destination = client.store.get_queue("target")
    # A task started by a process that died before moving anything:
    client.store.start_move_task(
        "orphan", source, destination, None, "dead:1", client.now_ms(), 30_000
    )
    dispatcher = client.dispatcher()
    dispatcher.run_once()
    assert target.stats().visible == 0  # still fresh: its owner may be alive
    clock.advance(31)
    while client.store.get_move_task("orphan").status == "RUNNING":
        dispatcher.run_once()
    task = client.store.get_move_task("orphan")
    assert (task.status, task.moved) == ("COMPLETED", 150)
    assert target.stats().visible == 150
    dispatcher.stop()
