"""Every bad input gets a specific error naming field, value and limit, and writes nothing."""

from __future__ import annotations

import pytest
from tests_support import count_rows

import eventyard
from eventyard import Client


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"visibility_timeout": 43_201}, eventyard.InvalidParameterValue, "0 to 43200, got 43201"),
        ({"visibility_timeout": -1}, eventyard.InvalidParameterValue, "got -1"),
        ({"delay_seconds": 901}, eventyard.InvalidParameterValue, "0 to 900"),
        ({"retention_seconds": 59}, eventyard.InvalidParameterValue, "60 to 1209600"),
        ({"retention_seconds": 1_209_601}, eventyard.InvalidParameterValue, "60 to 1209600"),
        ({"max_message_bytes": 1_023}, eventyard.InvalidParameterValue, "1024 to 1048576"),
        ({"max_message_bytes": 1_048_577}, eventyard.InvalidParameterValue, "1024 to 1048576"),
        ({"receive_wait_seconds": 21}, eventyard.InvalidParameterValue, "0 to 20"),
        (
            {"dead_letter_queue": "d", "max_receive_count": 0},
            eventyard.InvalidParameterValue,
            "max_receive_count must be from 1 to 1000",
        ),
        (
            {"dead_letter_queue": "d", "max_receive_count": 1001},
            eventyard.InvalidParameterValue,
            "1 to 1000",
        ),
        ({"visibility_timeout": "30"}, eventyard.InvalidParameterValue, "whole number"),
        ({"content_based_deduplication": True}, eventyard.InvalidParameterValue, "FIFO"),
    ],
)
def test_bad_queue_attributes(
    client: Client, database_url: str, kwargs: dict[str, object], error: type, message: str
) -> None:
    client.create_queue("d")
    with pytest.raises(error, match=message):
        client.create_queue("q", **kwargs)  # type: ignore[arg-type]
    assert client.list_queues() == ["d"]
    assert count_rows(database_url, "eventyard_queues", "name NOT LIKE '%:%'") == 1


def test_message_too_long_counts_attributes(client: Client, database_url: str) -> None:
    queue = client.create_queue("q", max_message_bytes=1024)
    queue.send("x" * 1024)
    with pytest.raises(
        eventyard.MessageTooLong, match=r"1025 bytes \(body 1025 .*max_message_bytes is 1024"
    ):
        queue.send("x" * 1025)
    with pytest.raises(eventyard.MessageTooLong, match=r"body 1020 \+ attributes 11"):
        queue.send("x" * 1020, attributes={"abcd": "e"})
    assert count_rows(database_url, "eventyard_messages") == 1


def test_default_max_size_is_1_mib(client: Client) -> None:
    queue = client.create_queue("q")
    queue.send("x" * 1_048_576)
    with pytest.raises(eventyard.MessageTooLong, match="1048577 bytes"):
        queue.send("x" * 1_048_577)


@pytest.mark.parametrize(
    ("send_kwargs", "error", "message"),
    [
        ({"body": "bad\x00"}, eventyard.InvalidMessageContents, "U\\+0000 at position 3"),
        ({"body": ""}, eventyard.InvalidParameterValue, "must not be empty"),
        ({"body": object()}, eventyard.InvalidParameterValue, "not str, bytes or JSON"),
        (
            {"body": "x", "attributes": {f"a{i}": "v" for i in range(11)}},
            eventyard.InvalidParameterValue,
            "at most 10 attributes",
        ),
        ({"body": "x", "attributes": {"a": ""}}, eventyard.InvalidAttributeValue, "non-empty"),
        ({"body": "x", "attributes": {"AWS.a": "v"}}, eventyard.InvalidAttributeName, "reserved"),
        ({"body": "x", "delay_seconds": 901}, eventyard.InvalidParameterValue, "0 to 900"),
        ({"body": "x", "group_id": "g"}, eventyard.InvalidParameterValue, "only to FIFO"),
        ({"body": "x", "deduplication_id": "d"}, eventyard.InvalidParameterValue, "only to FIFO"),
    ],
)
def test_bad_sends(
    client: Client, database_url: str, send_kwargs: dict[str, object], error: type, message: str
) -> None:
    queue = client.create_queue("q")
    options = dict(send_kwargs)  # the parameters are shared by both backends' runs
    body = options.pop("body")
    with pytest.raises(error, match=message):
        queue.send(body, **options)  # type: ignore[arg-type]
    assert count_rows(database_url, "eventyard_messages") == 0


@pytest.mark.parametrize(
    ("receive_kwargs", "message"),
    [
        ({"max_messages": 0}, "max_messages must be from 1 to 10000"),
        ({"max_messages": 10_001}, "max_messages must be from 1 to 10000"),
        ({"wait_seconds": 21}, "wait_seconds must be from 0 to 20"),
        ({"wait_seconds": -1}, "wait_seconds must be from 0 to 20"),
        ({"visibility_timeout": 43_201}, "visibility_timeout must be from 0 to 43200"),
    ],
)
def test_bad_receives(client: Client, receive_kwargs: dict[str, object], message: str) -> None:
    queue = client.create_queue("q")
    queue.send("x")
    with pytest.raises(eventyard.InvalidParameterValue, match=message):
        queue.receive(**receive_kwargs)  # type: ignore[arg-type]
    assert queue.stats().visible == 1


def test_receiving_from_or_deleting_a_missing_queue(client: Client) -> None:
    queue = client.create_queue("q")
    queue.send("x")
    [message] = queue.receive()
    client.delete_queue("q")
    with pytest.raises(eventyard.QueueDoesNotExist, match="'q' does not exist"):
        queue.receive()
    with pytest.raises(eventyard.QueueDoesNotExist):
        queue.receive(wait_seconds=1)
    with pytest.raises(eventyard.QueueDoesNotExist):
        queue.delete(message.receipt_handle)
    with pytest.raises(eventyard.QueueDoesNotExist):
        queue.stats()
    with pytest.raises(eventyard.QueueDoesNotExist):
        queue.purge()
    with pytest.raises(eventyard.QueueDoesNotExist):
        client.delete_queue("q")


def test_unsupported_database_urls() -> None:
    for url in [
        "sqlite:///:memory:",
        "sqlite://host/x.db",
        "mysql://x",
        "postgresql://u@h/db?schema=1bad",
        "postgresql://u@h/db?pool_size=0",
    ]:
        with pytest.raises(eventyard.UnsupportedDatabaseUrl):
            eventyard.connect(url)


def test_bad_durability(tmp_path: object) -> None:
    with pytest.raises(eventyard.InvalidParameterValue, match="'full' or 'process'"):
        eventyard.connect(f"sqlite:///{tmp_path}/x.db", durability="sometimes")  # type: ignore[arg-type]
