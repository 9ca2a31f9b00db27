"""App declarations and `apply`: the topology in code, applied idempotently, checked."""

from __future__ import annotations

import pytest

import eventyard
from eventyard import App, Client
from eventyard.runtime.apply import apply_app


def handler(batch: object) -> None:
    return None


def test_apply_creates_the_declared_topology_idempotently(client: Client) -> None:
    app = App("checkout")
    new_order = app.topic("NewOrderEvent")
    inventory = app.queue("InventoryQueue", dead_letter_queue="InventoryDLQ", max_receive_count=3)
    shipping = app.queue("ShippingQueue", dead_letter_queue="ShippingDLQ", max_receive_count=3)
    new_order.subscribe(inventory).subscribe(shipping, raw=True)
    review = app.queue("review")
    app.bus().rule("big", pattern={"detail": {"total": [{"numeric": [">", 1000]}]}}).target(review)
    app.consumer(inventory)(handler)
    apply_app(app, client)
    apply_app(app, client)  # twice: nothing changes, nothing fails
    assert client.list_queues() == [
        "InventoryDLQ",
        "InventoryQueue",
        "ShippingDLQ",
        "ShippingQueue",
        "review",
    ]
    assert client.get_queue("InventoryQueue").attributes.max_receive_count == 3
    assert sorted(s.endpoint for s in client.get_topic("NewOrderEvent").subscriptions()) == [
        "InventoryQueue",
        "ShippingQueue",
    ]
    assert [r.name for r in client.bus().rules()] == ["big"]


def test_the_app_file_wins_over_the_database(client: Client) -> None:
    client.create_queue("orders", visibility_timeout=5)
    app = App("a")
    app.queue("orders", visibility_timeout=60)
    apply_app(app, client)
    assert client.get_queue("orders").attributes.visibility_timeout == 60


def test_consumer_checks(client: Client) -> None:
    app = App("a")
    app.queue("short", visibility_timeout=10)
    app.consumer("short", timeout_seconds=30)(handler)
    with pytest.raises(eventyard.InvalidParameterValue, match="less than the function timeout"):
        apply_app(app, client)
    for kwargs, message in [
        ({"batch_size": 0}, "batch_size must be from 1 to 10000"),
        ({"batch_size": 10_001}, "batch_size must be from 1 to 10000"),
        ({"batch_size": 100}, "batching_window_seconds of at least 1"),
        ({"batching_window_seconds": 301}, "0 to 300"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"timeout_seconds": 901}, "timeout_seconds"),
    ]:
        other = App("b")
        other.queue("q")
        other.consumer("q", **kwargs)(handler)  # type: ignore[arg-type]
        with pytest.raises(eventyard.InvalidParameterValue, match=message):
            apply_app(other, client)


def test_an_unknown_queue_is_named(client: Client) -> None:
    app = App("a")
    app.consumer("nowhere")(handler)
    with pytest.raises(eventyard.QueueDoesNotExist, match="function 'handler' reads queue"):
        apply_app(app, client)


def test_fifo_rules(client: Client) -> None:
    app = App("a")
    jobs = app.queue("jobs.fifo", content_based_deduplication=True)
    app.consumer(jobs, batch_size=10)(handler)
    with pytest.raises(eventyard.InvalidParameterValue, match="already feeds function"):
        app.consumer(jobs, name="second")(handler)
    big = App("b")
    big.queue("jobs.fifo", content_based_deduplication=True)
    big.consumer("jobs.fifo", batch_size=11, batching_window_seconds=1)(handler)
    with pytest.raises(eventyard.InvalidParameterValue, match="batch_size must be from 1 to 10"):
        apply_app(big, client)


def test_declaration_errors() -> None:
    app = App("a")
    app.queue("q", visibility_timeout=5)
    with pytest.raises(eventyard.InvalidParameterValue, match="declared twice"):
        app.queue("q", visibility_timeout=6)
    app.consumer("q")(handler)
    with pytest.raises(eventyard.InvalidParameterValue, match="declared twice"):
        app.consumer("q")(handler)
    with pytest.raises(eventyard.InvalidParameterValue, match="style"):
        app.consumer("q", style="java")
    with pytest.raises(eventyard.InvalidParameterValue, match="HTTP method"):
        app.route("FETCH", "/x")
    with pytest.raises(eventyard.InvalidParameterValue, match="on_failure"):
        app.on_event(pattern={"source": ["x"]}, on_failure=42)(handler)
    with pytest.raises(eventyard.InvalidParameterValue, match="retries"):
        app.on_event(pattern={"source": ["x"]}, retries=3, name="r")(handler)


def test_async_functions_get_their_invocation_queue(client: Client) -> None:
    app = App("a")
    topic = app.topic("t")
    app.on_topic(topic)(handler)
    app.on_event(pattern={"source": ["shop"]}, name="on_shop")(handler)
    apply_app(app, client)
    assert client.list_queues() == []  # internal queues are not listed
    assert client.store.get_queue("eventyard:fn:handler").name == "eventyard:fn:handler"
    assert [s.protocol for s in client.get_topic("t").subscriptions()] == ["function"]
    assert [t.kind for t in client.bus().rule("on_shop").targets()] == ["function"]


def test_setup_hooks_run_at_every_apply_after_the_topology(client: Client) -> None:
    app = App("shop")
    app.queue("orders")
    seen: list[list[str]] = []

    @app.setup
    def create_tables(given: Client) -> None:
        seen.append(given.list_queues())  # the declarations are applied first
        with given.transaction() as tx:
            tx.execute("CREATE TABLE IF NOT EXISTS stock (sku TEXT PRIMARY KEY, quantity INT)")
            tx.execute("INSERT INTO stock VALUES ('book', 5) ON CONFLICT DO NOTHING")

    apply_app(app, client)
    apply_app(app, client)
    assert seen == [["orders"], ["orders"]]
    with client.transaction() as tx:
        assert tx.execute("SELECT quantity FROM stock").fetchall() == [(5,)]
    assert app.with_functions(set()).setup_hooks == [create_tables]


def test_setup_needs_a_function() -> None:
    with pytest.raises(eventyard.InvalidParameterValue, match=r"app\.setup needs a function"):
        App("shop").setup("CREATE TABLE x")  # type: ignore[arg-type]


def test_an_app_narrowed_to_some_functions_still_applies_whole(client: Client) -> None:
    app = App("shop")
    orders = app.queue("orders")
    app.consumer(orders)(handler)

    @app.on_event(pattern={"source": ["shop"]})
    def review(event: dict) -> None: ...

    only_consumer = app.with_functions({"handler"})
    apply_app(only_consumer, client)  # the rule targets review: its queue must exist too
    assert list(only_consumer.functions) == ["handler"]
    assert [(t.kind, t.endpoint) for r in client.bus().rules() for t in r.targets()] == [
        ("function", "review")
    ]
