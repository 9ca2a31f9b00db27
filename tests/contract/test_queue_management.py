"""Queue create / get / list / delete / set_attributes, on every backend."""

from __future__ import annotations

import pytest
from tests_support import FakeClock, count_rows

import eventyard
from eventyard import Client

pytestmark = pytest.mark.usefixtures("backend")


def test_create_returns_a_queue_with_default_attributes(client: Client) -> None:
    queue = client.create_queue("orders")
    assert queue.name == "orders"
    assert not queue.fifo
    assert queue.attributes.visibility_timeout == 30
    assert queue.arn == "arn:aws:sqs:us-east-1:000000000000:orders"


def test_create_with_same_attributes_is_idempotent(client: Client) -> None:
    first = client.create_queue("orders", visibility_timeout=10)
    second = client.create_queue("orders", visibility_timeout=10)
    assert first == second
    assert client.list_queues() == ["orders"]


def test_create_with_other_attributes_is_an_error_naming_them(client: Client) -> None:
    client.create_queue("orders", visibility_timeout=10)
    with pytest.raises(eventyard.QueueAlreadyExists, match="visibility_timeout"):
        client.create_queue("orders", visibility_timeout=11)
    with pytest.raises(eventyard.QueueAlreadyExists, match="delay_seconds"):
        client.create_queue("orders", visibility_timeout=10, delay_seconds=1)


def test_get_and_list(client: Client) -> None:
    for name in ["b", "a", "ab", "B"]:
        client.create_queue(name)
    assert client.list_queues() == ["B", "a", "ab", "b"]
    assert client.list_queues("a") == ["a", "ab"]
    assert client.list_queues("A") == []  # prefixes are case-sensitive
    assert client.get_queue("ab").name == "ab"
    assert client.get_queue("arn:aws:sqs:us-east-1:000000000000:ab").name == "ab"
    with pytest.raises(eventyard.QueueDoesNotExist, match="'nope' does not exist"):
        client.get_queue("nope")
    with pytest.raises(eventyard.QueueDoesNotExist):
        client.get_queue("bad name!")


def test_list_prefix_with_like_wildcards_is_literal(client: Client) -> None:
    client.create_queue("a_b")
    client.create_queue("axb")
    assert client.list_queues("a_") == ["a_b"]


def test_delete_removes_queue_and_messages(client: Client, database_url: str) -> None:
    queue = client.create_queue("orders")
    queue.send("x")
    client.delete_queue("orders")
    assert client.list_queues() == []
    assert count_rows(database_url, "eventyard_messages") == 0
    with pytest.raises(eventyard.QueueDoesNotExist):
        queue.send("y")
    with pytest.raises(eventyard.QueueDoesNotExist):
        queue.receive()
    with pytest.raises(eventyard.QueueDoesNotExist):
        client.delete_queue("orders")


def test_recreate_within_60_seconds_of_delete_is_an_error(client: Client, clock: FakeClock) -> None:
    client.create_queue("orders")
    client.delete_queue("orders")
    clock.advance(59)
    with pytest.raises(eventyard.QueueDeletedRecently, match="again in 1 s"):
        client.create_queue("orders")
    clock.advance(1)
    assert client.create_queue("orders").name == "orders"


def test_a_handle_follows_a_recreated_queue_of_the_same_name(
    client: Client, clock: FakeClock
) -> None:
    old = client.create_queue("orders")
    client.delete_queue("orders")
    clock.advance(61)
    client.create_queue("orders")
    old.send("after")
    assert [m.body for m in client.get_queue("orders").receive()] == ["after"]


def test_dead_letter_queue_must_exist(client: Client) -> None:
    with pytest.raises(eventyard.QueueDoesNotExist, match="dead_letter_queue 'dlq'"):
        client.create_queue("orders", dead_letter_queue="dlq", max_receive_count=3)
    assert client.list_queues() == []


def test_dead_letter_queue_type_must_match(client: Client) -> None:
    client.create_queue("dlq")
    client.create_queue("dlq.fifo")
    with pytest.raises(eventyard.InvalidParameterValue, match="must be a FIFO queue"):
        client.create_queue("jobs.fifo", dead_letter_queue="dlq", max_receive_count=3)
    with pytest.raises(eventyard.InvalidParameterValue, match="must be a standard queue"):
        client.create_queue("jobs", dead_letter_queue="dlq.fifo", max_receive_count=3)
    assert client.list_queues() == ["dlq", "dlq.fifo"]


def test_a_queue_cannot_be_its_own_dead_letter_queue(client: Client) -> None:
    client.create_queue("orders")
    with pytest.raises(eventyard.InvalidParameterValue, match="names the queue itself"):
        client.get_queue("orders").set_attributes(dead_letter_queue="orders", max_receive_count=2)


def test_redrive_allow_policy_is_enforced(client: Client) -> None:
    client.create_queue("closed-dlq", redrive_allow_policy="denyAll")
    client.create_queue("picky-dlq", redrive_allow_policy=["allowed"])
    with pytest.raises(eventyard.RedriveNotAllowed, match="denyAll"):
        client.create_queue("orders", dead_letter_queue="closed-dlq", max_receive_count=3)
    with pytest.raises(eventyard.RedriveNotAllowed, match="byQueue: allowed"):
        client.create_queue("other", dead_letter_queue="picky-dlq", max_receive_count=3)
    assert client.create_queue("allowed", dead_letter_queue="picky-dlq", max_receive_count=3)


def test_a_dead_letter_queue_in_use_cannot_be_deleted(client: Client) -> None:
    client.create_queue("dlq")
    client.create_queue("orders", dead_letter_queue="dlq", max_receive_count=3)
    with pytest.raises(eventyard.QueueInUse, match="dead-letter queue of 'orders'"):
        client.delete_queue("dlq")
    client.get_queue("orders").set_attributes(dead_letter_queue=None)
    client.delete_queue("dlq")
    assert client.dead_letter_source_queues("orders") == []


def test_dead_letter_source_queues(client: Client) -> None:
    client.create_queue("dlq")
    client.create_queue("a", dead_letter_queue="dlq", max_receive_count=3)
    client.create_queue("b", dead_letter_queue="dlq", max_receive_count=5)
    assert client.dead_letter_source_queues("dlq") == ["a", "b"]


def test_set_attributes_changes_and_validates(client: Client) -> None:
    queue = client.create_queue("orders")
    assert queue.set_attributes(visibility_timeout=5).visibility_timeout == 5
    assert client.get_queue("orders").attributes.visibility_timeout == 5
    with pytest.raises(eventyard.InvalidParameterValue, match="visibility_timeout"):
        queue.set_attributes(visibility_timeout=-1)
    assert client.get_queue("orders").attributes.visibility_timeout == 5


def test_attribute_changes_reach_other_handles(client: Client) -> None:
    queue = client.create_queue("orders")
    other = client.get_queue("orders")
    queue.set_attributes(delay_seconds=10)
    other.send("x")  # the stale handle re-reads the queue and applies the new delay
    assert other.stats().delayed == 1


def test_bad_queue_names_create_nothing(client: Client) -> None:
    for bad in ["", "x" * 81, "a b", "a.b"]:
        with pytest.raises(eventyard.InvalidParameterValue):
            client.create_queue(bad)
    assert client.list_queues() == []
