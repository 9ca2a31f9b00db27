"""Webhook deliveries end to end: topics and bus rules, a dispatcher, and a real HTTP server.

Every test posts to a `HookServer` (a ThreadingHTTPServer on 127.0.0.1 in a
thread) through a dispatcher running as a thread on the real clock, and
checks what the server received: headers, bodies, how many attempts, and
what ended in the dead-letter queues. Nothing of the HTTP layer is mocked.

The last tests are regressions of bugs these tests found (fixed in 22cf0e3): a
rolled-back first webhook publish, and batches whose posts outlast their lease.
The lease tests drive dispatchers by hand on a client whose clock runs faster
than real time, so that posts taking the whole webhook timeout add up to the
60 s lease within a second or two.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from http_servers import (
    HookServer,
    Request,
    always,
    closed_port,
    delivery_records,
    fail_first,
    wait_for,
)

import eventyard
from eventyard import Client
from eventyard.broker.dispatcher import WEBHOOK_TIMEOUT_SECONDS, Dispatcher
from eventyard.delivery.endpoints import (
    EVENTBRIDGE_CONTENT_TYPE,
    EVENTBRIDGE_USER_AGENT,
    SNS_CONTENT_TYPE,
    SNS_USER_AGENT,
)

ORDER = {"source": "shop", "detail_type": "OrderPlaced"}
WAIT = 15.0  # seconds: the longest any wait below may take


@pytest.fixture
def server() -> Iterator[HookServer]:
    with HookServer() as hook:
        yield hook


@contextmanager
def dispatching(client: Client, count: int = 1) -> Iterator[list[Dispatcher]]:
    """``count`` dispatcher threads for the duration of the block."""
    dispatchers = [client.dispatcher().start() for _ in range(count)]
    try:
        yield dispatchers
    finally:
        for dispatcher in dispatchers:
            dispatcher.stop(timeout=10)


def take(queue: eventyard.Queue, count: int) -> list[eventyard.Message]:
    """Exactly ``count`` messages of ``queue`` (waiting for them), deleted."""
    got: list[eventyard.Message] = []

    def more() -> bool:
        got.extend(queue.receive(10, wait_seconds=0.5))
        return len(got) >= count

    wait_for(more, WAIT, lambda: f"{count} messages in {queue.name} (got {len(got)})")
    for message in got:
        queue.delete(message)
    assert len(got) == count
    return got


# -- topic subscriptions -------------------------------------------------------------------------


def test_http_subscription_gets_the_sns_notification_and_headers(
    live_client: Client, server: HookServer
) -> None:
    topic = live_client.create_topic("NewOrderEvent")
    subscription = topic.subscribe(server.url("/orders?token=abc"))
    assert (subscription.protocol, subscription.endpoint) == (
        "http",
        server.url("/orders?token=abc"),
    )
    with dispatching(live_client):
        message_id = topic.publish(
            {"order_id": 7}, subject="New order", attributes={"store": "example_corp", "total": 12}
        )
        [request] = server.wait_for_requests(1, WAIT)
    assert (request.method, request.path) == ("POST", "/orders?token=abc")
    headers = request.headers
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-message-id"] == message_id
    assert headers["x-amz-sns-topic-arn"] == topic.arn
    assert headers["x-amz-sns-subscription-arn"] == subscription.arn
    assert headers["content-type"] == SNS_CONTENT_TYPE
    assert headers["user-agent"] == SNS_USER_AGENT
    assert "x-amz-sns-rawdelivery" not in headers
    envelope = request.json()
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == message_id
    assert envelope["TopicArn"] == topic.arn
    assert envelope["Subject"] == "New order"
    assert json.loads(envelope["Message"]) == {"order_id": 7}
    assert envelope["MessageAttributes"] == {
        "store": {"Type": "String", "Value": "example_corp"},
        "total": {"Type": "Number", "Value": "12"},
    }
    assert subscription.arn in envelope["UnsubscribeURL"]
    assert envelope["Timestamp"].endswith("Z")


def test_raw_delivery_posts_the_message_itself(live_client: Client, server: HookServer) -> None:
    topic = live_client.create_topic("t")
    topic.subscribe(server.url("/raw"), raw=True)
    with dispatching(live_client):
        json_id = topic.publish({"order_id": 7}, attributes={"kind": "book"})
        text_id = topic.publish("plain text, not JSON")
        requests = server.wait_for_requests(2, WAIT)
    by_id = {r.message_id: r for r in requests}
    assert set(by_id) == {json_id, text_id}
    assert by_id[json_id].json() == {"order_id": 7}
    assert by_id[text_id].text == "plain text, not JSON"
    for request in requests:
        assert request.headers["x-amz-sns-rawdelivery"] == "true"
        assert request.headers["x-amz-sns-message-type"] == "Notification"
        assert request.headers["x-amz-sns-topic-arn"] == topic.arn


def test_a_filter_policy_that_excludes_a_message_posts_nothing(
    live_client: Client, server: HookServer, database_url: str
) -> None:
    topic = live_client.create_topic("t")
    topic.subscribe(server.url("/books"), filter_policy={"kind": ["book"]})
    topic.publish("a lamp", attributes={"kind": "lamp"})
    topic.publish("no attributes at all")
    assert delivery_records(database_url) == 0  # not even a delivery record
    with dispatching(live_client) as [dispatcher]:
        book_id = topic.publish("a book", attributes={"kind": "book"})
        [request] = server.wait_for_requests(1, WAIT)
        wait_for(lambda: delivery_records(database_url) == 0, WAIT, "the delivery queue to empty")
    assert request.message_id == book_id
    assert request.json()["Message"] == "a book"
    assert server.count() == 1
    assert dispatcher.delivered == 1


def test_a_failing_endpoint_is_retried_then_delivered_exactly_once(
    live_client: Client, database_url: str
) -> None:
    with HookServer(fail_first(1, status=500)) as server:
        topic = live_client.create_topic("t")
        topic.subscribe(server.url(), retry_delay_seconds=1)
        with dispatching(live_client) as [dispatcher]:
            message_id = topic.publish({"n": 1})
            first, second = server.wait_for_requests(2, WAIT)
            wait_for(lambda: delivery_records(database_url) == 0, WAIT, "the delivery record")
            late = server.count()
    assert late == 2, "posted again after the 200"
    assert first.message_id == second.message_id == message_id
    assert first.body == second.body  # the same notification, byte for byte
    assert second.at - first.at >= 0.9  # retry_delay_seconds=1
    assert (dispatcher.failed_attempts, dispatcher.delivered, dispatcher.dead_lettered) == (1, 1, 0)


def test_a_404_goes_to_the_dead_letter_queue_at_once(live_client: Client) -> None:
    dlq = live_client.create_queue("hook-dlq")
    with HookServer(always(404)) as server:
        topic = live_client.create_topic("t")
        subscription = topic.subscribe(
            server.url("/gone"), dead_letter_queue=dlq, max_retries=5, retry_delay_seconds=1
        )
        with dispatching(live_client):
            message_id = topic.publish({"n": 1})
            [dead] = take(dlq, 1)
        assert server.count() == 1  # a client error is not retried
    assert dead.attributes["ErrorCode"] == "HttpStatus404"
    assert "404" in str(dead.attributes["ErrorMessage"])
    assert dead.attributes["TopicArn"] == topic.arn
    assert dead.attributes["SubscriptionArn"] == subscription.arn
    assert dead.attributes["Attempts"] == 1
    assert dead.body["MessageId"] == message_id  # type: ignore[index]
    assert json.loads(dead.body["Message"]) == {"n": 1}  # type: ignore[index]


def test_a_refused_connection_ends_in_the_dlq_after_max_retries_plus_one_attempts(
    live_client: Client, database_url: str
) -> None:
    dlq = live_client.create_queue("hook-dlq")
    topic = live_client.create_topic("t")
    url = f"http://127.0.0.1:{closed_port()}/hook"
    topic.subscribe(url, dead_letter_queue=dlq, max_retries=2, retry_delay_seconds=1, raw=True)
    with dispatching(live_client) as [dispatcher]:
        topic.publish("never delivered")
        [dead] = take(dlq, 1)
        wait_for(lambda: delivery_records(database_url) == 0, WAIT, "the delivery record")
    assert dead.body == "never delivered"  # raw: what the endpoint would have got
    assert dead.attributes["ErrorCode"] == "ConnectionRefused"
    assert "refused" in str(dead.attributes["ErrorMessage"])
    assert dead.attributes["Attempts"] == 3
    assert (dispatcher.failed_attempts, dispatcher.dead_lettered) == (3, 1)


def test_two_dispatcher_threads_never_post_the_same_notification_twice(
    live_client: Client, server: HookServer, database_url: str
) -> None:
    topic = live_client.create_topic("t")
    topic.subscribe(server.url())
    published: set[str] = set()
    for start in range(0, 200, 10):
        results = topic.publish_batch([{"n": n} for n in range(start, start + 10)])
        published.update(r.message_id for r in results if r.message_id)
    assert len(published) == 200
    with dispatching(live_client, count=2) as dispatchers:
        server.wait_for_requests(200, 60)
        wait_for(lambda: delivery_records(database_url) == 0, WAIT, "the delivery queue")
    per_message = server.per_key()
    assert set(per_message) == published
    assert set(per_message.values()) == {1}, "a notification was posted twice"
    assert sum(d.delivered for d in dispatchers) == 200


def test_unsubscribed_before_delivery_is_dropped(
    live_client: Client, server: HookServer, database_url: str
) -> None:
    topic = live_client.create_topic("t")
    subscription = topic.subscribe(server.url())
    topic.publish("for nobody")
    assert delivery_records(database_url) == 1
    subscription.unsubscribe()
    with dispatching(live_client) as [dispatcher]:
        wait_for(lambda: delivery_records(database_url) == 0, WAIT, "the record to be dropped")
    assert server.count() == 0
    assert (dispatcher.dropped, dispatcher.delivered) == (1, 0)


# -- event-bus webhook targets -------------------------------------------------------------------


def test_bus_webhook_target_is_delivered(live_client: Client, server: HookServer) -> None:
    rule = live_client.bus().put_rule("orders", pattern={"source": ["shop"]})
    rule.add_target(server.url("/event"))
    rule.add_target(
        server.url("/shaped"),
        input_transformer={
            "InputPathsMap": {"id": "$.detail.id"},
            "InputTemplate": '{"order": <id>, "rule": <aws.events.rule-name>}',
        },
    )
    with dispatching(live_client):
        [result] = live_client.bus().put_events([{**ORDER, "detail": {"id": 9}}])
        requests = server.wait_for_requests(2, WAIT)
    by_path = {r.path: r for r in requests}
    event = by_path["/event"].json()
    assert event["id"] == result.event_id
    assert (event["source"], event["detail-type"], event["detail"]) == (
        "shop",
        "OrderPlaced",
        {"id": 9},
    )
    assert by_path["/shaped"].json() == {"order": 9, "rule": "orders"}
    for request in requests:
        assert request.headers["content-type"] == EVENTBRIDGE_CONTENT_TYPE
        assert request.headers["user-agent"] == EVENTBRIDGE_USER_AGENT
        assert "x-amz-sns-message-type" not in request.headers


def test_bus_webhook_target_failing_with_503_gets_max_attempts_plus_one_then_its_dlq(
    live_client: Client,
) -> None:
    dlq = live_client.create_queue("target-dlq")
    with HookServer(always(503)) as server:
        rule = live_client.bus().put_rule("orders", pattern={"source": ["shop"]})
        rule.add_target(server.url("/down"), max_attempts=2, dead_letter_queue=dlq)
        with dispatching(live_client) as [dispatcher]:
            [result] = live_client.bus().put_events([{**ORDER, "detail": {"id": 1}}])
            [dead] = take(dlq, 1)
        requests = server.requests
    assert len(requests) == 3  # the first attempt and max_attempts=2 retries
    gaps = [b.at - a.at for a, b in itertools.pairwise(requests)]
    # Backoff with jitter: about 1 s, then 1-2 s (a little slack for a busy machine).
    assert 0.9 <= gaps[0] <= 1 + 1.5, gaps
    assert 0.9 <= gaps[1] <= 2 + 1.5, gaps
    assert dead.body["id"] == result.event_id  # type: ignore[index]
    assert dead.attributes["ERROR_CODE"] == "HttpStatus503"
    assert "503" in str(dead.attributes["ERROR_MESSAGE"])
    assert dead.attributes["RULE_ARN"] == rule.arn
    assert dead.attributes["TARGET_ARN"] == server.url("/down")
    assert dead.attributes["RETRY_ATTEMPTS"] == 2
    assert dead.attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttemptsExceeded"
    assert (dispatcher.failed_attempts, dispatcher.dead_lettered) == (3, 1)


# -- regressions -----------------------------------------------------------------------------------


#: The lease tests run on a clock SPEED times faster than real time: a post that takes the
#: whole webhook timeout (15 s) takes 15 / SPEED real seconds, and the 60 s lease 60 / SPEED.
#: Posts made one after the other add up, posts made at the same time overlap, as for real.
SPEED = 30
SLOWEST_POST = WEBHOOK_TIMEOUT_SECONDS / SPEED


class FastClock:
    """time.time(), running SPEED times faster from the moment it is made."""

    def __init__(self) -> None:
        self._origin = time.time()
        self._started = time.monotonic()

    def __call__(self) -> float:
        return self._origin + (time.monotonic() - self._started) * SPEED


@pytest.fixture
def fast_client(database_url: str) -> Iterator[Client]:
    with eventyard.connect(database_url, durability="process", clock=FastClock()) as c:
        yield c


def test_a_rolled_back_first_webhook_publish_does_not_poison_later_ones(
    live_client: Client, server: HookServer
) -> None:
    topic = live_client.create_topic("t")
    topic.subscribe(server.url())

    def checkout() -> None:
        with live_client.transaction() as tx:
            tx.publish("t", "rolled back")  # the first use of the delivery queue: created here
            raise RuntimeError("payment declined")

    with pytest.raises(RuntimeError):
        checkout()
    # Once, the delivery queue was created (and its record cached) inside that transaction:
    # this queue then took the rolled-back queue's id, and the delivery records with it.
    orders = live_client.create_queue("orders")
    dispatcher = live_client.dispatcher()
    try:
        dispatcher.run_once()
        message_id = live_client.get_topic("t").publish("kept")
        for _ in range(3):
            dispatcher.run_once()
    finally:
        dispatcher.stop()
    assert orders.stats().total == 0, "the webhook delivery record landed in a user queue"
    assert [r.message_id for r in server.requests] == [message_id]


def test_a_batch_of_slow_failing_posts_gets_every_attempt_it_counts(
    fast_client: Client,
) -> None:
    def slow_failure(request: Request, earlier: int) -> int:
        time.sleep(SLOWEST_POST)
        return 504

    dlq = fast_client.create_queue("hook-dlq")
    with HookServer(slow_failure) as server:
        topic = fast_client.create_topic("t")
        topic.subscribe(server.url(), max_retries=1, retry_delay_seconds=1, dead_letter_queue=dlq)
        published = {topic.publish({"n": n}) for n in range(6)}
        dispatcher = fast_client.dispatcher()
        errors: list[Exception] = []
        deadline = time.monotonic() + 30
        try:
            # Rounds as Dispatcher.run makes them: an error is logged and the loop goes on.
            while dlq.stats().visible < len(published) and time.monotonic() < deadline:
                try:
                    dispatcher.run_once()
                except eventyard.EventyardError as exc:
                    errors.append(exc)
        finally:
            dispatcher.stop()
        posts = server.per_key()
    dead = dlq.receive(10)
    assert {m.body["MessageId"] for m in dead} == published  # type: ignore[index]
    # Each was dead-lettered after max_retries (1) + 1 attempts, and each attempt was a post.
    assert {m.attributes["Attempts"] for m in dead} == {2}
    assert dict(posts) == dict.fromkeys(published, 2), "attempts counted but not posted"
    assert errors == []


def test_two_dispatchers_do_not_post_twice_when_posts_outlast_the_lease(
    fast_client: Client, database_url: str
) -> None:
    def slow_success(request: Request, earlier: int) -> int:
        time.sleep(SLOWEST_POST)
        return 200

    with HookServer(slow_success) as server:
        topic = fast_client.create_topic("t")
        topic.subscribe(server.url())
        published = {topic.publish({"n": n}) for n in range(10)}
        dispatchers = [fast_client.dispatcher(), fast_client.dispatcher()]
        errors: list[BaseException] = []
        deadline = time.monotonic() + 30

        def run(dispatcher: Dispatcher) -> None:
            try:
                while delivery_records(database_url) and time.monotonic() < deadline:
                    dispatcher.run_once()
                    time.sleep(0.005)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(d,)) for d in dispatchers]
        try:
            for thread in threads:
                thread.start()
        finally:
            for thread in threads:
                thread.join(40)
            for dispatcher in dispatchers:
                dispatcher.stop()
        per_message = server.per_key()
    assert set(per_message) == published
    assert sorted(per_message.values()) == [1] * 10, "posted twice"
    assert errors == []
