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

Event-bus webhook targets follow the target's retry policy instead:
exponential backoff with jitter (1 s doubling to at most 5 minutes, each
delay drawn between half and all of it), at most ``max_attempts`` retries and
``max_event_age_seconds`` in all, then the target's dead-letter queue with
``ERROR_CODE``, ``ERROR_MESSAGE``, ``RULE_ARN``, ``TARGET_ARN`` and
``RETRY_ATTEMPTS``.

The dispatcher also fires scheduled rules (a tick missed while no dispatcher
ran fires once; the tick is recorded in the same transaction as its event, so
two dispatchers never both fire it) and carries out replays (a lease per
replay, the cursor moved in the transaction that puts the batch on the bus).

A dispatcher runs as a thread (`Dispatcher.start`) or in the foreground
(`Dispatcher.run`); `eventyard run` and `eventyard worker` will start one.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from eventyard.errors import (
    EventyardError,
    MessageNotInflight,
    QueueDoesNotExist,
    ReceiptHandleIsInvalid,
    SubscriptionDoesNotExist,
)
from eventyard.model.body import BODY_JSON, BODY_TEXT
from eventyard.model.internal import DELIVERY_QUEUE
from eventyard.model.message import Message
from eventyard.store.records import OutgoingMessage, QueueRecord, SubscriptionRecord

if TYPE_CHECKING:
    from eventyard.broker.client import Client
    from eventyard.broker.queue import Queue
    from eventyard.broker.topic import _Prepared
    from eventyard.delivery.webhook import WebhookOutcome, WebhookSender

_log = logging.getLogger("eventyard.dispatcher")

WEBHOOK_TIMEOUT_SECONDS: Final = 15.0
BACKOFF_BASE_SECONDS: Final = 1
BACKOFF_CAP_SECONDS: Final = 300
#: How often the list of scheduled rules is read again (new or changed rules).
SCHEDULE_RESCAN_MS: Final = 5_000
REPLAY_BATCH: Final = 100
REPLAY_LEASE_MS: Final = 30_000


def delivery_queue(client: Client) -> QueueRecord:
    """The internal delivery queue (created by the schema, so it always exists)."""
    return client.store.get_queue(DELIVERY_QUEUE)


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
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._next_schedule_scan_ms = 0
        self._next_tick_ms: int | None = None
        self._adopted_redrive: str | None = None
        self._redrive_rate: int | None = None
        self._next_redrive_ms = 0
        self._pool: ThreadPoolExecutor | None = None
        self._counter_lock = threading.Lock()
        self.lost_leases = 0
        self.fired = 0
        self.replayed = 0
        self.delivered = 0
        self.failed_attempts = 0
        self.dead_lettered = 0
        self.dropped = 0

    def _deliveries(self) -> Queue:
        if self._queue is None:
            from eventyard.broker.queue import Queue

            self._queue = Queue(self._client, delivery_queue(self._client))
        return self._queue

    # -- running -------------------------------------------------------------
    def run_once(self, wait_seconds: float = 0.0) -> int:
        """Fire due schedules, advance a replay, carry out one batch of delivery records.

        Waits up to ``wait_seconds`` for records (less if a scheduled tick is
        sooner); returns how many things were done.
        """
        done = self._fire_schedules() + self._replay_step() + self._resume_redrive()
        wait = 0.0 if done else wait_seconds
        if self._next_tick_ms is not None:
            wait = min(wait, max(0.0, (self._next_tick_ms - self._client.now_ms()) / 1000))
        messages = self._deliveries().receive(max_messages=self._batch_size, wait_seconds=wait)
        if len(messages) > 1:
            # Post the batch at once: every post ends within WEBHOOK_TIMEOUT_SECONDS, well
            # inside the lease, where one after the other could outlast it.
            list(self._workers().map(self._handle_leased, messages))
        elif messages:
            self._handle_leased(messages[0])
        return done + len(messages)

    def _count(self, counter: str, amount: int) -> None:
        """Counters are bumped from the posting threads: one lock for all of them."""
        with self._counter_lock:
            setattr(self, counter, getattr(self, counter) + amount)

    def _workers(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=self._batch_size, thread_name_prefix="eventyard-delivery"
            )
        return self._pool

    def _handle_leased(self, message: Message) -> None:
        try:
            self._handle(message)
        except (MessageNotInflight, ReceiptHandleIsInvalid):
            # The lease ran out meanwhile (a stalled machine): the record is visible again,
            # or another dispatcher holds it now; it is not ours to settle any more.
            self._count("lost_leases", 1)

    def run(self) -> None:
        """Dispatch until `stop` is called (long polls of 1 s, so stopping is prompt).

        An error (the database busy for long, a bug) is logged and the loop goes
        on after a second: a dispatcher must not die quietly.
        """
        while not self._stop.is_set():
            try:
                self.run_once(wait_seconds=1.0)
            except Exception:
                if self._stop.is_set():
                    return
                _log.exception("eventyard dispatcher: a round failed; trying again in 1 s")
                self._stop.wait(1.0)

    def start(self) -> Dispatcher:
        self._thread = threading.Thread(target=self.run, name="eventyard-dispatcher", daemon=True)
        self._thread.start()
        return self

    def request_stop(self) -> None:
        """Ask `run` to return after the round in progress (safe from a signal handler)."""
        self._stop.set()

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop after the round in progress (idempotent)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if self._owns_sender:
            self._sender.close()

    def __enter__(self) -> Dispatcher:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- one record ----------------------------------------------------------
    # -- scheduled rules -------------------------------------------------------
    def _fire_schedules(self) -> int:
        from eventyard.model.schedule import Schedule

        client = self._client
        now_ms = client.now_ms()
        if now_ms < self._next_schedule_scan_ms and (
            self._next_tick_ms is None or now_ms < self._next_tick_ms
        ):
            return 0
        fired = 0
        next_tick: int | None = None
        now = _datetime(now_ms)
        for record in client.store.scheduled_rules():
            if not record.enabled or record.config.schedule is None:
                continue
            schedule = Schedule.parse(record.config.schedule)
            anchor = _datetime(record.anchor_ms)
            last = None if record.last_fired_at_ms is None else _datetime(record.last_fired_at_ms)
            due = schedule.due(anchor, last, now)
            if due is not None:
                tick_ms = int(due.timestamp() * 1000)
                with client.transaction():
                    if client.store.mark_rule_fired(record.id, record.last_fired_at_ms, tick_ms):
                        plan = client.bus(record.bus_name).scheduled_plan(record, tick_ms, now_ms)
                        client.store.execute_plans([plan], now_ms, client.sender_id)
                        fired += 1
            upcoming = schedule.next_after(now, anchor=anchor)
            if upcoming is not None:
                upcoming_ms = int(upcoming.timestamp() * 1000)
                next_tick = upcoming_ms if next_tick is None else min(next_tick, upcoming_ms)
        self._next_tick_ms = next_tick
        self._next_schedule_scan_ms = now_ms + SCHEDULE_RESCAN_MS
        self._count("fired", fired)
        return fired

    # -- redrives whose process died ------------------------------------------------
    def _resume_redrive(self) -> int:
        """Move one batch of a redrive whose starting process stopped (after 30 s quiet)."""
        from eventyard.broker.redrive import MOVE_BATCH_SIZE, STALE_AFTER_MS

        store = self._client.store
        now_ms = self._client.now_ms()
        if now_ms < self._next_redrive_ms:
            return 0
        if self._adopted_redrive is None:
            task = store.adopt_stale_move_task(self._owner, now_ms, STALE_AFTER_MS)
            if task is None:
                self._next_redrive_ms = now_ms + SCHEDULE_RESCAN_MS
                return 0
            self._adopted_redrive = task.task_id
            self._redrive_rate = task.max_messages_per_second
        rate = self._redrive_rate
        batch = min(MOVE_BATCH_SIZE, rate) if rate else MOVE_BATCH_SIZE
        outcome = store.move_batch(self._adopted_redrive, batch, now_ms)
        if outcome.done:
            self._adopted_redrive = None
        elif rate:
            self._next_redrive_ms = now_ms + batch * 1000 // rate
        return 1

    # -- replays ---------------------------------------------------------------
    def _replay_step(self) -> int:
        from eventyard.store.base import RecordChanged

        client = self._client
        store = client.store
        now_ms = client.now_ms()
        replay = store.claim_replay(self._owner, now_ms, REPLAY_LEASE_MS)
        if replay is None:
            return 0
        if replay.status == "CANCELLING":
            store.set_replay_status(replay.name, "CANCELLED", now_ms)
            return 1
        try:
            events = store.next_replay_events(replay, REPLAY_BATCH)
            with client.transaction():
                count = client.bus(replay.bus_name).replay_batch(replay, events)
                last_time, last_id = (
                    (events[-1][0], events[-1][1])
                    if events
                    else (replay.cursor_time_ms, replay.cursor_event_id)
                )
                store.advance_replay(
                    replay, last_time, last_id, count, len(events) < REPLAY_BATCH, now_ms
                )
        except RecordChanged:
            return 0  # another dispatcher moved it meanwhile; nothing was put twice
        except EventyardError as exc:
            store.set_replay_status(replay.name, "FAILED", now_ms, f"{type(exc).__name__}: {exc}")
            return 1
        self._count("replayed", count)
        return 1

    # -- delivery records --------------------------------------------------------
    def _handle(self, message: Message) -> None:
        deliveries = self._deliveries()
        record: dict[str, Any] = message.body
        kind = record.get("kind")
        if kind == "eventbridge-http":
            self._handle_target(message, record)
            return
        if kind != "sns-http":
            deliveries.delete(message)  # a record kind this version does not know
            self._count("dropped", 1)
            return
        try:
            subscription = self._client.store.get_subscription(record["subscription_id"])
        except SubscriptionDoesNotExist:
            deliveries.delete(message)  # unsubscribed since: nothing to deliver to
            self._count("dropped", 1)
            return
        outcome = self._post(record)
        if outcome.ok:
            deliveries.delete(message)
            self._count("delivered", 1)
            return
        self._count("failed_attempts", 1)
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
            self._count("dropped", 1)
            return
        try:
            dead_letter = self._client.get_queue(name)
        except QueueDoesNotExist:
            self._count("dropped", 1)
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
            self._count("dropped", 1)
            return
        self._count("dead_lettered", 1)

    def _handle_target(self, message: Message, record: dict[str, Any]) -> None:
        """One attempt for an event-bus webhook target, with its retry policy."""
        from eventyard.delivery.webhook import RetryRule, eventbridge_http_headers

        deliveries = self._deliveries()
        retries_done = message.receive_count - 1
        max_age_ms = int(record["max_event_age_seconds"]) * 1000
        if self._client.now_ms() - int(record["event_time_ms"]) > max_age_ms:
            # Too old to deliver (e.g. it waited while no dispatcher ran): not posted at all.
            self._target_dead_letter(
                record, _too_old(record), retries_done, "MaximumEventAgeExceeded"
            )
            deliveries.delete(message)
            return
        outcome = self._sender.send(
            record["url"],
            record["body"],
            eventbridge_http_headers(),
            timeout_seconds=WEBHOOK_TIMEOUT_SECONDS,
            retry_rule=RetryRule.EVENTBRIDGE_API_DESTINATION,
        )
        if outcome.ok:
            deliveries.delete(message)
            self._count("delivered", 1)
            return
        self._count("failed_attempts", 1)
        age_ms = self._client.now_ms() - int(record["event_time_ms"])
        delay = _backoff_seconds(retries_done + 1)
        within_age = age_ms + delay * 1000 <= max_age_ms
        if outcome.retryable and retries_done < int(record["max_attempts"]) and within_age:
            deliveries.change_visibility(message, delay)
            return
        condition = (
            "MaximumEventAgeExceeded"
            if outcome.retryable and not within_age
            else "MaximumRetryAttemptsExceeded"
            if outcome.retryable
            else "NonRetryableError"
        )
        self._target_dead_letter(record, outcome, retries_done, condition)
        deliveries.delete(message)

    def _target_dead_letter(
        self, record: dict[str, Any], outcome: WebhookOutcome, retries: int, condition: str
    ) -> None:
        name = record.get("dead_letter_queue")
        if not name:
            self._count("dropped", 1)
            return
        attributes: dict[str, object] = {
            "ERROR_CODE": outcome.error_code or "DeliveryFailed",
            "ERROR_MESSAGE": (outcome.error_message or "delivery failed")[:1000],
            "RULE_ARN": record["rule_arn"],
            "TARGET_ARN": record["url"],
            "RETRY_ATTEMPTS": retries,
            "EXHAUSTED_RETRY_CONDITION": condition,
        }
        try:
            body: object = json.loads(record["body"])
        except ValueError:
            body = record["body"]
        try:
            self._client.get_queue(name).send(body, attributes=attributes)
        except EventyardError:
            self._count("dropped", 1)
            return
        self._count("dead_lettered", 1)


def _too_old(record: dict[str, Any]) -> WebhookOutcome:
    from eventyard.delivery.webhook import WebhookOutcome

    return WebhookOutcome(
        ok=False,
        status_code=None,
        error_code="MaximumEventAgeExceeded",
        error_message=(
            f"the event is older than max_event_age_seconds={record['max_event_age_seconds']}"
            " and was not posted again"
        ),
        retryable=False,
        duration_ms=0,
    )


def _backoff_seconds(attempt: int) -> int:
    """Exponential backoff with jitter: about 1, 2, 4 ... s, capped at 5 minutes."""
    ceiling = min(BACKOFF_BASE_SECONDS * 2 ** min(attempt - 1, 20), BACKOFF_CAP_SECONDS)
    return max(1, round(random.uniform(ceiling / 2, ceiling)))


def _datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
