"""Endpoints that go down: nothing published meanwhile is lost, and FIFO order survives a crash.

* A webhook endpoint is down (its port closed) while notifications are
  published and a dispatcher (a child process) keeps failing to post them;
  then it comes back on the same port: every notification arrives, once.
* An endpoint that never comes back: after their retries, all notifications
  are in the subscription's dead-letter queue with the error; none is lost.
* Webhooks cannot be FIFO (a FIFO topic delivers only to FIFO queues), so
  order is checked where it is promised: a FIFO topic into a FIFO queue,
  whose consumer process is SIGKILLed half-way and replaced: the messages of
  the group are still handled in publish order.
"""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest
from children import stop_all, wait_until
from children_bus import BusChild, log_lines, spawn_bus
from http_servers import HookServer, closed_port, delivery_records

import eventyard

pytestmark = pytest.mark.slow

DURABILITY = "process"
NOTIFICATIONS = 30


def test_notifications_published_while_the_endpoint_is_down_arrive_once_it_is_back(
    tmp_path: Path,
) -> None:
    db = tmp_path / "down.db"
    url = f"sqlite:///{db}"
    port = closed_port()
    stop, ready = tmp_path / "stop", tmp_path / "ready"
    with eventyard.connect(url, durability=DURABILITY) as client:
        dlq = client.create_queue("hook-dlq")
        topic = client.create_topic("orders")
        topic.subscribe(
            f"http://127.0.0.1:{port}/hook",
            dead_letter_queue=dlq,
            max_retries=30,
            retry_delay_seconds=1,
        )
        dispatcher = spawn_bus(
            "dispatch",
            tmp_path,
            db=str(db),
            durability=DURABILITY,
            stop=str(stop),
            ready=str(ready),
        )
        server = None
        try:
            wait_until(ready.exists, 30, "the dispatcher to start", [dispatcher])
            published = {topic.publish({"n": n}) for n in range(NOTIFICATIONS)}
            # Every notification was refused at least once: a record is received a second
            # time only after its first attempt failed.
            wait_until(
                lambda: delivery_records(url, "receive_count >= 2") == NOTIFICATIONS,
                30,
                "the dispatcher to fail on the closed port",
                [dispatcher],
            )
            server = HookServer(port=port)  # the endpoint is back, on the same port
            wait_until(
                lambda: set(server.per_key()) >= published,
                30,
                "every notification to arrive",
                [dispatcher],
            )
            wait_until(lambda: delivery_records(url) == 0, 30, "the records", [dispatcher])
            stop.touch()
            counters = dispatcher.finish(timeout=30)
        finally:
            stop_all([dispatcher])
            if server is not None:
                server.stop()
        assert set(server.per_key()) == published
        assert set(server.per_key().values()) == {1}, "a notification was posted twice"
        assert dlq.stats().total == 0
    assert counters["delivered"] == NOTIFICATIONS
    assert counters["failed_attempts"] >= NOTIFICATIONS
    assert (counters["dead_lettered"], counters["dropped"]) == (0, 0)


def test_an_endpoint_that_never_comes_back_dead_letters_every_notification(
    tmp_path: Path,
) -> None:
    db = tmp_path / "gone.db"
    url = f"sqlite:///{db}"
    endpoint = f"http://127.0.0.1:{closed_port()}/hook"
    stop, ready = tmp_path / "stop", tmp_path / "ready"
    with eventyard.connect(url, durability=DURABILITY) as client:
        dlq = client.create_queue("hook-dlq")
        topic = client.create_topic("orders")
        subscription = topic.subscribe(
            endpoint, dead_letter_queue=dlq, max_retries=2, retry_delay_seconds=1
        )
        published = {topic.publish({"n": n}, attributes={"n": n}): n for n in range(NOTIFICATIONS)}
        dispatcher = spawn_bus(
            "dispatch",
            tmp_path,
            db=str(db),
            durability=DURABILITY,
            stop=str(stop),
            ready=str(ready),
        )
        try:
            wait_until(
                lambda: dlq.stats().visible >= NOTIFICATIONS and delivery_records(url) == 0,
                30,
                "every notification to be dead-lettered",
                [dispatcher],
            )
            stop.touch()
            counters = dispatcher.finish(timeout=30)
        finally:
            stop_all([dispatcher])
        dead: list[eventyard.Message] = []
        while messages := dlq.receive(10):
            dead.extend(messages)
            assert all(r.ok for r in dlq.delete_batch(messages))
    assert len(dead) == NOTIFICATIONS, "lost or duplicated in the dead-letter queue"
    by_id = {m.body["MessageId"]: m for m in dead}  # type: ignore[index]
    assert set(by_id) == set(published)
    for message_id, message in by_id.items():
        assert json.loads(message.body["Message"]) == {"n": published[message_id]}  # type: ignore[index]
        assert message.body["MessageAttributes"] == {  # type: ignore[index]
            "n": {"Type": "Number", "Value": str(published[message_id])}
        }
        assert message.attributes["ErrorCode"] == "ConnectionRefused"
        assert "refused" in str(message.attributes["ErrorMessage"])
        assert message.attributes["Attempts"] == 3
        assert message.attributes["TopicArn"] == topic.arn
        assert message.attributes["SubscriptionArn"] == subscription.arn
    assert counters == {
        "delivered": 0,
        "failed_attempts": 3 * NOTIFICATIONS,
        "dead_lettered": NOTIFICATIONS,
        "dropped": 0,
    }


FIFO_MESSAGES = 50
VISIBILITY = 2  # seconds: how long the killed consumer's message blocks its group


def consumed(log: Path) -> list[tuple[str, int, int, float]]:
    """(``recv`` or ``del``, message number, receive count, time) per line of a consumer log."""
    entries = []
    for line in log_lines(log):
        what, number, count, at = line.split()
        entries.append((what, int(number), int(count), float(at)))
    return entries


def test_fifo_topic_order_survives_a_killed_consumer(tmp_path: Path) -> None:
    db = tmp_path / "fifo.db"
    with eventyard.connect(f"sqlite:///{db}", durability=DURABILITY) as client:
        topic = client.create_topic("orders.fifo", content_based_deduplication=True)
        queue = client.create_queue("orders.fifo")
        topic.subscribe(queue, raw=True)
        for n in range(FIFO_MESSAGES):
            topic.publish({"n": n}, group_id="customer-1")
        assert queue.stats().visible == FIFO_MESSAGES

        def consumer(name: str) -> BusChild:
            return spawn_bus(
                "fifo_consume",
                tmp_path,
                name=name,
                db=str(db),
                durability=DURABILITY,
                queue="orders.fifo",
                log=str(tmp_path / f"{name}.log"),
                ready=str(tmp_path / f"{name}.ready"),
                visibility=VISIBILITY,
                wait_seconds=1,
                work_seconds=0.01,
                stop_after=FIFO_MESSAGES + 10,
            )

        kill_after = random.randint(10, 30)
        first = consumer("first")
        try:
            wait_until(
                lambda: sum(e[0] == "recv" for e in consumed(tmp_path / "first.log")) >= kill_after,
                30,
                f"{kill_after} receives",
                [first],
            )
        finally:
            first.kill()
        second = consumer("second")
        try:
            second.finish(timeout=60)
        finally:
            stop_all([second])
        assert queue.stats().total == 0

    before = consumed(tmp_path / "first.log")
    after = consumed(tmp_path / "second.log")
    received = [(n, count, at) for what, n, count, at in before + after if what == "recv"]
    deleted = [n for what, n, _, _ in before + after if what == "del"]
    # What the queue handed out, in publish order; a message comes again only right after
    # itself (the one the killed consumer held, after its visibility timeout).
    handed_out = [n for n, _ in itertools.groupby(n for n, _, _ in received)]
    assert handed_out == list(range(FIFO_MESSAGES)), received
    assert deleted == sorted(set(deleted))
    last_before = [n for what, n, _, _ in before if what == "recv"][-1]
    assert set(range(FIFO_MESSAGES)) - set(deleted) <= {last_before}  # killed before its "del"
    [(first_after, count, at)] = [e[1:] for e in after if e[0] == "recv"][:1]
    if first_after == last_before:  # it was held by the killed consumer: it came back ...
        assert count >= 2
        held_since = max(at for what, n, _, at in before if what == "recv" and n == last_before)
        assert at >= held_since + VISIBILITY - 0.5  # ... not before its visibility timeout
    else:  # the kill came after the delete: the next one follows
        assert first_after == last_before + 1
        assert count == 1
