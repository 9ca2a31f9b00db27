"""A consumer process is SIGKILLed while it holds a batch it has not deleted.

Nothing is lost and nothing comes back early: the held messages stay in
flight until their visibility timeout is over (counted from the receive,
whatever happened to the receiver), then each is delivered once more, with
receive_count 2, and can be deleted.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from children import spawn, wait_for_json

import eventyard

pytestmark = pytest.mark.slow

VISIBILITY_TIMEOUT = 3  # seconds
HELD = 10
SENT = 25


@pytest.mark.parametrize("durability", ["full", "process"])
def test_batch_of_killed_consumer_reappears_only_after_its_visibility_timeout(
    tmp_path: Path, durability: str
) -> None:
    db = tmp_path / "killed.db"
    with eventyard.connect(f"sqlite:///{db}", durability=durability) as client:
        queue = client.create_queue("orders", visibility_timeout=60)
        sent = {queue.send({"n": n}, attributes={"n": str(n)}): {"n": n} for n in range(SENT)}

        consumer = spawn(
            "hold_batch",
            tmp_path,
            db=str(db),
            durability=durability,
            queue="orders",
            max_messages=HELD,
            visibility_timeout=VISIBILITY_TIMEOUT,
        )
        try:
            report = wait_for_json(consumer.out, timeout=30, children=[consumer])
        finally:
            consumer.kill()  # SIGKILL: the batch is never deleted
        held = {m["message_id"]: m for m in report["messages"]}
        visible_again_at = report["received_after"] + VISIBILITY_TIMEOUT
        assert len(held) == HELD
        assert all(m["receive_count"] == 1 and m["body"] == sent[i] for i, m in held.items())

        # Right after the kill: the others are there, the held ones still in flight.
        others = queue.receive(max_messages=10, wait_seconds=0)
        others += queue.receive(max_messages=10, wait_seconds=0)
        others += queue.receive(max_messages=10, wait_seconds=0)
        stats = queue.stats()
        checked_at = time.time()
        if checked_at < visible_again_at:  # (on a badly stalled machine the timeout may be over)
            assert {m.message_id for m in others} == set(sent) - set(held)
            assert (stats.visible, stats.in_flight, stats.delayed) == (0, SENT, 0)
        rest = [m for m in others if m.message_id not in held]
        assert {m.message_id for m in rest} == set(sent) - set(held), "a message was lost"
        assert {m.receive_count for m in rest} == {1}
        assert all(r.ok for r in queue.delete_batch(rest[:10]) + queue.delete_batch(rest[10:]))

        # Then each held message comes back once, not before its timeout, as a second receive.
        back: dict[str, eventyard.Message] = {
            m.message_id: m for m in others if m.message_id in held
        }
        deadline = time.monotonic() + 30
        while len(back) < HELD and time.monotonic() < deadline:
            for message in queue.receive(max_messages=10, wait_seconds=5):
                assert time.time() >= visible_again_at - 0.001, "visible before its timeout"
                assert message.message_id not in back, "delivered twice while in flight"
                back[message.message_id] = message
        assert set(back) == set(held)
        assert {m.receive_count for m in back.values()} == {2}
        assert all(
            m.body == sent[i] and m.attributes == {"n": str(sent[i]["n"])} for i, m in back.items()
        )

        results = queue.delete_batch(list(back.values()))
        assert all(result.ok for result in results)
        assert queue.receive(max_messages=10, wait_seconds=0) == []
        stats = queue.stats()
        assert (stats.visible, stats.in_flight, stats.delayed) == (0, 0, 0)
