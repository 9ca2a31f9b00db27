"""Topics: management, subscriptions, atomic fan-out, envelopes, filters, FIFO topics."""

from __future__ import annotations

import json

import pytest
from tests_support import FakeClock, count_rows

import eventyard
from eventyard import Client


def _bodies(queue: eventyard.Queue) -> list[object]:
    messages = queue.receive(10)
    for message in messages:
        queue.delete(message)
    return [m.body for m in messages]


def test_create_get_list_delete(client: Client) -> None:
    topic = client.create_topic("NewOrderEvent")
    assert topic.arn == "arn:aws:sns:us-east-1:000000000000:NewOrderEvent"
    assert not topic.fifo
    assert client.create_topic("NewOrderEvent") == topic
    client.create_topic("b.fifo")
    assert client.list_topics() == ["NewOrderEvent", "b.fifo"]
    assert client.get_topic(topic.arn).name == "NewOrderEvent"
    client.delete_topic("NewOrderEvent")
    with pytest.raises(eventyard.TopicDoesNotExist, match="'NewOrderEvent' does not exist"):
        client.get_topic("NewOrderEvent")


def test_topic_attributes_are_checked(client: Client) -> None:
    with pytest.raises(eventyard.InvalidParameterValue, match="letters, digits"):
        client.create_topic("bad name")
    with pytest.raises(eventyard.InvalidParameterValue, match="only to FIFO topics"):
        client.create_topic("t", content_based_deduplication=True)
    with pytest.raises(eventyard.InvalidParameterValue, match="fifo=True"):
        client.create_topic("t", fifo=True)
    client.create_topic("f.fifo", content_based_deduplication=True)
    with pytest.raises(eventyard.TopicAlreadyExists):
        client.create_topic("f.fifo", content_based_deduplication=False)
    assert client.list_topics() == ["f.fifo"]


def test_fan_out_to_every_subscribed_queue_with_the_sns_envelope(
    client: Client, clock: FakeClock
) -> None:
    topic = client.create_topic("NewOrderEvent")
    inventory = client.create_queue("InventoryQueue")
    shipping = client.create_queue("ShippingQueue")
    first = topic.subscribe(inventory)
    topic.subscribe("ShippingQueue")
    message_id = topic.publish(
        {"order_id": 7}, subject="New order", attributes={"store": "example_corp", "total": 12}
    )
    [copy] = inventory.receive()
    envelope = copy.body
    assert list(envelope) == [
        "Type",
        "MessageId",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
        "UnsubscribeURL",
        "MessageAttributes",
    ]
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == message_id
    assert envelope["TopicArn"] == topic.arn
    assert envelope["Subject"] == "New order"
    assert json.loads(envelope["Message"]) == {"order_id": 7}
    assert envelope["Timestamp"].endswith("Z")
    assert envelope["MessageAttributes"] == {
        "store": {"Type": "String", "Value": "example_corp"},
        "total": {"Type": "Number", "Value": "12"},
    }
    assert first.arn in envelope["UnsubscribeURL"]
    assert copy.attributes == {}  # without raw delivery, attributes travel in the envelope
    assert copy.message_id != message_id  # the queue's own id
    assert len(shipping.receive()) == 1


def test_raw_message_delivery(client: Client) -> None:
    topic = client.create_topic("t")
    queue = client.create_queue("q")
    topic.subscribe(queue, raw=True)
    topic.publish({"order_id": 7}, attributes={"kind": "book"})
    topic.publish("plain text")
    messages = queue.receive(10)
    assert sorted(repr(m.body) for m in messages) == sorted([repr({"order_id": 7}), "'plain text'"])
    by_kind = {type(m.body): m for m in messages}
    assert by_kind[dict].attributes == {"kind": "book"}


def test_publish_is_atomic_across_subscribed_queues(client: Client, database_url: str) -> None:
    topic = client.create_topic("t")
    big_enough = client.create_queue("big")
    too_small = client.create_queue("small", max_message_bytes=1024)
    topic.subscribe(big_enough)
    topic.subscribe(too_small)
    with pytest.raises(eventyard.MessageTooLong, match="queue 'small'"):
        topic.publish("x" * 2000)
    assert count_rows(database_url, "eventyard_messages") == 0  # not even the big queue


def test_a_subscription_dead_letter_queue_takes_what_its_queue_cannot(client: Client) -> None:
    topic = client.create_topic("t")
    small = client.create_queue("small", max_message_bytes=1024)
    parking = client.create_queue("parking")
    topic.subscribe(small, dead_letter_queue=parking)
    topic.publish("x" * 2000)
    assert small.stats().total == 0
    assert parking.stats().visible == 1


def test_filter_policy_on_attributes(client: Client) -> None:
    topic = client.create_topic("t")
    big = client.create_queue("big")
    books = client.create_queue("books")
    topic.subscribe(big, filter_policy={"total": [{"numeric": [">", 1000]}]})
    topic.subscribe(books, filter_policy={"kind": ["book"]}, raw=True)
    topic.publish("a", attributes={"total": 1500, "kind": "lamp"})
    topic.publish("b", attributes={"total": 10, "kind": "book"})
    topic.publish("c")
    assert [json.loads(json.dumps(b))["Message"] for b in _bodies(big)] == ["a"]  # type: ignore[index]
    assert _bodies(books) == ["b"]


def test_filter_policy_on_the_body(client: Client) -> None:
    topic = client.create_topic("t")
    queue = client.create_queue("q")
    topic.subscribe(
        queue,
        filter_policy={"order": {"total": [{"numeric": [">", 1000]}]}},
        filter_policy_scope="MessageBody",
        raw=True,
    )
    topic.publish({"order": {"total": 5000}})
    topic.publish({"order": {"total": 5}})
    topic.publish("not json")
    assert _bodies(queue) == [{"order": {"total": 5000}}]


def test_invalid_filter_policy_subscribes_nothing(client: Client) -> None:
    topic = client.create_topic("t")
    queue = client.create_queue("q")
    with pytest.raises(eventyard.InvalidFilterPolicy):
        topic.subscribe(queue, filter_policy={"a": []})
    with pytest.raises(eventyard.InvalidFilterPolicy):
        topic.subscribe(queue, filter_policy={f"k{i}": ["v"] for i in range(6)})
    with pytest.raises(eventyard.InvalidParameterValue, match="filter_policy_scope"):
        topic.subscribe(queue, filter_policy_scope="Headers")
    assert topic.subscriptions() == []


def test_subscribe_rules(client: Client) -> None:
    topic = client.create_topic("t")
    fifo_topic = client.create_topic("f.fifo")
    queue = client.create_queue("q")
    fifo_queue = client.create_queue("q.fifo")
    with pytest.raises(eventyard.QueueDoesNotExist, match="'missing' does not exist"):
        topic.subscribe("missing")
    with pytest.raises(eventyard.InvalidParameterValue, match="standard topic delivers only"):
        topic.subscribe(fifo_queue)
    with pytest.raises(eventyard.InvalidParameterValue, match="FIFO topic delivers only"):
        fifo_topic.subscribe(queue)
    with pytest.raises(eventyard.InvalidParameterValue, match="http or https"):
        topic.subscribe("ftp://example.com/x")
    first = topic.subscribe(queue, raw=True)
    assert topic.subscribe("arn:aws:sqs:us-east-1:000000000000:q", raw=True) == first
    with pytest.raises(eventyard.SubscriptionAlreadyExists, match="raw_message_delivery"):
        topic.subscribe(queue, raw=False)
    assert [s.endpoint for s in topic.subscriptions()] == ["q"]
    assert [s.topic for s in client.list_subscriptions()] == ["t"]


def test_unsubscribe_and_cached_routes(client: Client) -> None:
    topic = client.create_topic("t")
    other_handle = client.get_topic("t")
    a = client.create_queue("a")
    b = client.create_queue("b")
    subscription = topic.subscribe(a)
    other_handle.publish("1")  # caches the routes: [a]
    topic.subscribe(b)
    other_handle.publish("2")  # sees the new subscription at commit and re-reads
    assert a.stats().visible == 2
    assert b.stats().visible == 1
    client.unsubscribe(subscription.arn)
    other_handle.publish("3")
    assert a.stats().visible == 2
    assert b.stats().visible == 2
    with pytest.raises(eventyard.SubscriptionDoesNotExist):
        subscription.unsubscribe()


def test_subscription_attributes_can_change(client: Client) -> None:
    topic = client.create_topic("t")
    queue = client.create_queue("q")
    subscription = topic.subscribe(queue)
    subscription.set_attributes(raw=True, filter_policy={"kind": ["book"]})
    assert subscription.filter_policy == {"kind": ["book"]}
    topic.publish("lamp", attributes={"kind": "lamp"})
    topic.publish("book", attributes={"kind": "book"})
    assert _bodies(queue) == ["book"]
    with pytest.raises(eventyard.InvalidParameterValue, match="unknown subscription attribute"):
        subscription.set_attributes(colour="red")


def test_a_subscribed_queue_cannot_be_deleted(client: Client) -> None:
    topic = client.create_topic("t")
    queue = client.create_queue("q")
    topic.subscribe(queue)
    with pytest.raises(eventyard.QueueInUse, match="topic"):
        client.delete_queue("q")
    client.delete_topic("t")
    client.delete_queue("q")


def test_publish_limits_and_bad_input(client: Client, database_url: str) -> None:
    topic = client.create_topic("t")
    queue = client.create_queue("q")
    topic.subscribe(queue)
    topic.publish("x" * 262_144)
    with pytest.raises(eventyard.MessageTooLong, match="262145 bytes"):
        topic.publish("x" * 262_145)
    with pytest.raises(eventyard.InvalidParameterValue, match="no binary"):
        topic.publish(b"bytes")
    with pytest.raises(eventyard.InvalidParameterValue, match="less than 100"):
        topic.publish("x", subject="s" * 100)
    with pytest.raises(eventyard.InvalidParameterValue, match="line break"):
        topic.publish("x", subject="two\nlines")
    with pytest.raises(eventyard.InvalidParameterValue, match="only to FIFO topics"):
        topic.publish("x", group_id="g")
    with pytest.raises(eventyard.InvalidAttributeValue, match=r"String\.Array"):
        topic.publish("x", attributes={"tags": {"DataType": "String.Array", "StringValue": "nope"}})
    assert count_rows(database_url, "eventyard_messages") == 1


def test_publish_batch(client: Client, database_url: str) -> None:
    topic = client.create_topic("t")
    queue = client.create_queue("q")
    topic.subscribe(queue, raw=True)
    results = topic.publish_batch(
        ["a", {"message": "b", "id": "two", "subject": "S"}, {"message": "", "id": "bad"}]
    )
    assert [r.id for r in results] == ["0", "two", "bad"]
    assert [r.ok for r in results] == [True, True, False]
    assert sorted(_bodies(queue)) == ["a", "b"]  # type: ignore[type-var]
    with pytest.raises(eventyard.TooManyEntriesInBatch):
        topic.publish_batch([str(i) for i in range(11)])
    with pytest.raises(eventyard.BatchEntryIdsNotDistinct):
        topic.publish_batch([{"message": "a", "id": "x"}, {"message": "b", "id": "x"}])
    with pytest.raises(eventyard.BatchRequestTooLong, match="256 KiB"):
        topic.publish_batch(["x" * 100_000] * 3)
    assert count_rows(database_url, "eventyard_messages") == 0


def test_fifo_topic_into_fifo_queues_keeps_group_order(client: Client, clock: FakeClock) -> None:
    topic = client.create_topic("orders.fifo", content_based_deduplication=True)
    a = client.create_queue("a.fifo")
    b = client.create_queue("b.fifo")
    topic.subscribe(a, raw=True)
    topic.subscribe(b)
    results = [topic.publish(f"m{i}", group_id="g1") for i in range(5)]
    assert len(set(results)) == 5
    received = [m.body for m in a.receive(10)]
    assert received == [f"m{i}" for i in range(5)]
    envelopes = b.receive(10)
    assert [json.loads(json.dumps(m.body))["Message"] for m in envelopes] == received
    sequences = [m.body["SequenceNumber"] for m in envelopes]
    assert sequences == sorted(sequences)
    assert envelopes[0].group_id == "g1"


def test_fifo_topic_deduplicates_for_five_minutes(client: Client, clock: FakeClock) -> None:
    topic = client.create_topic("orders.fifo")
    queue = client.create_queue("q.fifo")
    topic.subscribe(queue, raw=True)
    with pytest.raises(eventyard.InvalidParameterValue, match="group_id is required"):
        topic.publish("x", deduplication_id="d")
    with pytest.raises(eventyard.InvalidParameterValue, match="deduplication_id is required"):
        topic.publish("x", group_id="g")
    first = topic.publish("x", group_id="g", dedup_id="d1")
    batch = topic.publish_batch([{"message": "y", "group_id": "g", "deduplication_id": "d1"}])
    assert batch[0].duplicate
    assert batch[0].message_id == first
    assert queue.stats().visible == 1
    clock.advance(300)
    topic.publish("x", group_id="g", dedup_id="d1")
    assert queue.stats().visible == 2


def test_a_topic_without_subscriptions_accepts_messages(client: Client) -> None:
    topic = client.create_topic("t")
    assert topic.publish("into the void")
