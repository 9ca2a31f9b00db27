"""The transactional outbox: application rows and messages commit together or not at all."""

from __future__ import annotations

import threading

import pytest

import eventyard
from eventyard import Client


@pytest.fixture
def shop(live_client: Client) -> Client:
    with live_client.transaction() as tx:
        tx.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL NOT NULL)")
    topic = live_client.create_topic("NewOrderEvent")
    topic.subscribe(live_client.create_queue("InventoryQueue"), raw=True)
    topic.subscribe(live_client.create_queue("ShippingQueue"), raw=True)
    live_client.create_queue("audit")
    return live_client


def _orders(client: Client) -> int:
    with client.transaction() as tx:
        return int(tx.execute("SELECT count(*) FROM orders").fetchone()[0])


def test_rows_and_messages_commit_together(shop: Client) -> None:
    with shop.transaction() as tx:
        tx.execute("INSERT INTO orders (id, total) VALUES (?, ?)", (1, 99.5))
        tx.publish("NewOrderEvent", {"order_id": 1})
        tx.send("audit", "order 1 saved")
    assert _orders(shop) == 1
    for name in ("InventoryQueue", "ShippingQueue", "audit"):
        assert shop.get_queue(name).stats().visible == 1


def test_a_failure_rolls_back_rows_and_messages(shop: Client) -> None:
    def checkout() -> None:
        with shop.transaction() as tx:
            tx.execute("INSERT INTO orders (id, total) VALUES (?, ?)", (1, 99.5))
            tx.publish("NewOrderEvent", {"order_id": 1})
            raise RuntimeError("payment declined")

    with pytest.raises(RuntimeError):
        checkout()
    assert _orders(shop) == 0
    for name in ("InventoryQueue", "ShippingQueue", "audit"):
        assert shop.get_queue(name).stats().total == 0


def test_a_failed_save_publishes_nothing(shop: Client) -> None:
    with shop.transaction() as tx:
        tx.execute("INSERT INTO orders (id, total) VALUES (1, 10)")

    def checkout_again() -> None:
        with shop.transaction() as tx:
            tx.publish("NewOrderEvent", {"order_id": 1})
            tx.execute("INSERT INTO orders (id, total) VALUES (1, 10)")  # duplicate key

    with pytest.raises(eventyard.StoreError):
        checkout_again()
    assert shop.get_queue("InventoryQueue").stats().total == 0


def test_nothing_is_visible_before_commit(shop: Client) -> None:
    inside = threading.Event()
    release = threading.Event()
    seen: list[list[eventyard.Message]] = []

    def publisher() -> None:
        with shop.transaction() as tx:
            tx.execute("INSERT INTO orders (id, total) VALUES (1, 10)")
            tx.publish("NewOrderEvent", {"order_id": 1})
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=publisher)
    thread.start()
    assert inside.wait(10)
    seen.append(shop.get_queue("InventoryQueue").receive(wait_seconds=0))
    release.set()
    seen.append(shop.get_queue("InventoryQueue").receive(wait_seconds=10))
    thread.join(10)
    assert seen[0] == []
    assert [m.body for m in seen[1]] == [{"order_id": 1}]


def test_batches_inside_a_transaction(shop: Client) -> None:
    with shop.transaction() as tx:
        tx.send_batch("audit", ["a", "b"])
        results = tx.publish_batch("NewOrderEvent", [{"message": "x"}, {"message": "y"}])
        assert all(r.ok for r in results)
        assert tx.connection.in_transaction
    assert shop.get_queue("audit").stats().visible == 2
    assert shop.get_queue("ShippingQueue").stats().visible == 2


def test_put_events_inside_a_transaction(shop: Client) -> None:
    review = shop.create_queue("review")
    shop.bus().put_rule(
        "big", pattern={"detail": {"total": [{"numeric": [">", 1000]}]}}
    ).add_target(review)

    def checkout(fail: bool) -> None:
        with shop.transaction() as tx:
            tx.execute("INSERT INTO orders (id, total) VALUES (?, ?)", (7, 5000))
            [result] = tx.put_events(
                [{"source": "shop", "detail_type": "OrderPlaced", "detail": {"total": 5000}}]
            )
            assert result.ok
            if fail:
                raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        checkout(fail=True)
    assert review.stats().total == 0
    checkout(fail=False)
    assert review.stats().visible == 1
    assert _orders(shop) == 1


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (
            lambda tx: tx.send_batch("audit", ["ok", {"body": "x", "delay_seconds": 901}]),
            eventyard.InvalidParameterValue,
        ),
        (
            lambda tx: tx.publish_batch("NewOrderEvent", [{"message": "ok"}, {"message": ""}]),
            eventyard.EventyardError,
        ),
        (
            lambda tx: tx.put_events(
                [
                    {"source": "shop", "detail_type": "OrderPlaced", "detail": {}},
                    {"source": "shop", "detail_type": "OrderPlaced", "detail": "not an object"},
                ]
            ),
            eventyard.EventyardError,
        ),
    ],
    ids=["send_batch", "publish_batch", "put_events"],
)
def test_a_failed_batch_entry_in_a_transaction_raises_and_rolls_everything_back(
    shop: Client, call: object, error: type[Exception]
) -> None:
    assert callable(call)

    def checkout() -> None:
        with shop.transaction() as tx:
            tx.execute("INSERT INTO orders (id, total) VALUES (?, ?)", (8, 10))
            call(tx)

    with pytest.raises(error):
        checkout()
    assert _orders(shop) == 0
    assert all(shop.get_queue(q).stats().total == 0 for q in shop.list_queues())
