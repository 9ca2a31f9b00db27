"""Long polling: a receive returns as soon as a message is visible, not on a timer."""

from __future__ import annotations

import threading
import time

import eventyard
from eventyard import Client


def _send_later(queue: eventyard.Queue, delay: float, body: str) -> threading.Thread:
    def send() -> None:
        time.sleep(delay)
        queue.send(body)

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def test_wait_returns_when_a_message_arrives(live_client: Client) -> None:
    queue = live_client.create_queue("q")
    sender = _send_later(queue, 0.3, "hello")
    started = time.monotonic()
    messages = queue.receive(wait_seconds=10)
    waited = time.monotonic() - started
    sender.join()
    assert [m.body for m in messages] == ["hello"]
    assert waited < 5  # long before the 10 s wait is over (no speed assertion beyond that)


def test_wait_returns_when_a_delayed_message_becomes_visible(live_client: Client) -> None:
    queue = live_client.create_queue("q")
    queue.send("later", delay_seconds=1)
    started = time.monotonic()
    messages = queue.receive(wait_seconds=10)
    assert [m.body for m in messages] == ["later"]
    assert 0.9 <= time.monotonic() - started < 5


def test_wait_returns_when_a_visibility_timeout_ends(live_client: Client) -> None:
    queue = live_client.create_queue("q", visibility_timeout=1)
    queue.send("x")
    queue.receive()
    started = time.monotonic()
    [again] = queue.receive(wait_seconds=10)
    assert again.receive_count == 2
    assert 0.9 <= time.monotonic() - started < 5


def test_wait_gives_up_empty_after_wait_seconds(live_client: Client) -> None:
    queue = live_client.create_queue("q")
    started = time.monotonic()
    assert queue.receive(wait_seconds=1) == []
    assert time.monotonic() - started >= 1


def test_queue_default_wait_applies(live_client: Client) -> None:
    queue = live_client.create_queue("q", receive_wait_seconds=1)
    started = time.monotonic()
    assert queue.receive() == []
    assert time.monotonic() - started >= 1
    assert queue.receive(wait_seconds=0) == []


def test_many_waiters_each_get_their_own_message(live_client: Client) -> None:
    queue = live_client.create_queue("q")
    results: list[list[eventyard.Message]] = []
    lock = threading.Lock()

    def wait() -> None:
        got = queue.receive(wait_seconds=10)
        with lock:
            results.append(got)

    waiters = [threading.Thread(target=wait) for _ in range(4)]
    for waiter in waiters:
        waiter.start()
    time.sleep(0.2)
    queue.send_batch(["a", "b", "c", "d"])
    for waiter in waiters:
        waiter.join(timeout=15)
    bodies = sorted(m.body for got in results for m in got)
    assert bodies == ["a", "b", "c", "d"]


def test_a_write_by_another_connection_wakes_the_waiter(
    live_client: Client, database_url: str
) -> None:
    """Another client (its own connections, as another process would have) wakes us."""
    queue = live_client.create_queue("q")
    with eventyard.connect(database_url) as other:
        sender = _send_later(other.get_queue("q"), 0.3, "from-elsewhere")
        started = time.monotonic()
        messages = queue.receive(wait_seconds=10)
        sender.join()
    assert [m.body for m in messages] == ["from-elsewhere"]
    assert time.monotonic() - started < 5
