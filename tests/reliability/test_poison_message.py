"""A message its consumer always fails ends in the dead-letter queue, and redrive brings it back.

The consumer is a child process that deletes every message but the poison
one. After ``max_receive_count`` receives, the next receive moves it to the
dead-letter queue instead of delivering it; it keeps its body, attributes
and the name of the queue it came from, and the source never hands it out
again. A redrive then returns it to the source as a fresh message.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from children import spawn, wait_until

import eventyard

pytestmark = pytest.mark.slow

MAX_RECEIVE_COUNT = 3
VISIBILITY_TIMEOUT = 1  # seconds: the poison message comes back quickly
POISON = "order-13"
POISON_ATTRIBUTES = {"customer": "c-42", "attempt": 7, "raw": b"\x00\x01"}


def test_message_moves_to_dlq_after_max_receive_count_and_redrive_restarts_its_count(
    tmp_path: Path,
) -> None:
    db = tmp_path / "poison.db"
    with eventyard.connect(f"sqlite:///{db}") as client:
        dlq = client.create_queue("orders-dlq")
        source = client.create_queue(
            "orders",
            visibility_timeout=VISIBILITY_TIMEOUT,
            dead_letter_queue="orders-dlq",
            max_receive_count=MAX_RECEIVE_COUNT,
        )
        good = [f"order-{n}" for n in range(20) if f"order-{n}" != POISON]
        source.send_batch([{"body": {"id": g}} for g in good[:10]])
        poison_id = source.send({"id": POISON, "items": [1, 2]}, attributes=POISON_ATTRIBUTES)
        source.send_batch([{"body": {"id": g}} for g in good[10:]])

        stop = tmp_path / "stop"
        consumer = spawn(
            "fail_poison",
            tmp_path,
            db=str(db),
            durability="full",
            queue="orders",
            poison=POISON,
            stop=str(stop),
        )
        try:
            wait_until(
                lambda: dlq.stats().visible == 1, 60, "the DLQ to hold the poison", [consumer]
            )
            # The consumer keeps polling the source for several more visibility timeouts:
            # the poison message must not be delivered a (max + 1)-th time.
            time.sleep(3 * VISIBILITY_TIMEOUT)
            stop.touch()
            report = consumer.finish(timeout=30)
        finally:
            consumer.kill()

        assert report["poison_receives"] == list(range(1, MAX_RECEIVE_COUNT + 1))
        assert report["delete_failures"] == []
        assert sorted(report["deleted"]) == sorted(good), "each good message deleted once"

        stats = source.stats()
        assert (stats.visible, stats.in_flight, stats.delayed) == (0, 0, 0)
        stats = dlq.stats()
        assert (stats.visible, stats.in_flight, stats.delayed) == (1, 0, 0)

        [dead] = dlq.receive(max_messages=10, wait_seconds=0)
        assert dead.message_id == poison_id
        assert dead.body == {"id": POISON, "items": [1, 2]}
        assert dead.attributes == POISON_ATTRIBUTES
        assert dead.dead_letter_source_queue == "orders"
        assert dead.receive_count == MAX_RECEIVE_COUNT + 1  # the count is kept in the DLQ
        assert dead.system_attributes["DeadLetterQueueSourceArn"] == source.arn
        dlq.change_visibility(dead, 0)  # give it back: a redrive skips in-flight messages

        task = client.start_redrive("orders-dlq")
        progress = task.wait(timeout=30)
        assert not task.running, "the redrive did not finish in 30 s"
        assert (progress.status, progress.moved, progress.skipped) == ("COMPLETED", 1, 0)

        stats = dlq.stats()
        assert (stats.visible, stats.in_flight, stats.delayed) == (0, 0, 0)
        [back] = source.receive(max_messages=10, wait_seconds=5)
        assert back.message_id == poison_id
        assert back.receive_count == 1
        assert back.body == {"id": POISON, "items": [1, 2]}
        assert back.attributes == POISON_ATTRIBUTES
        assert back.dead_letter_source_queue is None
        source.delete(back)
        stats = source.stats()
        assert (stats.visible, stats.in_flight, stats.delayed) == (0, 0, 0)
