"""`SqlStore`: the storage contract on a SQL database, for both backends.

This class only opens transactions (through the backend's `Database`) and
hands their connection to the functions of `queues`, `messages`, `topics`,
`buses` ..., which hold the SQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Final

from eventyard.errors import EventyardError, PurgeQueueInProgress, QueueInUse, ResourceInUse
from eventyard.lifecycle import MS
from eventyard.model import limits
from eventyard.model.bus_config import RuleConfig, TargetConfig
from eventyard.model.queue_config import QueueConfig
from eventyard.model.receipt import Receipt
from eventyard.model.topic_config import SubscriptionConfig, TopicConfig
from eventyard.store.base import ChangeWatch, Durability
from eventyard.store.records import (
    ArchiveRecord,
    BusRecord,
    BusSnapshot,
    FailureRecord,
    FunctionStatsRecord,
    MoveBatchOutcome,
    MoveTaskRecord,
    OutgoingMessage,
    PeekedRow,
    PlanResult,
    PublishPlan,
    QueueCounters,
    QueueRecord,
    QueueStats,
    ReceiveOutcome,
    ReplayRecord,
    RuleRecord,
    SentMessage,
    SubscriptionRecord,
    TopicRecord,
)
from eventyard.store.sql import (
    admin_messages,
    buses,
    counters,
    failures,
    fanout,
    function_stats,
    messages,
    move_tasks,
    queues,
    replays,
    topics,
)
from eventyard.store.sql.database import Database
from eventyard.store.sql.dialect import Connection
from eventyard.store.sql.messages import lock_named

_DEDUPLICATION_SWEEP_MS: Final = 60_000
_FUNCTION_STATS_PRUNE_MS: Final = 60_000


class SqlStore:
    """The storage contract on a SQL database (see `eventyard.store.base.Store`)."""

    def __init__(
        self, database: Database, url: str, durability: Durability, connect_url: str | None = None
    ) -> None:
        self.database = database
        self.url = url
        self.connect_url = connect_url or url
        self.durability: Durability = durability
        self._deduplication_swept_at_ms = 0
        self._topic_deduplication_swept_at_ms = 0
        self._function_stats_pruned_at_ms = 0
        #: Queues whose last receive here claimed nothing (see `Database.look_before_claim`).
        self._empty_queues: set[int] = set()

    def _look_before_claim(self, queue_id: int) -> bool:
        if self.database.in_transaction():
            return False
        if self.database.look_before_claim == "always":
            return True
        return queue_id in self._empty_queues

    @contextmanager
    def _topology_write(self) -> Iterator[Connection]:
        """A write that creates, changes or deletes queues, topics, buses or rules.

        On PostgreSQL these take one advisory lock: two processes creating the same
        queue at once (two machines applying one app) then run one after the other,
        and the second finds the first's queue, as on SQLite.
        """
        with self.database.write() as conn:
            lock_named(conn, "eventyard.topology")
            yield conn

    def _claimed_nothing(self, queue_id: int, empty: bool) -> None:
        if empty:
            self._empty_queues.add(queue_id)
        else:
            self._empty_queues.discard(queue_id)

    # -- queues --------------------------------------------------------------
    def create_queue(self, name: str, config: QueueConfig, now_ms: int) -> QueueRecord:
        with self._topology_write() as conn:
            return queues.create_queue(conn, name, config, now_ms)

    def get_queue(self, name: str) -> QueueRecord:
        with self.database.read() as conn:
            return queues.get_queue(conn, name)

    def list_queues(self, prefix: str = "") -> list[QueueRecord]:
        with self.database.read() as conn:
            return queues.list_queues(conn, prefix)

    def update_queue(self, name: str, config: QueueConfig, now_ms: int) -> QueueRecord:
        with self._topology_write() as conn:
            return queues.update_queue(conn, name, config, now_ms)

    def delete_queue(self, name: str, now_ms: int) -> None:
        with self._topology_write() as conn:
            subscribed = topics.subscribers_of_queue(conn, name)
            if subscribed:
                raise QueueInUse(
                    f"queue {name!r} is subscribed to (or the dead-letter queue of a "
                    f"subscription of) topic(s) {', '.join(map(repr, subscribed))}; "
                    "unsubscribe first"
                )
            targeted = buses.rules_targeting(conn, "queue", name)
            if targeted:
                raise QueueInUse(
                    f"queue {name!r} is a target of rule(s) {', '.join(targeted)}; remove the "
                    "targets first"
                )
            queues.delete_queue(conn, name, now_ms)

    def dead_letter_sources(self, name: str) -> list[str]:
        with self.database.read() as conn:
            return queues.dead_letter_sources(conn, name)

    # -- messages ------------------------------------------------------------
    def send_messages(
        self,
        queue: QueueRecord,
        messages_: Sequence[OutgoingMessage],
        now_ms: int,
        sender_id: str,
    ) -> list[SentMessage]:
        if not queue.fifo:
            rows = messages.standard_rows(
                self.database.dialect, queue, messages_, now_ms, sender_id
            )  # before the lock
            with self.database.write() as conn:
                queues.check_generation(conn, queue)
                messages.insert_standard(conn, rows)
                counters.bump(conn, queue.id, "sent", len(rows))
            return [SentMessage(m.message_id, None, False) for m in messages_]
        with self.database.write() as conn:
            queues.check_generation(conn, queue)
            if now_ms - self._deduplication_swept_at_ms > _DEDUPLICATION_SWEEP_MS:
                messages.forget_expired_deduplication(conn, now_ms)
                self._deduplication_swept_at_ms = now_ms
            sent = messages.send_fifo(conn, queue, messages_, now_ms, sender_id)
            counters.bump(conn, queue.id, "sent", sum(not s.duplicate for s in sent))
            return sent

    def receive_messages(
        self, queue: QueueRecord, max_messages: int, visibility_timeout: int, now_ms: int
    ) -> ReceiveOutcome:
        if self._look_before_claim(queue.id):
            # Look before taking the write lock: an empty queue costs one indexed read
            # and never contends with producers.
            with self.database.read() as conn:
                earliest = messages.earliest_visible_at(conn, queue.id)
                if earliest is None:
                    queues.check_exists(conn, queue)
                    return ReceiveOutcome([], None)
            if earliest > now_ms:
                return ReceiveOutcome([], earliest)
        with self.database.write(announce=False) as conn:
            queues.check_generation(conn, queue)
            claimed = messages.claim_messages(conn, queue, max_messages, visibility_timeout, now_ms)
            counters.bump_receive(conn, queue.id, len(claimed.delivered), claimed.dead_lettered)
            upcoming = (
                None if claimed.delivered else messages.next_visible_at(conn, queue.id, now_ms)
            )
            if claimed.dead_lettered:
                self.database.announce_at_commit()  # messages became visible in the DLQ
        self._claimed_nothing(queue.id, not claimed.delivered)
        return ReceiveOutcome(claimed.delivered, upcoming, claimed.dead_lettered, claimed.expired)

    def delete_messages(
        self, queue: QueueRecord, receipts: Sequence[Receipt], now_ms: int
    ) -> list[bool]:
        # Only a FIFO delete can make a message deliverable (it unlocks the group).
        with self.database.write(announce=queue.fifo) as conn:
            return messages.delete_messages(conn, queue, receipts, now_ms)

    def change_visibility(
        self, queue: QueueRecord, changes: Sequence[tuple[Receipt, int]], now_ms: int
    ) -> list[Exception | None]:
        with self.database.write() as conn:
            queues.check_exists(conn, queue)
            return messages.change_visibility(conn, queue, changes, now_ms)

    def purge_queue(self, queue: QueueRecord, now_ms: int) -> int:
        with self.database.write(announce=False) as conn:
            queues.check_exists(conn, queue)
            last = messages.last_purge_at(conn, queue)
            interval_ms = limits.PURGE_INTERVAL_SECONDS * MS
            if last is not None and now_ms - last < interval_ms:
                raise PurgeQueueInProgress(
                    f"queue {queue.name!r} was purged {(now_ms - last) / MS:.0f} s ago; one purge "
                    f"per {limits.PURGE_INTERVAL_SECONDS} s is allowed (next in "
                    f"{(last + interval_ms - now_ms) / MS:.0f} s)"
                )
            return messages.purge(conn, queue, now_ms)

    def queue_stats(self, queue: QueueRecord, now_ms: int) -> QueueStats:
        with self.database.read() as conn:
            queues.check_exists(conn, queue)
            return messages.stats(conn, queue, now_ms)

    def queue_counters(self, queue: QueueRecord) -> QueueCounters:
        with self.database.read() as conn:
            queues.check_exists(conn, queue)
            return counters.read(conn, queue.id)

    # -- an operator's actions on messages ------------------------------------------
    def peek_messages(
        self, queue: QueueRecord, after_row_id: int, limit: int, now_ms: int
    ) -> list[PeekedRow]:
        with self.database.read() as conn:
            queues.check_exists(conn, queue)
            return admin_messages.peek(conn, queue, after_row_id, limit, now_ms)

    def delete_message_ids(
        self, queue: QueueRecord, message_ids: Sequence[str], now_ms: int
    ) -> list[EventyardError | None]:
        with self.database.read() as conn:
            rows = admin_messages.find_rows(conn, queue, message_ids, now_ms)
        with self.database.write(announce=False) as conn:
            queues.check_exists(conn, queue)
            return admin_messages.delete_rows(conn, queue, message_ids, rows)

    def redrive_message_ids(
        self,
        source: QueueRecord,
        message_ids: Sequence[str],
        destination: QueueRecord | None,
        now_ms: int,
    ) -> list[EventyardError | None]:
        with self.database.read() as conn:
            rows = admin_messages.find_rows(conn, source, message_ids, now_ms)
        with self.database.write() as conn:
            queues.check_exists(conn, source)
            if destination is not None:
                queues.check_exists(conn, destination)
            return admin_messages.redrive_rows(
                conn,
                source,
                message_ids,
                rows,
                None if destination is None else destination.name,
                now_ms,
            )

    # -- topics --------------------------------------------------------------
    def create_topic(self, name: str, config: TopicConfig, now_ms: int) -> TopicRecord:
        with self._topology_write() as conn:
            return topics.create_topic(conn, name, config, now_ms)

    def get_topic(self, name: str) -> TopicRecord:
        with self.database.read() as conn:
            return topics.get_topic(conn, name)

    def list_topics(self, prefix: str = "") -> list[TopicRecord]:
        with self.database.read() as conn:
            return topics.list_topics(conn, prefix)

    def delete_topic(self, name: str) -> None:
        with self._topology_write() as conn:
            targeted = buses.rules_targeting(conn, "topic", name)
            if targeted:
                raise ResourceInUse(
                    f"topic {name!r} is a target of rule(s) {', '.join(targeted)}; remove the "
                    "targets first"
                )
            topics.delete_topic(conn, name)

    def subscribe(
        self, topic: TopicRecord, subscription_id: str, config: SubscriptionConfig, now_ms: int
    ) -> SubscriptionRecord:
        with self._topology_write() as conn:
            return topics.subscribe(conn, topic, subscription_id, config, now_ms)

    def update_subscription(
        self, subscription_id: str, config: SubscriptionConfig
    ) -> SubscriptionRecord:
        with self._topology_write() as conn:
            return topics.update_subscription(conn, subscription_id, config)

    def unsubscribe(self, subscription_id: str) -> None:
        with self._topology_write() as conn:
            topics.unsubscribe(conn, subscription_id)

    def get_subscription(self, subscription_id: str) -> SubscriptionRecord:
        with self.database.read() as conn:
            return topics.get_subscription(conn, subscription_id)

    def list_subscriptions(self, topic_name: str | None = None) -> list[SubscriptionRecord]:
        with self.database.read() as conn:
            return topics.list_subscriptions(conn, topic_name)

    def topic_subscriptions(self, topic_name: str) -> tuple[TopicRecord, list[SubscriptionRecord]]:
        """A topic and its subscriptions, read in one snapshot (for the publisher's cache)."""
        with self.database.snapshot() as conn:
            topic = topics.get_topic(conn, topic_name)
            return topic, topics.subscriptions_of(conn, topic.id)

    def execute_plans(
        self, plans: Sequence[PublishPlan], now_ms: int, sender_id: str
    ) -> list[PlanResult]:
        # Plans that need nothing from inside the transaction are built before it, so the
        # write lock is held only for the SQL.
        prebuilt = [
            fanout.prebuild(self.database.dialect, plan, now_ms, sender_id)
            if plan.sequence_topic_id is None and plan.deduplication is None
            else None
            for plan in plans
        ]
        with self.database.write() as conn:
            if now_ms - self._topic_deduplication_swept_at_ms > _DEDUPLICATION_SWEEP_MS:
                fanout.forget_expired_deduplication(conn, now_ms)
                buses.forget_expired_archived_events(conn, now_ms)
                self._topic_deduplication_swept_at_ms = now_ms
            return fanout.execute_plans(conn, plans, prebuilt, now_ms, sender_id)

    # -- event buses -----------------------------------------------------------
    def create_bus(self, name: str, now_ms: int) -> BusRecord:
        with self._topology_write() as conn:
            return buses.create_bus(conn, name, now_ms)

    def get_bus(self, name: str) -> BusRecord:
        with self.database.read() as conn:
            return buses.get_bus(conn, name)

    def list_buses(self) -> list[BusRecord]:
        with self.database.read() as conn:
            return buses.list_buses(conn)

    def delete_bus(self, name: str) -> None:
        with self._topology_write() as conn:
            buses.delete_bus(conn, name)

    def put_rule(self, bus: str, name: str, config: RuleConfig, now_ms: int) -> RuleRecord:
        with self._topology_write() as conn:
            return buses.put_rule(conn, bus, name, config, now_ms)

    def get_rule(self, bus: str, name: str) -> RuleRecord:
        with self.database.read() as conn:
            return buses.get_rule(conn, buses.get_bus(conn, bus), name)

    def list_rules(self, bus: str) -> list[RuleRecord]:
        with self.database.read() as conn:
            return buses.list_rules(conn, buses.get_bus(conn, bus))

    def delete_rule(self, bus: str, name: str, force: bool = False) -> None:
        with self._topology_write() as conn:
            buses.delete_rule(conn, bus, name, force)

    def put_targets(
        self, bus: str, rule: str, targets: Sequence[TargetConfig]
    ) -> list[TargetConfig]:
        with self._topology_write() as conn:
            return buses.put_targets(conn, bus, rule, targets)

    def remove_targets(self, bus: str, rule: str, target_ids: Sequence[str]) -> None:
        with self._topology_write() as conn:
            buses.remove_targets(conn, bus, rule, target_ids)

    def rule_targets(self, rule: RuleRecord) -> list[TargetConfig]:
        with self.database.read() as conn:
            return buses.rule_targets(conn, rule.id)

    def bus_snapshot(self, name: str) -> BusSnapshot:
        with self.database.snapshot() as conn:
            return buses.snapshot(conn, name)

    def scheduled_rules(self) -> list[RuleRecord]:
        with self.database.read() as conn:
            return buses.scheduled_rules(conn)

    def mark_rule_fired(self, rule_id: int, previous_ms: int | None, fired_at_ms: int) -> bool:
        with self.database.write(announce=False) as conn:
            return buses.mark_fired(conn, rule_id, previous_ms, fired_at_ms)

    def create_archive(
        self,
        name: str,
        bus: str,
        pattern: str | None,
        retention_days: int,
        description: str | None,
        now_ms: int,
    ) -> ArchiveRecord:
        with self._topology_write() as conn:
            return buses.create_archive(
                conn, name, bus, pattern, retention_days, description, now_ms
            )

    def get_archive(self, name: str) -> ArchiveRecord:
        with self.database.read() as conn:
            return buses.get_archive(conn, name)

    def list_archives(self) -> list[ArchiveRecord]:
        with self.database.read() as conn:
            return buses.list_archives(conn)

    def delete_archive(self, name: str) -> None:
        with self._topology_write() as conn:
            buses.delete_archive(conn, name)

    # -- failure records ---------------------------------------------------------
    def record_failures(self, records: Sequence[FailureRecord]) -> None:
        with self.database.write(announce=False) as conn:
            failures.record(conn, records)

    def message_failures(self, message_id: str) -> list[FailureRecord]:
        with self.database.read() as conn:
            return failures.of_message(conn, message_id)

    # -- function statistics -----------------------------------------------------
    def record_invocations(
        self,
        function: str,
        now_ms: int,
        invocations: int,
        errors: int,
        messages_: int,
        durations_ms: Sequence[float],
    ) -> None:
        with self.database.write(announce=False) as conn:
            if now_ms - self._function_stats_pruned_at_ms > _FUNCTION_STATS_PRUNE_MS:
                function_stats.prune(conn, now_ms)
                self._function_stats_pruned_at_ms = now_ms
            function_stats.record(
                conn, function, now_ms, invocations, errors, messages_, list(durations_ms)
            )

    def function_stats(self, since_ms: int) -> list[FunctionStatsRecord]:
        with self.database.read() as conn:
            return function_stats.read(conn, since_ms)

    # -- replays --------------------------------------------------------------
    def start_replay(
        self,
        name: str,
        archive: str,
        bus: str,
        start_ms: int,
        end_ms: int,
        rules: tuple[str, ...] | None,
        now_ms: int,
    ) -> ReplayRecord:
        with self.database.write() as conn:
            buses.get_bus(conn, bus)
            return replays.start_replay(conn, name, archive, bus, start_ms, end_ms, rules, now_ms)

    def get_replay(self, name: str) -> ReplayRecord:
        with self.database.read() as conn:
            return replays.get_replay(conn, name)

    def list_replays(self) -> list[ReplayRecord]:
        with self.database.read() as conn:
            return replays.list_replays(conn)

    def claim_replay(self, owner: str, now_ms: int, lease_ms: int) -> ReplayRecord | None:
        with self.database.write(announce=False) as conn:
            return replays.claim_replay(conn, owner, now_ms, lease_ms)

    def next_replay_events(self, replay: ReplayRecord, limit: int) -> list[tuple[int, str, str]]:
        with self.database.read() as conn:
            return replays.next_events(conn, replay, limit)

    def advance_replay(
        self,
        replay: ReplayRecord,
        cursor_time_ms: int,
        cursor_event_id: str,
        replayed: int,
        done: bool,
        now_ms: int,
    ) -> None:
        with self.database.write() as conn:
            replays.advance(conn, replay, cursor_time_ms, cursor_event_id, replayed, done, now_ms)

    def set_replay_status(
        self, name: str, status: str, now_ms: int, reason: str | None = None
    ) -> ReplayRecord:
        with self.database.write() as conn:
            return replays.set_status(conn, name, status, now_ms, reason)

    # -- redrive -------------------------------------------------------------
    def start_move_task(
        self,
        task_id: str,
        source: QueueRecord,
        destination: QueueRecord | None,
        max_messages_per_second: int | None,
        owner: str,
        now_ms: int,
        stale_after_ms: int,
    ) -> MoveTaskRecord:
        with self.database.write() as conn:
            queues.check_exists(conn, source)
            if destination is not None:
                queues.check_exists(conn, destination)
            return move_tasks.start_move_task(
                conn,
                task_id,
                source,
                destination,
                max_messages_per_second,
                owner,
                now_ms,
                stale_after_ms,
            )

    def adopt_stale_move_task(
        self, owner: str, now_ms: int, stale_after_ms: int
    ) -> MoveTaskRecord | None:
        with self.database.write(announce=False) as conn:
            return move_tasks.adopt_stale_move_task(conn, owner, now_ms, stale_after_ms)

    def move_batch(self, task_id: str, limit: int, now_ms: int) -> MoveBatchOutcome:
        with self.database.write() as conn:
            return move_tasks.move_batch(conn, task_id, limit, now_ms)

    def get_move_task(self, task_id: str) -> MoveTaskRecord:
        with self.database.read() as conn:
            return move_tasks.get_move_task(conn, task_id)

    def list_move_tasks(self, source_queue: str) -> list[MoveTaskRecord]:
        with self.database.read() as conn:
            return move_tasks.list_move_tasks(conn, source_queue)

    def set_move_task_status(
        self, task_id: str, status: str, now_ms: int, failure_reason: str | None = None
    ) -> MoveTaskRecord:
        with self.database.write() as conn:
            return move_tasks.set_status(conn, task_id, status, now_ms, failure_reason)

    # -- waiting and transactions ---------------------------------------------
    @contextmanager
    def watch(self) -> Iterator[ChangeWatch]:
        with self.database.signal.watch() as signal:
            yield signal

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.database.write() as conn:
            yield conn

    def close(self) -> None:
        self.database.close()
