"""Four consumer processes and two producer processes share one SQLite file.

Each message must reach exactly one consumer (the visibility timeout is far
longer than the test, so nothing is ever redelivered), every payload must be
deleted exactly once, and no process may see an error: a busy database waits
for its turn, it never surfaces as "database is locked".
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from children import spawn, start_together, stop_all

import eventyard

pytestmark = pytest.mark.slow

PRODUCERS = 2
CONSUMERS = 4
MESSAGES = 20_000
NO_REDELIVERY_TIMEOUT = 120  # seconds: longer than the whole test


@pytest.mark.parametrize("durability", ["full", "process"])
def test_each_message_is_delivered_to_exactly_one_of_four_consumer_processes(
    tmp_path: Path, durability: str
) -> None:
    db = tmp_path / "shared.db"
    with eventyard.connect(f"sqlite:///{db}", durability=durability) as client:
        client.create_queue("orders", visibility_timeout=NO_REDELIVERY_TIMEOUT)
    go = tmp_path / "go"
    done = [tmp_path / f"producer-{p}.done" for p in range(PRODUCERS)]
    common = {"db": str(db), "durability": durability, "queue": "orders", "go": str(go)}
    children = [
        spawn(
            "consume",
            tmp_path,
            name=f"consumer-{c}",
            producers_done=[str(path) for path in done],
            wait_seconds=1,
            visibility_timeout=NO_REDELIVERY_TIMEOUT,
            **common,
        )
        for c in range(CONSUMERS)
    ]
    children += [
        spawn(
            "produce",
            tmp_path,
            name=f"producer-{p}",
            producer=p,
            count=MESSAGES // PRODUCERS,
            done=str(done[p]),
            **common,
        )
        for p in range(PRODUCERS)
    ]
    try:
        start_together(children, go)
        results = [child.finish(timeout=150) for child in children]
    finally:
        stop_all(children)

    consumed, produced = results[:CONSUMERS], results[CONSUMERS:]
    sent = {payload: message_id for result in produced for payload, message_id in result["sent"]}
    assert len(sent) == MESSAGES
    assert len(set(sent.values())) == MESSAGES, "a message id was given to two sends"

    received = [record for result in consumed for record in result["received"]]
    ids_seen = Counter(message_id for message_id, _, _, _ in received)
    assert [m for m, n in ids_seen.items() if n > 1] == [], "delivered to two consumers"
    assert sorted(payload for _, payload, _, _ in received) == sorted(sent)
    assert all(sent[payload] == message_id for message_id, payload, _, _ in received)
    assert {count for _, _, count, _ in received} == {1}, "a message was received again"
    assert len({receipt for _, _, _, receipt in received}) == MESSAGES
    assert [f for result in consumed for f in result["delete_failures"]] == []

    with eventyard.connect(f"sqlite:///{db}", durability=durability) as client:
        stats = client.get_queue("orders").stats()
        assert (stats.visible, stats.in_flight, stats.delayed) == (0, 0, 0)
