"""The transactional outbox: the application's own writes and its messages, together.

``with client.transaction() as tx:`` opens one database transaction.
``tx.execute`` runs the application's SQL on it (its tables live in the same
database file), and ``tx.send`` / ``tx.publish`` / ``tx.send_batch`` /
``tx.publish_batch`` / ``tx.put_events`` queue messages and events in it.
Everything commits together or not at all, and nothing is visible to any
consumer before the commit: an
order is never saved without its event, nor an event sent for an order that
was not saved. No relay process is needed — the queues are in the same
database as the data.

Inside a transaction the batch calls are all or nothing: an entry that fails
(too large, a bad attribute, ...) raises its error, and the block's rollback
takes the other entries and the application's writes with it. Outside one,
`Queue.send_batch` and friends report per entry, as AWS does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from eventyard.broker.batch import BatchResult, SendResult
from eventyard.store.sql.dialect import Connection, Cursor
from eventyard.store.sql.messages import lock_named

if TYPE_CHECKING:
    from eventyard.broker.bus import EventBus, PutEventsResult
    from eventyard.broker.client import Client
    from eventyard.broker.queue import Queue
    from eventyard.broker.topic import PublishResult, Topic


class Transaction:
    """One open transaction; use it only inside its ``with`` block, on its thread."""

    def __init__(self, client: Client, connection: Connection) -> None:
        self._client = client
        self._connection = connection
        self._queues: dict[str, Queue] = {}
        self._topics: dict[str, Topic] = {}

    @property
    def connection(self) -> Connection:
        """The connection of the transaction (do not commit or roll it back): a
        `sqlite3.Connection` on SQLite; on PostgreSQL a wrapper of the psycopg connection
        (its ``raw`` attribute) that takes the same ``?`` placeholders."""
        return self._connection

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``: for the statements that must differ."""
        return self._connection.dialect.name

    def lock(self, name: str) -> None:
        """Hold a lock on ``name`` until this transaction ends: transactions that lock
        the same name run one after the other, across processes and machines.

        On PostgreSQL an advisory lock; on SQLite nothing more is needed (a transaction
        holds the database's only write lock). For work that must not run twice at once,
        e.g. ``CREATE TABLE IF NOT EXISTS`` from several machines starting together.
        """
        lock_named(self._connection, name)

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Cursor:
        """Run one SQL statement of the application in this transaction.

        Placeholders are ``?`` (``?1``, ``?2`` ... to use a value twice) on both backends.
        """
        return self._connection.execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> Cursor:
        return self._connection.executemany(sql, parameters)

    def _queue(self, queue: Queue | str) -> Queue:
        if not isinstance(queue, str):
            return queue
        if queue not in self._queues:
            self._queues[queue] = self._client.get_queue(queue)
        return self._queues[queue]

    def _topic(self, topic: Topic | str) -> Topic:
        if not isinstance(topic, str):
            return topic
        if topic not in self._topics:
            self._topics[topic] = self._client.get_topic(topic)
        return self._topics[topic]

    def send(self, queue: Queue | str, body: Any, **options: Any) -> str:
        """`Queue.send` inside the transaction (same options)."""
        return self._queue(queue).send(body, **options)

    def send_batch(self, queue: Queue | str, entries: Iterable[Any]) -> BatchResult[SendResult]:
        """`Queue.send_batch` inside the transaction; a failed entry raises its error."""
        result = self._queue(queue).send_batch(entries)
        result.raise_for_errors()
        return result

    def publish(self, topic: Topic | str, message: Any, **options: Any) -> str:
        """`Topic.publish` inside the transaction (same options)."""
        return self._topic(topic).publish(message, **options)

    def publish_batch(
        self, topic: Topic | str, entries: Iterable[Any]
    ) -> BatchResult[PublishResult]:
        """`Topic.publish_batch` inside the transaction; a failed entry raises its error."""
        result = self._topic(topic).publish_batch(entries)
        result.raise_for_errors()
        return result

    def put_events(
        self, entries: Iterable[Mapping[str, Any]], bus: EventBus | str = "default"
    ) -> BatchResult[PutEventsResult]:
        """`EventBus.put_events` inside the transaction (the default bus unless named);
        a failed entry raises its error."""
        handle = self._client.bus(bus) if isinstance(bus, str) else bus
        result = handle.put_events(entries)
        result.raise_for_errors()
        return result
