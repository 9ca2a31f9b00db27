"""Topic and subscription rows on SQLite (each function in the caller's transaction)."""

from __future__ import annotations

from eventyard.errors import (
    InvalidParameterValue,
    QueueDoesNotExist,
    SubscriptionAlreadyExists,
    SubscriptionDoesNotExist,
    TopicAlreadyExists,
    TopicDoesNotExist,
)
from eventyard.model.internal import function_queue
from eventyard.model.topic_config import SubscriptionConfig, TopicConfig
from eventyard.store.base import RecordChanged
from eventyard.store.records import Guard, SubscriptionRecord, TopicRecord
from eventyard.store.sql.dialect import Connection
from eventyard.store.sql.queues import find_queue
from eventyard.store.sql.rows import first_row

_TOPIC_COLUMNS = "id, name, config, created_at_ms, generation"
_SUBSCRIPTION_COLUMNS = (
    "s.id, s.topic_id, t.name, s.config, s.created_at_ms"
    " FROM eventyard_subscriptions s JOIN eventyard_topics t ON t.id = s.topic_id"
)


def _topic(row: tuple[int, str, str, int, int]) -> TopicRecord:
    return TopicRecord(row[0], row[1], TopicConfig.from_json(row[2]), row[3], row[4])


def _subscription(row: tuple[str, int, str, str, int]) -> SubscriptionRecord:
    return SubscriptionRecord(row[0], row[1], row[2], SubscriptionConfig.from_json(row[3]), row[4])


def find_topic(conn: Connection, name: str) -> TopicRecord | None:
    row = first_row(
        conn.execute(f"SELECT {_TOPIC_COLUMNS} FROM eventyard_topics WHERE name = ?", (name,))
    )
    return None if row is None else _topic(row)


def get_topic(conn: Connection, name: str) -> TopicRecord:
    record = find_topic(conn, name)
    if record is None:
        raise TopicDoesNotExist(f"topic {name!r} does not exist")
    return record


def list_topics(conn: Connection, prefix: str) -> list[TopicRecord]:
    rows = conn.execute(f"SELECT {_TOPIC_COLUMNS} FROM eventyard_topics ORDER BY name").fetchall()
    return [_topic(row) for row in rows if row[1].startswith(prefix)]


def create_topic(conn: Connection, name: str, config: TopicConfig, now_ms: int) -> TopicRecord:
    existing = find_topic(conn, name)
    if existing is not None:
        if existing.config == config:
            return existing
        raise TopicAlreadyExists(
            f"topic {name!r} already exists with other attributes "
            f"(content_based_deduplication={existing.config.content_based_deduplication})"
        )
    (topic_id,) = conn.execute(
        "INSERT INTO eventyard_topics (name, fifo, config, created_at_ms) VALUES (?, ?, ?, ?)"
        " RETURNING id",
        (name, int(config.fifo), config.to_json(), now_ms),
    ).fetchone()
    return TopicRecord(topic_id, name, config, now_ms, 1)


def delete_topic(conn: Connection, name: str) -> None:
    topic = get_topic(conn, name)
    conn.execute("DELETE FROM eventyard_subscriptions WHERE topic_id = ?", (topic.id,))
    conn.execute("DELETE FROM eventyard_topic_deduplication WHERE topic_id = ?", (topic.id,))
    conn.execute("DELETE FROM eventyard_topics WHERE id = ?", (topic.id,))


def _bump(conn: Connection, topic_id: int) -> None:
    conn.execute(
        "UPDATE eventyard_topics SET generation = generation + 1 WHERE id = ?", (topic_id,)
    )


def subscriptions_of(conn: Connection, topic_id: int) -> list[SubscriptionRecord]:
    rows = conn.execute(
        f"SELECT {_SUBSCRIPTION_COLUMNS} WHERE s.topic_id = ? ORDER BY s.created_at_ms, s.id",
        (topic_id,),
    ).fetchall()
    return [_subscription(row) for row in rows]


def list_subscriptions(conn: Connection, topic_name: str | None) -> list[SubscriptionRecord]:
    if topic_name is None:
        rows = conn.execute(
            f"SELECT {_SUBSCRIPTION_COLUMNS} ORDER BY t.name, s.created_at_ms, s.id"
        ).fetchall()
        return [_subscription(row) for row in rows]
    return subscriptions_of(conn, get_topic(conn, topic_name).id)


def get_subscription(conn: Connection, subscription_id: str) -> SubscriptionRecord:
    row = first_row(
        conn.execute(f"SELECT {_SUBSCRIPTION_COLUMNS} WHERE s.id = ?", (subscription_id,))
    )
    if row is None:
        raise SubscriptionDoesNotExist(f"subscription {subscription_id!r} does not exist")
    return _subscription(row)


def subscribe(
    conn: Connection,
    topic: TopicRecord,
    subscription_id: str,
    config: SubscriptionConfig,
    now_ms: int,
) -> SubscriptionRecord:
    current = find_topic(conn, topic.name)
    if current is None or current.id != topic.id:
        raise TopicDoesNotExist(f"topic {topic.name!r} does not exist")
    if config.protocol == "function" and find_queue(conn, function_queue(config.endpoint)) is None:
        raise InvalidParameterValue(
            f"function {config.endpoint!r} is not known to this database; declare it in an App "
            "and apply the app first"
        )
    for name in (config.endpoint if config.protocol == "sqs" else None, config.dead_letter_queue):
        if name is None:
            continue
        queue = find_queue(conn, name)
        if queue is None:
            raise QueueDoesNotExist(f"queue {name!r} does not exist; create it first")
        if queue.fifo != topic.fifo:
            raise InvalidParameterValue(
                f"queue {name!r} is {'FIFO' if queue.fifo else 'standard'}; a "
                f"{'FIFO' if topic.fifo else 'standard'} topic delivers only to "
                f"{'FIFO' if topic.fifo else 'standard'} queues"
            )
    for existing in subscriptions_of(conn, topic.id):
        same_endpoint = (existing.config.protocol, existing.config.endpoint) == (
            config.protocol,
            config.endpoint,
        )
        if not same_endpoint:
            continue
        if existing.config == config:
            return existing
        raise SubscriptionAlreadyExists(
            f"{config.endpoint!r} is subscribed to topic {topic.name!r} already, with other "
            f"attributes ({', '.join(existing.config.differences(config))}); change them with "
            "set_attributes or unsubscribe first"
        )
    conn.execute(
        "INSERT INTO eventyard_subscriptions (id, topic_id, protocol, endpoint, config,"
        " dead_letter_queue, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            subscription_id,
            topic.id,
            config.protocol,
            config.endpoint,
            config.to_json(),
            config.dead_letter_queue,
            now_ms,
        ),
    )
    _bump(conn, topic.id)
    return SubscriptionRecord(subscription_id, topic.id, topic.name, config, now_ms)


def update_subscription(
    conn: Connection, subscription_id: str, config: SubscriptionConfig
) -> SubscriptionRecord:
    existing = get_subscription(conn, subscription_id)
    if config.dead_letter_queue is not None:
        queue = find_queue(conn, config.dead_letter_queue)
        if queue is None:
            raise QueueDoesNotExist(
                f"queue {config.dead_letter_queue!r} does not exist; create it first"
            )
    conn.execute(
        "UPDATE eventyard_subscriptions SET config = ?, dead_letter_queue = ? WHERE id = ?",
        (config.to_json(), config.dead_letter_queue, subscription_id),
    )
    _bump(conn, existing.topic_id)
    return SubscriptionRecord(
        existing.id, existing.topic_id, existing.topic_name, config, existing.created_at_ms
    )


def unsubscribe(conn: Connection, subscription_id: str) -> None:
    existing = get_subscription(conn, subscription_id)
    conn.execute("DELETE FROM eventyard_subscriptions WHERE id = ?", (subscription_id,))
    _bump(conn, existing.topic_id)


def subscribers_of_queue(conn: Connection, queue_name: str) -> list[str]:
    """Topics that deliver to the queue, or use it as a subscription dead-letter queue."""
    rows = conn.execute(
        "SELECT DISTINCT t.name FROM eventyard_subscriptions s JOIN eventyard_topics t"
        " ON t.id = s.topic_id WHERE (s.protocol = 'sqs' AND s.endpoint = ?)"
        " OR s.dead_letter_queue = ? ORDER BY t.name",
        (queue_name, queue_name),
    ).fetchall()
    return [row[0] for row in rows]


def check_guard(conn: Connection, guard: Guard) -> None:
    row = first_row(
        conn.execute("SELECT generation FROM eventyard_topics WHERE id = ?", (guard.record_id,))
    )
    if row is None:
        raise TopicDoesNotExist(f"topic {guard.name!r} does not exist (it was deleted)")
    if row[0] != guard.generation:
        raise RecordChanged(guard.name)
