"""Event buses: rules, routing, targets, input shaping, archives, replays, schedules."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from tests_support import FakeClock

import eventyard
from eventyard import Client

ORDER = {"source": "shop", "detail_type": "OrderPlaced"}


def _take(queue: eventyard.Queue) -> list[object]:
    messages = queue.receive(10)
    for message in messages:
        queue.delete(message)
    return [m.body for m in messages]


def test_default_bus_and_bus_management(client: Client) -> None:
    assert client.list_buses() == ["default"]
    assert client.bus().arn == "arn:aws:events:us-east-1:000000000000:event-bus/default"
    client.create_bus("orders")
    assert client.create_bus("orders").name == "orders"
    assert client.list_buses() == ["default", "orders"]
    with pytest.raises(eventyard.InvalidParameterValue, match="cannot be deleted"):
        client.delete_bus("default")
    client.bus("orders").put_rule("r", pattern={"source": ["x"]})
    with pytest.raises(eventyard.ResourceInUse, match="still has rules"):
        client.delete_bus("orders")
    client.bus("orders").delete_rule("r")
    client.delete_bus("orders")
    with pytest.raises(eventyard.BusDoesNotExist):
        client.bus("orders")
    with pytest.raises(eventyard.BusDoesNotExist):
        client.bus("bad name!")


def test_put_events_fills_the_envelope(client: Client, clock: FakeClock) -> None:
    queue = client.create_queue("all")
    client.bus().put_rule("everything", pattern={"source": ["shop"]}).add_target(queue)
    [result] = client.bus().put_events(
        [{**ORDER, "detail": {"total": 5}, "resources": ["arn:aws:s3:::b"]}]
    )
    [event] = _take(queue)
    assert event == {
        "version": "0",
        "id": result.event_id,
        "detail-type": "OrderPlaced",
        "source": "shop",
        "account": "000000000000",
        "time": datetime.fromtimestamp(clock.now, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": ["arn:aws:s3:::b"],
        "detail": {"total": 5},
    }


def test_routing_by_content_the_chapter_example(client: Client) -> None:
    review = client.create_queue("review")
    standard = client.create_queue("standard")
    bus = client.bus()
    bus.put_rule(
        "big-orders", pattern={"detail": {"total": [{"numeric": [">", 1000]}]}}
    ).add_target(review)
    bus.put_rule(
        "standard-orders", pattern={"detail": {"total": [{"numeric": ["<=", 1000]}]}}
    ).add_target(standard, input_path="$.detail")
    bus.put_events(
        [{**ORDER, "detail": {"id": 1, "total": 1500}}, {**ORDER, "detail": {"id": 2, "total": 20}}]
    )
    assert [e["detail"]["id"] for e in _take(review)] == [1]  # type: ignore[index]
    assert _take(standard) == [{"id": 2, "total": 20}]


def test_per_entry_errors_let_the_others_through(client: Client, database_url: str) -> None:
    queue = client.create_queue("q")
    client.bus().put_rule("r", pattern={"source": ["shop"]}).add_target(queue)
    results = client.bus().put_events(
        [
            {**ORDER, "detail": {}},
            {"detail_type": "X", "detail": {}},
            {"source": "shop", "detail": {}},
            {"source": "shop", "detail_type": "X"},
            {"source": "shop", "detail_type": "X", "detail": "[1, 2]"},
            {"source": "shop", "detail_type": "X", "detail": "{not json"},
            {"source": "shop", "detail_type": "x" * 129, "detail": {}},
        ]
    )
    assert [r.error_code for r in results] == [
        None,
        "MissingSource",
        "MissingDetailType",
        "MissingDetail",
        "MalformedDetail",
        "MalformedDetail",
        "InvalidArgument",
    ]
    assert results[0].ok
    assert len(_take(queue)) == 1
    with pytest.raises(eventyard.TooManyEntriesInBatch):
        client.bus().put_events([{**ORDER, "detail": {}}] * 11)
    with pytest.raises(eventyard.EmptyBatchRequest):
        client.bus().put_events([])


def test_rule_validation(client: Client) -> None:
    bus = client.bus()
    with pytest.raises(eventyard.InvalidEventPattern, match=r"detail\.total"):
        bus.put_rule("r", pattern={"detail": {"total": [{"numeric": [">", "x"]}]}})
    with pytest.raises(eventyard.InvalidParameterValue, match="needs a pattern, a schedule"):
        bus.put_rule("r")
    with pytest.raises(eventyard.InvalidParameterValue, match="ScheduleExpression"):
        bus.put_rule("r", schedule="rate(5 minute)")
    with pytest.raises(eventyard.InvalidParameterValue, match="rule name"):
        bus.put_rule("bad name", pattern={"source": ["x"]})
    client.create_bus("other")
    with pytest.raises(eventyard.InvalidParameterValue, match="default event bus"):
        client.bus("other").put_rule("s", schedule="rate(5 minutes)")
    assert bus.rules() == []


def test_target_validation(client: Client) -> None:
    queue = client.create_queue("q")
    rule = client.bus().put_rule("r", pattern={"source": ["shop"]})
    for index in range(5):
        rule.add_target(queue, id=f"t{index}")
    with pytest.raises(eventyard.LimitExceeded, match="at most 5"):
        rule.add_target(queue, id="t5")
    rule.add_target(queue, id="t0", input='{"replaced": true}')  # same id: replaces
    assert len(rule.targets()) == 5
    other = client.bus().put_rule("r2", pattern={"source": ["shop"]})
    with pytest.raises(eventyard.InvalidParameterValue, match="undefined variable <nope>"):
        other.add_target(
            queue, input_transformer={"InputPathsMap": {}, "InputTemplate": '{"a": <nope>}'}
        )
    with pytest.raises(eventyard.InvalidParameterValue):
        other.add_target("ftp://example.com/hook")
    with pytest.raises(eventyard.QueueDoesNotExist):
        other.add_target("queue:missing")
    with pytest.raises(eventyard.InvalidParameterValue, match="max_attempts"):
        other.add_target(queue, max_attempts=186)
    with pytest.raises(eventyard.InvalidParameterValue, match="max_event_age_seconds"):
        other.add_target(queue, max_event_age_seconds=59)
    assert other.targets() == []
    with pytest.raises(eventyard.ResourceInUse, match="still has targets"):
        rule.delete()
    rule.delete(force=True)


def test_disabled_rules_do_not_match(client: Client) -> None:
    queue = client.create_queue("q")
    rule = client.bus().put_rule("r", pattern={"source": ["shop"]})
    rule.add_target(queue)
    rule.disable()
    client.bus().put_events([{**ORDER, "detail": {}}])
    assert queue.stats().total == 0
    rule.enable()
    client.bus().put_events([{**ORDER, "detail": {}}])
    assert queue.stats().visible == 1


def test_input_transformer_and_constant_input(client: Client) -> None:
    a = client.create_queue("a")
    b = client.create_queue("b")
    rule = client.bus().put_rule("r", pattern={"source": ["shop"]})
    rule.add_target(
        a,
        input_transformer={
            "InputPathsMap": {"id": "$.detail.id", "who": "$.detail.customer"},
            "InputTemplate": '{"order": <id>, "text": "for <who>", "rule": <aws.events.rule-name>}',
        },
    )
    rule.add_target(b, input='{"constant": 1}')
    client.bus().put_events([{**ORDER, "detail": {"id": 9, "customer": 'Ada "A"'}}])
    assert _take(a) == [{"order": 9, "text": 'for Ada "A"', "rule": "r"}]
    assert _take(b) == [{"constant": 1}]


def test_topic_and_bus_targets(client: Client) -> None:
    topic = client.create_topic("orders")
    via_topic = client.create_queue("via-topic")
    topic.subscribe(via_topic, raw=True)
    other = client.create_bus("other")
    on_other = client.create_queue("on-other")
    other.put_rule("all", pattern={"source": ["shop"]}).add_target(on_other)
    back = other.put_rule("back", pattern={"source": ["shop"]})
    back.add_target(client.bus())  # would loop back: not forwarded a second time
    rule = client.bus().put_rule("r", pattern={"source": ["shop"]})
    rule.add_target(topic)
    rule.add_target(other)
    client.bus().put_events([{**ORDER, "detail": {"n": 1}}])
    assert [e["detail"] for e in _take(via_topic)] == [{"n": 1}]  # type: ignore[index]
    assert [e["detail"] for e in _take(on_other)] == [{"n": 1}]  # type: ignore[index]
    assert via_topic.stats().total == 0  # one hop only: nothing came back around


def test_a_target_queue_too_small_fails_only_its_entry(client: Client, database_url: str) -> None:
    small = client.create_queue("small", max_message_bytes=1024)
    client.bus().put_rule("r", pattern={"source": ["shop"]}).add_target(small)
    results = client.bus().put_events(
        [{**ORDER, "detail": {"pad": "x" * 2000}}, {**ORDER, "detail": {"ok": True}}]
    )
    assert [r.error_code for r in results] == ["TargetDeliveryFailed", None]
    assert [e["detail"] for e in _take(small)] == [{"ok": True}]  # type: ignore[index]


def test_a_target_dead_letter_queue_takes_what_the_queue_cannot(client: Client) -> None:
    small = client.create_queue("small", max_message_bytes=1024)
    parking = client.create_queue("parking")
    client.bus().put_rule("r", pattern={"source": ["shop"]}).add_target(
        small, dead_letter_queue=parking
    )
    client.bus().put_events([{**ORDER, "detail": {"pad": "x" * 2000}}])
    [message] = parking.receive()
    assert message.attributes["ERROR_CODE"] == "MessageTooLong"
    assert message.attributes["RULE_ARN"].endswith("rule/r")  # type: ignore[union-attr]


def test_fifo_queue_targets_need_a_group(client: Client) -> None:
    fifo = client.create_queue("q.fifo")
    rule = client.bus().put_rule("r", pattern={"source": ["shop"]})
    with pytest.raises(eventyard.InvalidParameterValue, match="needs a group_id"):
        rule.add_target(fifo)
    rule.add_target(fifo, group_id="orders")
    client.bus().put_events([{**ORDER, "detail": {"i": i}} for i in range(3)])
    assert [e["detail"]["i"] for e in _take(fifo)] == [0, 1, 2]  # type: ignore[index]


def test_archive_keeps_matching_events(client: Client, database_url: str) -> None:
    bus = client.bus()
    everything = bus.create_archive("everything")
    big = bus.create_archive("big", pattern={"detail": {"total": [{"numeric": [">", 100]}]}})
    bus.put_events([{**ORDER, "detail": {"total": 5}}, {**ORDER, "detail": {"total": 500}}])
    assert client.store.get_archive("everything").event_count == 2
    assert client.store.get_archive("big").event_count == 1
    assert everything.retention_days == 0
    assert big.pattern is not None
    with pytest.raises(eventyard.ResourceAlreadyExists):
        bus.create_archive("big")
    with pytest.raises(eventyard.InvalidEventPattern):
        bus.create_archive("bad", pattern={"a": []})


def test_replay_puts_a_window_back_with_replay_name(client: Client, clock: FakeClock) -> None:
    bus = client.bus()
    queue = client.create_queue("q")
    bus.create_archive("all")
    for i in range(3):
        bus.put_events([{**ORDER, "detail": {"i": i}}])
        clock.advance(10)
    rule = bus.put_rule("r", pattern={"source": ["shop"]})
    rule.add_target(queue)
    start = clock.now - 25  # events 1 and 2 (at -20 and -10)
    replay = bus.start_replay("again", archive="all", start=start, end=clock.now)
    dispatcher = client.dispatcher()
    while dispatcher.run_once() and replay.progress().status != "COMPLETED":
        pass
    progress = replay.progress()
    assert (progress.status, progress.replayed) == ("COMPLETED", 2)
    events = _take(queue)
    assert [e["detail"]["i"] for e in events] == [1, 2]  # type: ignore[index]
    assert all(e["replay-name"] == "again" for e in events)  # type: ignore[index]
    assert client.store.get_archive("all").event_count == 3  # replays are not archived again
    with pytest.raises(eventyard.ResourceAlreadyExists):
        bus.start_replay("again", archive="all", start=start, end=clock.now)
    with pytest.raises(eventyard.InvalidParameterValue, match="before end"):
        bus.start_replay("bad", archive="all", start=clock.now, end=clock.now - 1)
    dispatcher.stop()


def test_scheduled_rules_fire_and_missed_ticks_fire_once(client: Client, clock: FakeClock) -> None:
    queue = client.create_queue("ticks")
    client.bus().put_rule("every-minute", schedule="rate(1 minute)").add_target(queue)
    dispatcher = client.dispatcher()
    dispatcher.run_once()
    assert queue.stats().total == 0
    clock.advance(60)
    dispatcher.run_once()
    [tick] = _take(queue)
    assert tick["detail-type"] == "Scheduled Event"  # type: ignore[index]
    assert tick["source"] == "aws.events"  # type: ignore[index]
    assert tick["resources"] == [client.bus().rule("every-minute").arn]  # type: ignore[index]
    clock.advance(600)  # the dispatcher was down for ten ticks
    dispatcher.run_once()
    dispatcher.run_once()
    assert len(_take(queue)) == 1
    other = client.dispatcher()  # a second dispatcher does not fire the same tick again
    other.run_once()
    assert queue.stats().total == 0
    dispatcher.stop()
    other.stop()


def test_dispatchers_of_several_processes_fire_each_tick_once(
    client: Client, database_url: str, clock: FakeClock
) -> None:
    """Four clients (as on four machines) run their dispatchers at the same moment."""
    queue = client.create_queue("ticks")
    client.bus().put_rule("every-minute", schedule="rate(1 minute)").add_target(queue)
    others = [eventyard.connect(database_url, durability="process", clock=clock) for _ in range(4)]
    dispatchers = [other.dispatcher() for other in others]
    for dispatcher in dispatchers:
        dispatcher.run_once()
    for _ in range(3):
        clock.advance(60)
        start = threading.Barrier(len(dispatchers))

        def fire(dispatcher: eventyard.Dispatcher, start: threading.Barrier = start) -> None:
            start.wait()
            dispatcher.run_once()

        threads = [threading.Thread(target=fire, args=(d,)) for d in dispatchers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert len(_take(queue)) == 3
    for dispatcher, other in zip(dispatchers, others, strict=True):
        dispatcher.stop()
        other.close()
