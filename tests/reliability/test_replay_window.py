"""Replays: exactly the archived events of [start, end), in time order, to the chosen rules, once.

Events are archived over a span of fake time (irregular gaps, some at the
same millisecond, more events than one replay batch holds), then a window
of it is replayed by a dispatcher driven with ``run_once``. Last, two
dispatcher threads on the real clock run one replay of 500 events at the
same time: the replay's lease and cursor let no event through twice.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from typing import Any

from tests_support import FakeClock

import eventyard
from eventyard import Client
from eventyard.broker.dispatcher import REPLAY_BATCH

ORDER = {"source": "shop", "detail_type": "OrderPlaced"}


def drain(queue: eventyard.Queue) -> list[dict[str, Any]]:
    """Every message of ``queue``, in the order received (deleted as it goes)."""
    bodies: list[dict[str, Any]] = []
    deadline = time.monotonic() + 60
    while messages := queue.receive(10, wait_seconds=0):
        assert time.monotonic() < deadline, f"reading {queue.name} took over 60 s"
        bodies.extend(m.body for m in messages)  # type: ignore[misc]
        assert all(r.ok for r in queue.delete_batch(messages))
    return bodies


def replay_to_the_end(client: Client, replay: eventyard.Replay) -> None:
    dispatcher = client.dispatcher()
    try:
        for _ in range(1_000):
            dispatcher.run_once()
            if replay.progress().status not in ("STARTING", "RUNNING"):
                return
        raise AssertionError(f"the replay did not end: {replay.progress()}")
    finally:
        dispatcher.stop()


def archive_events(
    client: Client, clock: FakeClock, count: int, rng: random.Random
) -> list[tuple[int, str]]:
    """Put ``count`` events over fake time; their (time in ms, id), in put order."""
    put: list[tuple[int, str]] = []
    n = 0
    while n < count:
        size = min(rng.choice([1, 1, 1, 3]), count - n)  # sometimes 3 at the same millisecond
        results = client.bus().put_events([{**ORDER, "detail": {"n": n + i}} for i in range(size)])
        assert all(r.ok for r in results)
        put.extend((client.now_ms(), str(r.event_id)) for r in results)
        n += size
        clock.advance(rng.choice([0.001, 0.25, 1, 7]))
    return put


def test_a_replay_delivers_exactly_the_window_in_time_order(
    client: Client, clock: FakeClock
) -> None:
    rng = random.Random(20)
    bus = client.bus()
    bus.create_archive("all")
    put = archive_events(client, clock, 3 * REPLAY_BATCH + 17, rng)
    # A window whose both ends fall exactly on events: the start's are in, the end's are out.
    start_ms, end_ms = put[40][0], put[-30][0]
    expected = sorted((t, i) for t, i in put if start_ms <= t < end_ms)
    assert len(expected) > 2 * REPLAY_BATCH
    assert any(t == start_ms for t, _ in expected)
    assert not any(t == end_ms for t, _ in expected)
    # The rule comes after the events: only replayed copies reach its (FIFO, ordered) queue.
    ordered = client.create_queue("replayed.fifo")
    bus.put_rule("orders", pattern={"source": ["shop"]}).add_target(ordered, group_id="replay")
    replay = bus.start_replay("window", archive="all", start=start_ms / 1000, end=end_ms / 1000)
    replay_to_the_end(client, replay)

    progress = replay.progress()
    assert (progress.status, progress.replayed) == ("COMPLETED", len(expected))
    events = drain(ordered)
    assert [e["id"] for e in events] == [i for _, i in expected]
    assert {e["replay-name"] for e in events} == {"window"}
    assert client.store.get_archive("all").event_count == len(put)  # not archived again


def test_a_replay_limited_to_some_rules_reaches_only_their_targets(
    client: Client, clock: FakeClock
) -> None:
    bus = client.bus()
    bus.create_archive("all")
    start = clock.now
    put = archive_events(client, clock, 30, random.Random(7))
    queues = {name: client.create_queue(name) for name in ("a", "b", "c")}
    for name, queue in queues.items():
        bus.put_rule(f"rule-{name}", pattern={"source": ["shop"]}).add_target(queue)
    other = client.create_queue("other-source")
    bus.put_rule("rule-other", pattern={"source": ["elsewhere"]}).add_target(other)
    clock.advance(1)
    replay = bus.start_replay(
        "some-rules", archive="all", start=start, end=clock.now, rules=["rule-a", "rule-c"]
    )
    replay_to_the_end(client, replay)

    assert replay.progress().status == "COMPLETED"
    ids = sorted(i for _, i in put)
    for name in ("a", "c"):
        events = drain(queues[name])
        assert sorted(e["id"] for e in events) == ids
        assert {e["replay-name"] for e in events} == {"some-rules"}
    assert queues["b"].stats().total == 0
    assert other.stats().total == 0


EVENTS = 500


def client_archive_count(client: Client) -> int:
    return client.store.get_archive("all").event_count


def test_two_dispatchers_running_one_replay_never_deliver_an_event_twice(
    live_client: Client,
) -> None:
    bus = live_client.bus()
    bus.create_archive("all")
    start = time.time() - 1
    archived: list[str] = []
    for first in range(0, EVENTS, 10):
        results = bus.put_events([{**ORDER, "detail": {"n": n}} for n in range(first, first + 10)])
        archived.extend(str(r.event_id) for r in results)
    queue = live_client.create_queue("replayed")
    bus.put_rule("orders", pattern={"source": ["shop"]}).add_target(queue)
    time.sleep(0.01)  # the window ends after the last event's millisecond: [start, end)
    end = time.time()
    assert client_archive_count(live_client) == EVENTS
    replay = bus.start_replay("concurrent", archive="all", start=start, end=end)

    dispatchers = [live_client.dispatcher() for _ in range(2)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(dispatcher: eventyard.Dispatcher) -> None:
        try:
            barrier.wait(10)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                dispatcher.run_once(wait_seconds=0.05)
                if replay.progress().status not in ("STARTING", "RUNNING"):
                    return
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(d,)) for d in dispatchers]
    for thread in threads:
        thread.start()
    try:
        progress = replay.wait(timeout=60)
    finally:
        for thread in threads:
            thread.join(30)
        for dispatcher in dispatchers:
            dispatcher.stop()
    assert errors == []
    assert (progress.status, progress.replayed) == ("COMPLETED", EVENTS)
    delivered = Counter(e["id"] for e in drain(queue))
    assert set(delivered) == set(archived)
    assert set(delivered.values()) == {1}, "an event was delivered twice"
    assert sum(d.replayed for d in dispatchers) == EVENTS
