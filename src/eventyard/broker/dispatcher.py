"""The dispatcher: deliveries that need time, done from a durable record.

Deliveries into queues commit with the publish. Everything else — posting
a notification to a webhook, retrying it with backoff, parking it in the
subscription's dead-letter queue — starts as a message in eventyard's own
internal queue (``eventyard:deliveries``), written in the publisher's
transaction, and is carried out here:

* a dispatcher receives a batch of delivery records (long poll: it wakes on
  the commit that wrote them); the visibility timeout is its lease, so
  several dispatchers in several processes never post the same record while
  it is in flight;
* a success deletes the record; a failure that may succeed later keeps it,
  hidden for the retry delay (``change_visibility``); the receive count is
  the attempt count;
* once the retries are spent (or at once for a permanent failure), the
  message goes to the subscription's dead-letter queue with the last error,
  and the record is deleted. Without a dead-letter queue it is dropped, as
  SNS does.

A dispatcher runs as a thread (`Dispatcher.start`) or in the foreground
(`Dispatcher.run`); `eventyard run` and `eventyard worker` will start one.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any, Final

from eventyard.errors import EventyardError, QueueDoesNotExist, SubscriptionDoesNotExist
from eventyard.model import limits
from eventyard.model.body import BODY_JSON, BODY_TEXT
from eventyard.model.message import Message
from eventyard.model.queue_config import QueueConfig
from eventyard.store.records import OutgoingMessage, QueueRecord, SubscriptionRecord

if TYPE_CHECKING:
    from eventyard.broker.client import Client
    from eventyard.broker.queue import Queue
    from eventyard.broker.topic import _Prepared
    from eventyard.delivery.webhook import WebhookOutcome, WebhookSender

#: The internal queue of delivery records. Its name holds a ':' so that no user
#: queue can ever have it (user queue names are [A-Za-z0-9_-]).
DELIVERY_QUEUE: Final = "eventyard:deliveries"
#: The lease a dispatcher takes on a record: longer than any webhook timeout.
LEASE_SECONDS: Final = 60
WEBHOOK_TIMEOUT_SECONDS: Final = 15.0
DELIVERY_QUEUE_CONFIG: Final = QueueConfig(
    visibility_timeout=LEASE_SECONDS,
    retention_seconds=limits.RETENTION_MAX_SECONDS,
)


def is_internal_queue(name: str) -> bool:
    return ":" in name


def ensure_delivery_queue(client: Client) -> QueueRecord:
    return client.store.create_queue(DELIVERY_QUEUE, DELIVERY_QUEUE_CONFIG, client.now_ms())


def webhook_record(
    subscription: SubscriptionRecord,
    subscription_arn: str,
    topic_arn: str,
    body: str,
    prepared: _Prepared,
) -> OutgoingMessage:
    """The delivery record of one notification for one webhook subscription."""
    import uuid

    record = {
        "kind": "sns-http",
        "subscription_id": subscription.id,
        "subscription_arn": subscription_arn,
        "topic_arn": topic_arn,
        "message_id": prepared.message_id,
        "url": subscription.config.endpoint,
        "raw": subscription.config.raw_message_delivery,
        "body": body,
        "attributes": prepared.stored_attributes,
        "message_kind": prepared.kind,
    }
    text = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
    return OutgoingMessage(str(uuid.uuid4()), text, BODY_JSON, None, 0, None, None, None)


class Dispatcher:
    """Carries out delivery records until stopped. Thread-safe to stop from anywhere."""

    def __init__(
        self,
        client: Client,
        *,
        batch_size: int = 10,
        sender: WebhookSender | None = None,
    ) -> None:
        from eventyard.delivery.webhook import WebhookSender

        self._client = client
        self._batch_size = batch_size
        self._sender = sender or WebhookSender()
        self._owns_sender = sender is None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._queue: Queue | None = None
        self.delivered = 0
        self.failed_attempts = 0
        self.dead_lettered = 0
        self.dropped = 0

    def _deliveries(self) -> Queue:
        if self._queue is None:
            from eventyard.broker.queue import Queue

            self._queue = Queue(self._client, ensure_delivery_queue(self._client))
        return self._queue

    # -- running -------------------------------------------------------------
    def run_once(self, wait_seconds: float = 0.0) -> int:
        """Carry out one batch of due records; returns how many were handled."""
        messages = self._deliveries().receive(
            max_messages=self._batch_size, wait_seconds=wait_seconds
        )
        for message in messages:
            self._handle(message)
        return len(messages)

    def run(self) -> None:
        """Dispatch until `stop` is called (long polls of 1 s, so stopping is prompt)."""
        while not self._stop.is_set():
            self.run_once(wait_seconds=1.0)

    def start(self) -> Dispatcher:
        self._thread = threading.Thread(target=self.run, name="eventyard-dispatcher", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._owns_sender:
            self._sender.close()

    def __enter__(self) -> Dispatcher:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- one record ----------------------------------------------------------
    def _handle(self, message: Message) -> None:
        deliveries = self._deliveries()
        record: dict[str, Any] = message.body
        if record.get("kind") != "sns-http":
            deliveries.delete(message)  # a record kind this version does not know
            self.dropped += 1
            return
        try:
            subscription = self._client.store.get_subscription(record["subscription_id"])
        except SubscriptionDoesNotExist:
            deliveries.delete(message)  # unsubscribed since: nothing to deliver to
            self.dropped += 1
            return
        outcome = self._post(record)
        if outcome.ok:
            deliveries.delete(message)
            self.delivered += 1
            return
        self.failed_attempts += 1
        retries_done = message.receive_count - 1
        if outcome.retryable and retries_done < subscription.config.max_retries:
            deliveries.change_visibility(message, subscription.config.retry_delay_seconds)
            return
        self._give_up(record, subscription, outcome, message.receive_count)
        deliveries.delete(message)

    def _post(self, record: dict[str, Any]) -> WebhookOutcome:
        from eventyard.delivery.webhook import sns_http_headers

        headers = sns_http_headers(
            "Notification", record["message_id"], record["topic_arn"], record["subscription_arn"]
        )
        if record.get("raw"):
            headers["x-amz-sns-rawdelivery"] = "true"
        return self._sender.send(
            record["url"], record["body"], headers, timeout_seconds=WEBHOOK_TIMEOUT_SECONDS
        )

    def _give_up(
        self,
        record: dict[str, Any],
        subscription: SubscriptionRecord,
        outcome: WebhookOutcome,
        attempts: int,
    ) -> None:
        name = subscription.config.dead_letter_queue
        if name is None:
            self.dropped += 1
            return
        try:
            dead_letter = self._client.get_queue(name)
        except QueueDoesNotExist:
            self.dropped += 1
            return
        attributes: dict[str, object] = {
            "ErrorCode": outcome.error_code or "DeliveryFailed",
            "ErrorMessage": (outcome.error_message or "delivery failed")[:1000],
            "TopicArn": record["topic_arn"],
            "SubscriptionArn": record["subscription_arn"],
            "Attempts": attempts,
        }
        # The DLQ gets what the endpoint would have: the envelope (JSON), or the raw message.
        raw_text = record.get("raw") and record.get("message_kind") == BODY_TEXT
        body: object = record["body"] if raw_text else json.loads(record["body"])
        try:
            dead_letter.send(body, attributes=attributes)
        except EventyardError:
            self.dropped += 1
            return
        self.dead_lettered += 1
