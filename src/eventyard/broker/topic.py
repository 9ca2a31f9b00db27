"""`Topic` and `Subscription`: SNS-style publish/subscribe on top of the queues.

Publishing is a fan-out computed here and committed by the store in one
transaction: every subscribed queue whose filter policy matches gets its
copy (the SNS notification envelope, or the raw message), or none does.
Webhook subscriptions get a durable delivery record in the same transaction;
a dispatcher posts it later, with retries (see `eventyard.broker.dispatcher`).

A topic handle caches its subscriptions (with compiled filter policies) and
the queues they deliver to; the store checks the topic's generation when the
publish commits and the handle re-reads them if anything changed.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from eventyard.broker.batch import BatchResult, check_batch_shape
from eventyard.broker.subscription import Subscription, endpoint_of, subscription_config
from eventyard.errors import (
    BatchRequestTooLong,
    EventyardError,
    InvalidParameterValue,
    MessageTooLong,
)
from eventyard.model import limits, trace
from eventyard.model.body import BODY_JSON
from eventyard.model.ids import new_message_ids
from eventyard.model.internal import function_queue
from eventyard.model.names import check_fifo_id
from eventyard.model.sns import (
    NotificationText,
    check_subject,
    encode_topic_message,
    sns_timestamp,
    unsubscribe_url_json,
)
from eventyard.patterns import FilterPolicy, compile_filter_policy
from eventyard.store.base import RecordChanged
from eventyard.store.records import (
    Guard,
    OutgoingMessage,
    PublishPlan,
    QueueDelivery,
    QueueRecord,
    SubscriptionRecord,
    TopicDeduplication,
    TopicRecord,
)

if TYPE_CHECKING:
    from eventyard.broker.client import Client
    from eventyard.broker.queue import Queue


@dataclass(frozen=True, slots=True)
class PublishEntry:
    """One message of a `Topic.publish_batch` call."""

    message: Any
    id: str | None = None
    subject: str | None = None
    attributes: Mapping[str, object] | None = None
    group_id: str | None = None
    deduplication_id: str | None = None


class PublishResult(NamedTuple):
    """What happened to one entry of a publish batch."""

    id: str
    message_id: str | None = None
    sequence_number: str | None = None
    duplicate: bool = False
    error: EventyardError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class _Route(NamedTuple):
    """A subscription as the publisher uses it: compiled filter, target queue."""

    subscription: SubscriptionRecord
    arn: str
    filter_policy: FilterPolicy | None
    queue: QueueRecord  # the subscribed queue, or the internal delivery queue for webhooks
    dead_letter_queue: QueueRecord | None
    unsubscribe_url_json: str


class _Routes(NamedTuple):
    topic: TopicRecord
    routes: list[_Route]


class _Prepared(NamedTuple):
    entry_id: str
    message_id: str
    text: str
    kind: int
    stored_attributes: str | None
    typed_attributes: dict[str, dict[str, object]] | None
    subject: str | None
    group_id: str | None
    deduplication_id: str | None  # FIFO: explicit, or SHA-256 of the message
    size: int


class Topic:
    """A topic of the store; cheap to create, safe to share between threads."""

    def __init__(self, client: Client, record: TopicRecord) -> None:
        self._client = client
        self._store = client.store
        self._record = record
        self._routes: _Routes | None = None

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def fifo(self) -> bool:
        return self._record.config.fifo

    @property
    def arn(self) -> str:
        return self._client.identity.topic_arn(self._record.name)

    def __repr__(self) -> str:
        return f"Topic({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Topic) and other._record.id == self._record.id

    def __hash__(self) -> int:
        return hash(self._record.id)

    # -- subscriptions -------------------------------------------------------
    def subscribe(
        self,
        endpoint: Queue | str,
        *,
        filter_policy: object = None,
        filter_policy_scope: str = "MessageAttributes",
        raw: bool = False,
        dead_letter_queue: Queue | str | None = None,
        max_retries: int | None = None,
        retry_delay_seconds: int | None = None,
    ) -> Subscription:
        """Subscribe a queue (a `Queue`, its name or ARN) or a webhook (an http(s) URL).

        Subscribing the same endpoint again with the same options returns the
        existing subscription. ``max_retries`` (default 3) and
        ``retry_delay_seconds`` (default 20) apply to webhooks.
        """
        protocol, target = endpoint_of(endpoint)
        if protocol != "sqs" and self.fifo:
            raise InvalidParameterValue(
                f"a FIFO topic delivers only to FIFO queues; {target!r} is a webhook"
            )
        config = subscription_config(
            protocol,
            target,
            filter_policy=filter_policy,
            filter_policy_scope=filter_policy_scope,
            raw=raw,
            dead_letter_queue=dead_letter_queue,
            max_retries=max_retries,
            retry_delay_seconds=retry_delay_seconds,
        )
        record = self._store.subscribe(
            self._record, str(uuid.uuid4()), config, self._client.now_ms()
        )
        self._routes = None
        return Subscription(self._client, record)

    def subscriptions(self) -> list[Subscription]:
        return [
            Subscription(self._client, record)
            for record in self._store.list_subscriptions(self.name)
        ]

    def unsubscribe(self, subscription: Subscription | str) -> None:
        """Remove a subscription (a `Subscription`, its id or its ARN)."""
        if isinstance(subscription, Subscription):
            subscription_id = subscription.id
        else:
            subscription_id = subscription.rsplit(":", 1)[-1]
        self._store.unsubscribe(subscription_id)
        self._routes = None

    # -- publishing ----------------------------------------------------------
    def publish(
        self,
        message: Any,
        *,
        subject: str | None = None,
        attributes: Mapping[str, object] | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        dedup_id: str | None = None,
    ) -> str:
        """Publish one message to every matching subscription; returns its message id.

        ``dedup_id`` is an alias of ``deduplication_id``. Deliveries to queues
        commit with the publish (one transaction); webhooks are posted by a
        dispatcher afterwards.
        """
        entry = PublishEntry(
            message, "0", subject, attributes, group_id, deduplication_id or dedup_id
        )
        result = self._publish_entries([entry])[0]
        if result.error is not None:
            raise result.error
        assert result.message_id is not None
        return result.message_id

    def publish_batch(self, entries: Iterable[Any]) -> BatchResult[PublishResult]:
        """Publish up to 10 messages in one transaction; a result per entry, in order.

        Items are messages, `PublishEntry` objects, or dicts with a ``message``
        key and the other `PublishEntry` fields.
        """
        items: list[PublishEntry] = []
        for index, item in enumerate(entries):
            if isinstance(item, PublishEntry):
                entry = item
            elif (
                isinstance(item, Mapping)
                and "message" in item
                and set(item) <= set(PublishEntry.__dataclass_fields__)
            ):
                entry = PublishEntry(**item)
            else:
                entry = PublishEntry(item)
            if entry.id is None:
                entry = PublishEntry(
                    entry.message,
                    str(index),
                    entry.subject,
                    entry.attributes,
                    entry.group_id,
                    entry.deduplication_id,
                )
            items.append(entry)
        check_batch_shape([item.id or "" for item in items], "publish_batch")
        return self._publish_entries(items)

    def plan_message(self, message: object, now_ms: int) -> PublishPlan:
        """The plan of one message published on behalf of an event-bus rule target."""
        prepared = self._prepare(PublishEntry(message, "0"), str(uuid.uuid4()))
        return self._plan(self._current_routes(), [prepared], now_ms)

    def _publish_entries(self, entries: list[PublishEntry]) -> BatchResult[PublishResult]:
        try:
            return self._publish_once(entries)
        except RecordChanged:
            self._routes = None
            self._record = self._store.get_topic(self.name)
            return self._publish_once(entries)

    def _publish_once(self, entries: list[PublishEntry]) -> BatchResult[PublishResult]:
        routes = self._current_routes()
        message_ids = new_message_ids(len(entries))
        results: list[PublishResult | None] = [None] * len(entries)
        positions: list[int] = []
        prepared_entries: list[_Prepared] = []
        total = 0
        for index, entry in enumerate(entries):
            try:
                prepared = self._prepare(entry, message_ids[index])
            except EventyardError as exc:
                results[index] = PublishResult(entry.id or str(index), error=exc)
                continue
            total += prepared.size
            positions.append(index)
            prepared_entries.append(prepared)
        if len(entries) > 1 and total > limits.TOPIC_BATCH_MAX_TOTAL_BYTES:
            raise BatchRequestTooLong(
                f"the messages of the batch add up to {total} bytes; the limit for one publish "
                f"batch is {limits.TOPIC_BATCH_MAX_TOTAL_BYTES} (256 KiB)"
            )
        if not prepared_entries:
            return BatchResult(result for result in results if result is not None)
        now_ms = self._client.now_ms()
        if routes.topic.fifo:
            # One plan per message: each is deduplicated and numbered on its own.
            plans = [self._plan(routes, [prepared], now_ms) for prepared in prepared_entries]
        else:
            plans = [self._plan(routes, prepared_entries, now_ms)]
        outcomes = self._store.execute_plans(plans, now_ms, self._client.sender_id)
        if not routes.topic.fifo:
            outcomes = outcomes * len(prepared_entries)
        for index, prepared, outcome in zip(positions, prepared_entries, outcomes, strict=True):
            results[index] = PublishResult(
                prepared.entry_id,
                outcome.duplicate_of or prepared.message_id,
                outcome.sequence_number,
                outcome.duplicate_of is not None,
            )
        return BatchResult(result for result in results if result is not None)

    def _prepare(self, entry: PublishEntry, message_id: str) -> _Prepared:
        stamped = trace.stamped(entry.attributes)
        attributes = dict(stamped) if stamped else None
        text, kind, stored_attributes, size = encode_topic_message(entry.message, attributes)
        subject = check_subject(entry.subject)
        group_id = deduplication_id = None
        if self.fifo:
            if entry.group_id is None:
                raise InvalidParameterValue(
                    "group_id is required for a FIFO topic (MessageGroupId)"
                )
            group_id = check_fifo_id(entry.group_id, "group_id", limits.FIFO_GROUP_ID_MAX_LENGTH)
            if entry.deduplication_id is not None:
                deduplication_id = check_fifo_id(
                    entry.deduplication_id,
                    "deduplication_id",
                    limits.FIFO_DEDUPLICATION_ID_MAX_LENGTH,
                )
            elif self._record.config.content_based_deduplication:
                deduplication_id = hashlib.sha256(text.encode("utf-8")).hexdigest()
            else:
                raise InvalidParameterValue(
                    "deduplication_id is required: the FIFO topic does not have "
                    "content_based_deduplication enabled"
                )
        elif entry.group_id is not None or entry.deduplication_id is not None:
            raise InvalidParameterValue(
                "group_id and deduplication_id apply only to FIFO topics (names ending in .fifo)"
            )
        typed = None
        if stored_attributes is not None:
            from eventyard.model.attributes import typed_attributes

            typed = typed_attributes(stored_attributes)
        return _Prepared(
            entry.id or "0",
            message_id,
            text,
            kind,
            stored_attributes,
            typed,
            subject,
            group_id,
            deduplication_id,
            size,
        )

    def _plan(self, routes: _Routes, messages: list[_Prepared], now_ms: int) -> PublishPlan:
        """One plan for these messages: every matching subscription's copy of each."""
        topic = routes.topic
        matching = [
            [
                route
                for route in routes.routes
                if route.filter_policy is None
                or route.filter_policy.matches(prepared.text, prepared.typed_attributes)
            ]
            for prepared in messages
        ]
        topic_arn = self._client.identity.topic_arn(topic.name)
        timestamp = sns_timestamp(now_ms)
        client = self._client

        def build(sequence_number: str | None) -> list[QueueDelivery]:
            by_queue: dict[int, QueueDelivery] = {}
            copies = sum(len(routes_of) for routes_of in matching)
            queue_message_ids = iter(new_message_ids(copies))
            for prepared, routes_of in zip(messages, matching, strict=True):
                notification: NotificationText | None = None
                for route in routes_of:
                    config = route.subscription.config
                    if config.raw_message_delivery:
                        body: str = prepared.text
                        kind = prepared.kind
                        attributes = prepared.stored_attributes
                    else:
                        if notification is None:  # encoded once, shared by the subscriptions
                            notification = NotificationText(
                                message_id=prepared.message_id,
                                topic_arn=topic_arn,
                                message=prepared.text,
                                subject=prepared.subject,
                                timestamp=timestamp,
                                stored_attributes=prepared.stored_attributes,
                                sequence_number=sequence_number,
                            )
                        body = notification.for_subscription(route.unsubscribe_url_json)
                        kind, attributes = BODY_JSON, None
                    queue_message_id = next(queue_message_ids)
                    if config.protocol == "function":
                        # An invocation of the function: the notification and where it came from.
                        invocation = (
                            f'{{"source":"sns","subscription_arn":"{route.arn}",'
                            f'"notification":{body}}}'
                        )
                        queue, message = (
                            route.queue,
                            OutgoingMessage(
                                queue_message_id, invocation, BODY_JSON, None, 0, None, None, None
                            ),
                        )
                    elif config.protocol != "sqs":
                        queue, message = (
                            route.queue,
                            client.webhook_delivery(route.subscription, route.arn, body, prepared),
                        )
                    else:
                        queue, message = _queue_copy(
                            route, body, kind, attributes, prepared, queue_message_id
                        )
                    delivery = by_queue.get(queue.id)
                    if delivery is None:
                        by_queue[queue.id] = QueueDelivery(queue, [message])
                    else:
                        delivery.messages.append(message)
            return list(by_queue.values())

        deduplication = None
        if topic.fifo:
            [prepared] = messages
            assert prepared.deduplication_id is not None
            deduplication = TopicDeduplication(
                topic.id, prepared.deduplication_id, prepared.message_id
            )
        return PublishPlan(
            guards=(Guard("topic", topic.id, topic.generation, topic.name),),
            build=build,
            deduplication=deduplication,
            sequence_topic_id=topic.id if topic.fifo else None,
        )

    def _current_routes(self) -> _Routes:
        routes = self._routes
        if routes is not None:
            return routes
        topic, subscriptions = self._store.topic_subscriptions(self.name)
        self._record = topic
        resolved: list[_Route] = []
        queues: dict[str, QueueRecord] = {}

        def queue(name: str) -> QueueRecord:
            if name not in queues:
                queues[name] = self._store.get_queue(name)
            return queues[name]

        for subscription in subscriptions:
            config = subscription.config
            policy = (
                None
                if config.filter_policy is None
                else compile_filter_policy(config.filter_policy, scope=config.filter_policy_scope)
            )
            if config.protocol == "sqs":
                target = queue(config.endpoint)
            elif config.protocol == "function":
                target = queue(function_queue(config.endpoint))
            else:
                target = self._client.delivery_queue_record()
            dead_letter = (
                None if config.dead_letter_queue is None else queue(config.dead_letter_queue)
            )
            arn = self._client.identity.subscription_arn(topic.name, subscription.id)
            resolved.append(
                _Route(subscription, arn, policy, target, dead_letter, unsubscribe_url_json(arn))
            )
        self._routes = _Routes(topic, resolved)
        return self._routes


def _queue_copy(
    route: _Route,
    body: str,
    kind: int,
    attributes: str | None,
    prepared: _Prepared,
    message_id: str,
) -> tuple[QueueRecord, OutgoingMessage]:
    """The copy one subscribed queue receives (or its subscription's DLQ, if it cannot)."""
    queue = route.queue
    # Raw: the message and its attributes, as published. Else the envelope holds it all.
    raw = route.subscription.config.raw_message_delivery
    size = prepared.size if raw else len(body.encode("utf-8"))
    if size > queue.config.max_message_bytes:
        if route.dead_letter_queue is None:
            raise MessageTooLong(
                f"the notification is {size} bytes but queue {queue.name!r} (subscribed to "
                f"topic {route.subscription.topic_name!r}) accepts at most "
                f"{queue.config.max_message_bytes}; raise its max_message_bytes or give the "
                "subscription a dead_letter_queue"
            )
        queue = route.dead_letter_queue
    deduplication_key = None
    if queue.fifo:
        assert prepared.deduplication_id is not None
        assert prepared.group_id is not None
        scope = queue.config.deduplication_scope == "messageGroup"
        deduplication_key = (
            f"{prepared.group_id}\x1f{prepared.deduplication_id}"
            if scope
            else prepared.deduplication_id
        )
    return queue, OutgoingMessage(
        message_id,  # the queue's own message id (SNS's is in the envelope)
        body,
        kind,
        attributes,
        queue.config.delay_seconds,
        prepared.group_id,
        prepared.deduplication_id,
        deduplication_key,
    )
