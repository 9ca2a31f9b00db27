"""SIGKILL a process in the middle of its outbox transactions: an order and its event, or neither.

A child saves an order (an application row) and publishes its event to a
topic with two subscribed queues, in one ``client.transaction()``. Killed
while the transaction is open, it leaves nothing: no row, no message in
either queue, and the database is writable again at once. Killed right after
the commit, the row and a copy in every queue are there. Killed at random
moments in a loop of such transactions, every order either has its row and
exactly one message in each queue, or none of them.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections import Counter
from contextlib import closing
from pathlib import Path

import pytest
from children import wait_until
from children_bus import ORDERS_TABLE, log_lines, spawn_bus
from tests_support import count_rows

import eventyard

pytestmark = pytest.mark.slow

TOPIC = "NewOrderEvent"
QUEUES = ("InventoryQueue", "ShippingQueue")
DURABILITY = "full"
ROUNDS = 10
IDS_PER_ROUND = 1_000_000  # order ids of round k start at k * this


def make_shop(db: Path) -> None:
    with eventyard.connect(f"sqlite:///{db}", durability=DURABILITY) as client:
        with client.transaction() as tx:
            tx.execute(ORDERS_TABLE)
        topic = client.create_topic(TOPIC)
        for name in QUEUES:
            topic.subscribe(client.create_queue(name), raw=True)


def order_rows(db: Path) -> list[int]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return [int(row[0]) for row in conn.execute("SELECT id FROM orders ORDER BY id")]


def integrity(db: Path) -> list[tuple[str]]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return conn.execute("PRAGMA integrity_check").fetchall()


def drain(client: eventyard.Client, name: str) -> Counter[int]:
    """Every message of the queue (deleted), counted by order id."""
    queue = client.get_queue(name)
    found: Counter[int] = Counter()
    deadline = time.monotonic() + 60
    while messages := queue.receive(max_messages=10, wait_seconds=0):
        assert time.monotonic() < deadline, f"reading {name} back took over 60 s"
        for message in messages:
            order_id = message.body["order_id"]
            assert message.attributes in ({}, {"order": order_id})
            found[order_id] += 1
        assert all(result.ok for result in queue.delete_batch(messages))
    return found


def run_and_kill(tmp_path: Path, db: Path, *, commit: bool) -> None:
    ready = tmp_path / "ready"
    child = spawn_bus(
        "outbox_hold",
        tmp_path,
        db=str(db),
        durability=DURABILITY,
        topic=TOPIC,
        order_id=1,
        commit=commit,
        ready=str(ready),
    )
    try:
        wait_until(ready.exists, 30, "the child to save its order", [child])
        time.sleep(0.05)
        assert child.process.poll() is None, f"the child died on its own:\n{child.output()}"
    finally:
        child.kill()
    assert "Traceback" not in child.output(), child.output()


def test_killed_inside_the_transaction_leaves_neither_row_nor_message(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    make_shop(db)
    run_and_kill(tmp_path, db, commit=False)

    assert order_rows(db) == []
    assert count_rows(f"sqlite:///{db}", "eventyard_messages") == 0
    with eventyard.connect(f"sqlite:///{db}", busy_timeout_seconds=5) as client:
        for name in QUEUES:
            assert client.get_queue(name).stats().total == 0
        # The killed writer's lock is gone: the next order goes through at once.
        started = time.monotonic()
        with client.transaction() as tx:
            tx.execute("INSERT INTO orders (id, total) VALUES (2, 10)")
            tx.publish(TOPIC, {"order_id": 2})
        assert time.monotonic() - started < 5
        assert order_rows(db) == [2]
        assert [drain(client, name) for name in QUEUES] == [Counter({2: 1})] * 2
    assert integrity(db) == [("ok",)]


def test_killed_right_after_the_commit_keeps_the_row_and_every_copy(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    make_shop(db)
    run_and_kill(tmp_path, db, commit=True)

    assert order_rows(db) == [1]
    with eventyard.connect(f"sqlite:///{db}") as client:
        assert [drain(client, name) for name in QUEUES] == [Counter({1: 1})] * 2
    assert integrity(db) == [("ok",)]


def test_kills_at_random_points_never_split_an_order_from_its_messages(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    acks = tmp_path / "acks.log"
    make_shop(db)
    rng = random.Random()
    delays = [rng.uniform(0.02, 0.25) for _ in range(ROUNDS)]
    for round_number, delay in enumerate(delays):
        ready = tmp_path / f"ready-{round_number}"
        writer = spawn_bus(
            "outbox_loop",
            tmp_path,
            name=f"writer-{round_number}",
            db=str(db),
            durability=DURABILITY,
            topic=TOPIC,
            acks=str(acks),
            ready=str(ready),
            first_id=round_number * IDS_PER_ROUND,
        )
        try:
            wait_until(ready.exists, 30, f"writer {round_number} to start", [writer])
            time.sleep(delay)
            assert writer.process.poll() is None, f"writer died on its own:\n{writer.output()}"
        finally:
            writer.kill()
        assert "Traceback" not in writer.output(), writer.output()

    acknowledged = {int(line) for line in log_lines(acks)}
    assert acknowledged, f"no order was committed before the kills (delays {delays})"
    rows = order_rows(db)
    assert len(rows) == len(set(rows))
    with eventyard.connect(f"sqlite:///{db}") as client:
        copies = {name: drain(client, name) for name in QUEUES}
    for name, found in copies.items():
        duplicated = {order: n for order, n in found.items() if n != 1}
        assert duplicated == {}, f"{name}: orders with more than one message"
        assert set(found) - set(rows) == set(), f"{name}: messages without their row"
        assert set(rows) - set(found) == set(), f"{name}: rows without their message"
    assert acknowledged <= set(rows), f"committed orders lost: {acknowledged - set(rows)}"
    # At most the transaction in flight at each kill committed without being acknowledged.
    assert len(set(rows) - acknowledged) <= ROUNDS
    assert integrity(db) == [("ok",)]
