"""`connect` and `Client`: the entry point of the Python API.

A client owns one store (one database) and hands out `Queue` handles. It
holds what every call needs: the clock, the sender id written into each
message, and the identity (region, account) used in ARNs.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from eventyard.broker.batch import BatchResult, MessageIdResult
from eventyard.broker.batch import message_ids as message_ids_of
from eventyard.broker.bus import EventBus, PutEventsResult
from eventyard.broker.dispatcher import (
    Dispatcher,
    delivery_queue,
    webhook_record,
)
from eventyard.broker.queue import Queue
from eventyard.broker.redrive import STALE_AFTER_MS, RedriveProgress, RedriveTask
from eventyard.broker.subscription import Subscription
from eventyard.broker.topic import Topic
from eventyard.broker.transaction import Transaction
from eventyard.errors import (
    BusDoesNotExist,
    InvalidParameterValue,
    QueueDoesNotExist,
    TopicDoesNotExist,
)
from eventyard.model import limits
from eventyard.model.arn import Identity
from eventyard.model.bus_config import check_bus_name
from eventyard.model.internal import is_internal_queue
from eventyard.model.names import check_int_range, check_queue_name, queue_name_from
from eventyard.model.queue_config import queue_config_for
from eventyard.model.stats import FunctionStats, quantile
from eventyard.model.topic_config import check_topic_name, topic_config_for
from eventyard.store import Durability, Store, open_store
from eventyard.store.records import (
    FailureRecord,
    OutgoingMessage,
    QueueRecord,
    SubscriptionRecord,
)


class Client:
    """Queues in one database. Thread-safe; use one per process and share it."""

    def __init__(
        self,
        store: Store,
        *,
        identity: Identity | None = None,
        sender_id: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.identity = identity or Identity()
        self.sender_id = sender_id or f"{socket.gethostname()}:{os.getpid()}"
        self._clock = clock
        self._redrives: list[RedriveTask] = []
        self._lock = threading.Lock()
        self._delivery_queue: QueueRecord | None = None
        self._dispatchers: list[Dispatcher] = []

    @property
    def url(self) -> str:
        return self.store.url

    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    # -- queues --------------------------------------------------------------
    def create_queue(
        self,
        name: str,
        *,
        fifo: bool | None = None,
        visibility_timeout: int | None = None,
        delay_seconds: int | None = None,
        retention_seconds: int | None = None,
        max_message_bytes: int | None = None,
        receive_wait_seconds: int | None = None,
        dead_letter_queue: str | None = None,
        max_receive_count: int | None = None,
        redrive_allow_policy: object = None,
        content_based_deduplication: bool | None = None,
        deduplication_scope: str | None = None,
    ) -> Queue:
        """Create a queue, or return the existing one if its attributes are the same.

        FIFO queues are the ones whose name ends in ``.fifo``. Raises
        `QueueAlreadyExists` if the queue exists with other attributes.
        """
        name, config = queue_config_for(
            name,
            fifo,
            visibility_timeout=visibility_timeout,
            delay_seconds=delay_seconds,
            retention_seconds=retention_seconds,
            max_message_bytes=max_message_bytes,
            receive_wait_seconds=receive_wait_seconds,
            dead_letter_queue=dead_letter_queue,
            max_receive_count=max_receive_count,
            redrive_allow_policy=redrive_allow_policy,
            content_based_deduplication=content_based_deduplication,
            deduplication_scope=deduplication_scope,
        )
        return Queue(self, self.store.create_queue(name, config, self.now_ms()))

    def get_queue(self, name: str) -> Queue:
        """The queue of that name (a name or an ARN); raises `QueueDoesNotExist`."""
        return Queue(self, self.store.get_queue(self._queue_name(name)))

    def list_queues(self, prefix: str = "") -> list[str]:
        """Names of the queues (starting with ``prefix``), sorted."""
        if not isinstance(prefix, str):
            raise InvalidParameterValue(f"prefix must be a string, got {type(prefix).__name__}")
        return [
            record.name
            for record in self.store.list_queues(prefix)
            if not is_internal_queue(record.name)
        ]

    def delete_queue(self, name: str) -> None:
        """Delete a queue and its messages. Its name is free again after 60 s."""
        self.store.delete_queue(self._queue_name(name), self.now_ms())

    def dead_letter_source_queues(self, name: str) -> list[str]:
        """Names of the queues whose dead-letter queue this is."""
        return self.store.dead_letter_sources(self.get_queue(name).name)

    def _queue_name(self, name: str) -> str:
        if not isinstance(name, str):
            raise InvalidParameterValue(f"queue name must be a string, got {type(name).__name__}")
        try:
            return check_queue_name(queue_name_from(name))
        except InvalidParameterValue as exc:
            raise QueueDoesNotExist(f"queue {name!r} does not exist: {exc}") from None

    # -- topics --------------------------------------------------------------
    def create_topic(
        self,
        name: str,
        *,
        fifo: bool | None = None,
        content_based_deduplication: bool | None = None,
    ) -> Topic:
        """Create a topic, or return the existing one if its attributes are the same.

        FIFO topics are the ones whose name ends in ``.fifo``.
        """
        config = topic_config_for(name, fifo, content_based_deduplication)
        return Topic(self, self.store.create_topic(name, config, self.now_ms()))

    def get_topic(self, name: str) -> Topic:
        """The topic of that name (a name or an ARN); raises `TopicDoesNotExist`."""
        return Topic(self, self.store.get_topic(_topic_name(name)))

    def list_topics(self, prefix: str = "") -> list[str]:
        return [record.name for record in self.store.list_topics(prefix)]

    def delete_topic(self, name: str) -> None:
        """Delete a topic and its subscriptions (queued copies stay in their queues)."""
        self.store.delete_topic(_topic_name(name))

    def list_subscriptions(self, topic: str | None = None) -> list[Subscription]:
        """Every subscription, or those of one topic."""
        records = self.store.list_subscriptions(None if topic is None else _topic_name(topic))
        return [Subscription(self, record) for record in records]

    def get_subscription(self, subscription: str) -> Subscription:
        """A subscription by id or ARN; raises `SubscriptionDoesNotExist`."""
        return Subscription(self, self.store.get_subscription(subscription.rsplit(":", 1)[-1]))

    def unsubscribe(self, subscription: str) -> None:
        """Remove a subscription by id or ARN."""
        self.store.unsubscribe(subscription.rsplit(":", 1)[-1])

    # -- event buses -------------------------------------------------------------
    def bus(self, name: str = "default") -> EventBus:
        """The event bus of that name (``default`` always exists); raises `BusDoesNotExist`."""
        return EventBus(self, self.store.get_bus(_bus_name(name)))

    def create_bus(self, name: str) -> EventBus:
        """Create an event bus, or return the existing one."""
        return EventBus(self, self.store.create_bus(check_bus_name(name), self.now_ms()))

    def list_buses(self) -> list[str]:
        return [record.name for record in self.store.list_buses()]

    def delete_bus(self, name: str) -> None:
        """Delete an event bus without rules (``default`` cannot be deleted)."""
        self.store.delete_bus(_bus_name(name))

    def put_events(self, entries: Iterable[Mapping[str, Any]]) -> BatchResult[PutEventsResult]:
        """`EventBus.put_events` on the default bus, or on each entry's ``event_bus_name``."""
        items = list(entries)
        names = {
            item.get("event_bus_name", "default") for item in items if isinstance(item, Mapping)
        }
        if len(names) <= 1:
            bus = self.bus(names.pop() if names else "default")
            return bus.put_events(
                [{k: v for k, v in item.items() if k != "event_bus_name"} for item in items]
            )
        results: list[PutEventsResult] = []
        for item in items:
            bus = self.bus(item.get("event_bus_name", "default"))
            results.extend(
                bus.put_events([{k: v for k, v in item.items() if k != "event_bus_name"}])
            )
        return BatchResult(results)

    # -- the transactional outbox ---------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One transaction for the application's SQL and its messages (the outbox).

        Commits when the block ends, rolls back if it raises; nothing sent or
        published inside is visible to consumers before the commit.
        """
        with self.store.transaction() as connection:
            yield Transaction(self, connection)

    # -- deliveries that take time ------------------------------------------------
    def dispatcher(self, *, batch_size: int = 10) -> Dispatcher:
        """A dispatcher for webhooks, retries, schedules and replays.

        ``.start()`` runs it in a thread; `close` stops it.
        """
        dispatcher = Dispatcher(self, batch_size=batch_size)
        with self._lock:
            self._dispatchers.append(dispatcher)
        return dispatcher

    def delivery_queue_record(self) -> QueueRecord:
        with self._lock:
            if self._delivery_queue is None:
                self._delivery_queue = delivery_queue(self)
            return self._delivery_queue

    def webhook_delivery(
        self, subscription: SubscriptionRecord, subscription_arn: str, body: str, prepared: Any
    ) -> OutgoingMessage:
        return webhook_record(
            subscription,
            subscription_arn,
            self.identity.topic_arn(subscription.topic_name),
            body,
            prepared,
        )

    def message_failures(self, message_id: str) -> list[FailureRecord]:
        """Why functions failed a message, oldest first (kept through DLQ moves and redrives)."""
        return self.store.message_failures(message_id)

    # -- redrive -------------------------------------------------------------
    def start_redrive(
        self,
        source_queue: str,
        *,
        destination: str | None = None,
        max_messages_per_second: int | None = None,
    ) -> RedriveTask:
        """Move the messages of a dead-letter queue back to where they came from.

        Each message returns to the queue it was dead-lettered from (or to
        ``destination``), visible at once and with its receive count restarted.
        A background thread of this process does the moving; one task per queue.
        """
        source, target = self._redrive_queues(source_queue, destination)
        if max_messages_per_second is not None:
            check_int_range(
                max_messages_per_second,
                "max_messages_per_second",
                1,
                limits.MOVE_TASK_MAX_MESSAGES_PER_SECOND,
            )
        record = self.store.start_move_task(
            str(uuid.uuid4()),
            source,
            target,
            max_messages_per_second,
            self.sender_id,
            self.now_ms(),
            STALE_AFTER_MS,
        )
        task = RedriveTask(self, record)
        with self._lock:
            self._redrives = [t for t in self._redrives if t.running]
            self._redrives.append(task)
        return task.start()

    def redrive_tasks(self, source_queue: str) -> list[RedriveProgress]:
        """The redrive tasks of a queue, newest first (from any process)."""
        return self.store.list_move_tasks(self._queue_name(source_queue))

    def redrive_messages(
        self,
        dlq_name: str,
        message_ids: Iterable[object],
        destination: str | None = None,
    ) -> BatchResult[MessageIdResult]:
        """Move chosen messages of a dead-letter queue back, now, in one transaction.

        Each goes back to the queue it was dead-lettered from (or to
        ``destination``), visible at once with its receive count restarted and
        its failure records kept, as `start_redrive` moves them. Up to 1,000 ids
        (or messages); a result per id: `MessageNotFound` for an id not in the
        queue, and the reason for one that stays (no source queue, in flight ...).
        """
        ids = message_ids_of(message_ids, "redrive_messages")
        source, target = self._redrive_queues(dlq_name, destination)
        errors = self.store.redrive_message_ids(source, ids, target, self.now_ms())
        return BatchResult(
            MessageIdResult(message_id, error)
            for message_id, error in zip(ids, errors, strict=True)
        )

    def _redrive_queues(
        self, source_queue: str, destination: str | None
    ) -> tuple[QueueRecord, QueueRecord | None]:
        """The queues of a redrive: the source, and the destination if one is named (which
        must be of the source's type)."""
        source = self.store.get_queue(self._queue_name(source_queue))
        if destination is None:
            return source, None
        target = self.store.get_queue(self._queue_name(destination))
        if target.fifo != source.fifo:
            raise InvalidParameterValue(
                f"destination {target.name!r} must be a "
                f"{'FIFO' if source.fifo else 'standard'} queue like {source.name!r}"
            )
        return source, target

    # -- function statistics --------------------------------------------------------
    def function_stats(self, window_seconds: int = 300) -> dict[str, FunctionStats]:
        """What each function did over the last ``window_seconds`` (60-3,600, rounded out
        to whole minutes) and since the start, from every process: invocations,
        errors, messages, p50/p99 duration, and all-time totals with the histogram."""
        window = check_int_range(window_seconds, "window_seconds", 60, 3_600)
        records = self.store.function_stats(self.now_ms() - window * 1000)
        return {
            record.function: FunctionStats(
                function=record.function,
                window_seconds=window,
                invocations=record.window.invocations,
                errors=record.window.errors,
                messages=record.window.messages,
                p50_ms=quantile(record.window.buckets, 0.5),
                p99_ms=quantile(record.window.buckets, 0.99),
                total_invocations=record.total.invocations,
                total_errors=record.total.errors,
                total_messages=record.total.messages,
                total_duration_ms=record.total.duration_ms,
                total_buckets=record.total.buckets,
            )
            for record in records
        }

    # -- lifecycle -----------------------------------------------------------
    def close(self) -> None:
        """Stop this client's unfinished redrives (what moved stays moved) and close the store."""
        with self._lock:
            tasks, self._redrives = self._redrives, []
            dispatchers, self._dispatchers = self._dispatchers, []
        for dispatcher in dispatchers:
            dispatcher.stop()
        for task in tasks:
            if task.running:
                task.cancel()
        self.store.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.url!r})"


def connect(
    url: str | None = None,
    *,
    durability: Durability = "full",
    busy_timeout_seconds: float = 30.0,
    sender_id: str | None = None,
    region: str | None = None,
    account_id: str | None = None,
    clock: Callable[[], float] | None = None,
) -> Client:
    """Open the database a URL names (default ``$EVENTYARD_DB`` or ``sqlite:///./eventyard.db``).

    ``durability="full"`` (default): a message is fsync'd to disk before
    ``send`` returns. ``"process"``: it survives a crash of the process, not a
    power cut, and sends are several times faster.
    """
    if durability not in ("full", "process"):
        raise InvalidParameterValue(f"durability must be 'full' or 'process', got {durability!r}")
    store = open_store(url, durability=durability, busy_timeout_seconds=busy_timeout_seconds)
    identity = Identity(
        region=region or Identity().region, account_id=account_id or Identity().account_id
    )
    return Client(store, identity=identity, sender_id=sender_id, clock=clock or time.time)


def _topic_name(name: str) -> str:
    if not isinstance(name, str):
        raise InvalidParameterValue(f"topic name must be a string, got {type(name).__name__}")
    bare = name.rsplit(":", 1)[-1] if name.startswith("arn:") else name
    try:
        return check_topic_name(bare)
    except InvalidParameterValue as exc:
        raise TopicDoesNotExist(f"topic {name!r} does not exist: {exc}") from None


def _bus_name(name: str) -> str:
    if not isinstance(name, str):
        raise InvalidParameterValue(f"bus name must be a string, got {type(name).__name__}")
    bare = name.split(":event-bus/", 1)[1] if ":event-bus/" in name else name
    try:
        return check_bus_name(bare)
    except InvalidParameterValue as exc:
        raise BusDoesNotExist(f"event bus {name!r} does not exist: {exc}") from None
