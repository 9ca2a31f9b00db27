"""A long poll in one process is woken by a send from another process.

The consumer child long-polls with ``wait_seconds=10``; the parent (another
process, its own client) sends once the poll is under way. Without a wake-up
that crosses processes the poll would only look again at the end of its 10 s;
with it, the message arrives in well under that. The bound asserted is loose
on purpose (half the wait): it tells "woken" from "timed out", not speed.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from children import spawn, wait_for_json

import eventyard

pytestmark = pytest.mark.slow

WAIT_SECONDS = 10
ROUNDS = 3  # the watch is set up and torn down with each poll: it must work every time
SETTLE_SECONDS = 1.0  # let the child get from "about to poll" into the wait itself


def test_long_poll_is_woken_by_a_send_from_another_process(tmp_path: Path) -> None:
    db = tmp_path / "wakeup.db"
    polling = tmp_path / "polling"
    with eventyard.connect(f"sqlite:///{db}") as client:
        queue = client.create_queue("wakeup")
        consumer = spawn(
            "long_poll",
            tmp_path,
            db=str(db),
            durability="full",
            queue="wakeup",
            polling=str(polling),
            rounds=ROUNDS,
            wait_seconds=WAIT_SECONDS,
        )
        sent_at: list[float] = []
        try:
            for number in range(ROUNDS):
                started = wait_for_json(Path(f"{polling}.{number}"), 30, [consumer])["started"]
                time.sleep(max(0.0, started + SETTLE_SECONDS - time.time()))
                sent_at.append(time.time())
                queue.send({"round": number})
            report = consumer.finish(timeout=ROUNDS * WAIT_SECONDS + 30)
        finally:
            consumer.kill()

    polls = report["polls"]
    assert [poll["bodies"] for poll in polls] == [[{"round": n}] for n in range(ROUNDS)]
    for sent, poll in zip(sent_at, polls, strict=True):
        assert poll["returned"] - sent < WAIT_SECONDS / 2, f"not woken by the send: {poll}"
        assert poll["returned"] - poll["started"] < WAIT_SECONDS * 0.8, poll
