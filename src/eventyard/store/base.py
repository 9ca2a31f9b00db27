"""The storage contract: what a backend must do, batch-first.

Every method that touches messages takes and returns a batch and runs as one
transaction (one round trip where the backend allows it). The broker above
validates input and owns the clock (``now_ms`` is always passed in); a store
applies the rules of `eventyard.lifecycle` to its rows and never decides
semantics of its own. Two backends implement it: SQLite (here) and
PostgreSQL (later); one contract test suite runs against both.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Literal, Protocol

from eventyard.errors import EventyardError
from eventyard.model.bus_config import RuleConfig, TargetConfig
from eventyard.model.queue_config import QueueConfig
from eventyard.model.receipt import Receipt
from eventyard.model.topic_config import SubscriptionConfig, TopicConfig
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
from eventyard.store.sql.dialect import Connection

Durability = Literal["full", "process"]


def check_durability(durability: object) -> Durability:
    """``durability`` if it is one eventyard knows, else `InvalidParameterValue`."""
    if durability not in ("full", "process"):
        from eventyard.errors import InvalidParameterValue

        raise InvalidParameterValue(f"durability must be 'full' or 'process', got {durability!r}")
    return durability


class RecordChanged(Exception):
    """A queue, topic or bus changed since the caller read it: re-read and retry.

    Internal to the broker/store boundary; never reaches users.
    """


class ChangeWatch(Protocol):
    """A registration for wake-ups; see `Store.watch`."""

    def token(self) -> int: ...

    def wait(self, token: int, timeout_seconds: float) -> bool:
        """Block until something changed since ``token`` was taken, or the timeout."""
        ...


class Store(Protocol):
    """A durable home for queues and their messages."""

    #: The database's URL as shown to people (a password is masked).
    url: str
    #: The URL another process opens the same database with (it may hold a password:
    #: pass it on, never print it).
    connect_url: str
    durability: Durability

    # -- queues --------------------------------------------------------------
    def create_queue(self, name: str, config: QueueConfig, now_ms: int) -> QueueRecord: ...
    def get_queue(self, name: str) -> QueueRecord: ...
    def list_queues(self, prefix: str = "") -> list[QueueRecord]: ...
    def update_queue(self, name: str, config: QueueConfig, now_ms: int) -> QueueRecord: ...
    def delete_queue(self, name: str, now_ms: int) -> None: ...
    def dead_letter_sources(self, name: str) -> list[str]: ...

    # -- messages (each call one transaction) --------------------------------
    def send_messages(
        self,
        queue: QueueRecord,
        messages: Sequence[OutgoingMessage],
        now_ms: int,
        sender_id: str,
    ) -> list[SentMessage]: ...
    def receive_messages(
        self, queue: QueueRecord, max_messages: int, visibility_timeout: int, now_ms: int
    ) -> ReceiveOutcome: ...
    def delete_messages(
        self, queue: QueueRecord, receipts: Sequence[Receipt], now_ms: int
    ) -> list[bool]:
        """True for each receipt that deleted its message or whose message is gone already
        (deleted, expired); False for a stale receipt (the message was received again since)."""
        ...

    def change_visibility(
        self,
        queue: QueueRecord,
        changes: Sequence[tuple[Receipt, int]],
        now_ms: int,
    ) -> list[Exception | None]: ...
    def purge_queue(self, queue: QueueRecord, now_ms: int) -> int: ...
    def queue_stats(self, queue: QueueRecord, now_ms: int) -> QueueStats: ...
    def queue_counters(self, queue: QueueRecord) -> QueueCounters:
        """The queue's counters: bumped inside the transactions of sends, receives, deletes,
        dead-letter moves and purges, by one statement per batch call (never per message)."""
        ...

    # -- an operator's actions on messages (each call one transaction) ---------
    def peek_messages(
        self, queue: QueueRecord, after_row_id: int, limit: int, now_ms: int
    ) -> list[PeekedRow]:
        """Up to ``limit`` unexpired messages with a row id above ``after_row_id``, in row
        order. Reads only: no write lock, no receive count or visibility changed."""
        ...

    def delete_message_ids(
        self, queue: QueueRecord, message_ids: Sequence[str], now_ms: int
    ) -> list[EventyardError | None]:
        """Delete messages by id whatever their state; per id None or `MessageNotFound`.
        Wakes no receiver."""
        ...

    def redrive_message_ids(
        self,
        source: QueueRecord,
        message_ids: Sequence[str],
        destination: QueueRecord | None,
        now_ms: int,
    ) -> list[EventyardError | None]:
        """Move chosen messages as a redrive task moves them (to their dead-letter source,
        or ``destination``); per id None or why it stayed (`MessageNotFound` ...)."""
        ...

    # -- topics and fan-out ----------------------------------------------------
    def create_topic(self, name: str, config: TopicConfig, now_ms: int) -> TopicRecord: ...
    def get_topic(self, name: str) -> TopicRecord: ...
    def list_topics(self, prefix: str = "") -> list[TopicRecord]: ...
    def delete_topic(self, name: str) -> None: ...
    def subscribe(
        self, topic: TopicRecord, subscription_id: str, config: SubscriptionConfig, now_ms: int
    ) -> SubscriptionRecord: ...
    def update_subscription(
        self, subscription_id: str, config: SubscriptionConfig
    ) -> SubscriptionRecord: ...
    def unsubscribe(self, subscription_id: str) -> None: ...
    def get_subscription(self, subscription_id: str) -> SubscriptionRecord: ...
    def list_subscriptions(self, topic_name: str | None = None) -> list[SubscriptionRecord]: ...
    def topic_subscriptions(
        self, topic_name: str
    ) -> tuple[TopicRecord, list[SubscriptionRecord]]: ...
    def execute_plans(
        self, plans: Sequence[PublishPlan], now_ms: int, sender_id: str
    ) -> list[PlanResult]:
        """Run publish plans in one transaction: all their queue inserts, or none."""
        ...

    # -- event buses -----------------------------------------------------------
    def create_bus(self, name: str, now_ms: int) -> BusRecord: ...
    def get_bus(self, name: str) -> BusRecord: ...
    def list_buses(self) -> list[BusRecord]: ...
    def delete_bus(self, name: str) -> None: ...
    def put_rule(self, bus: str, name: str, config: RuleConfig, now_ms: int) -> RuleRecord: ...
    def get_rule(self, bus: str, name: str) -> RuleRecord: ...
    def list_rules(self, bus: str) -> list[RuleRecord]: ...
    def delete_rule(self, bus: str, name: str, force: bool = False) -> None: ...
    def put_targets(
        self, bus: str, rule: str, targets: Sequence[TargetConfig]
    ) -> list[TargetConfig]: ...
    def remove_targets(self, bus: str, rule: str, target_ids: Sequence[str]) -> None: ...
    def rule_targets(self, rule: RuleRecord) -> list[TargetConfig]: ...
    def bus_snapshot(self, name: str) -> BusSnapshot: ...
    def scheduled_rules(self) -> list[RuleRecord]: ...
    def mark_rule_fired(self, rule_id: int, previous_ms: int | None, fired_at_ms: int) -> bool:
        """Record a scheduled rule's tick; False if another dispatcher recorded it first."""
        ...

    def create_archive(
        self,
        name: str,
        bus: str,
        pattern: str | None,
        retention_days: int,
        description: str | None,
        now_ms: int,
    ) -> ArchiveRecord: ...
    def get_archive(self, name: str) -> ArchiveRecord: ...
    def list_archives(self) -> list[ArchiveRecord]: ...
    def delete_archive(self, name: str) -> None: ...

    def record_failures(self, records: Sequence[FailureRecord]) -> None:
        """Keep why functions failed messages (several per message over its retries)."""
        ...

    def message_failures(self, message_id: str) -> list[FailureRecord]: ...

    # -- function statistics -----------------------------------------------------
    def record_invocations(
        self,
        function: str,
        now_ms: int,
        invocations: int,
        errors: int,
        messages: int,
        durations_ms: Sequence[float],
    ) -> None:
        """Add finished invocations to the function's minute and all-time figures (one
        upsert; joins the caller's transaction). Old minutes are pruned now and then."""
        ...

    def function_stats(self, since_ms: int) -> list[FunctionStatsRecord]:
        """Every function's figures from the minute holding ``since_ms``, and its totals."""
        ...

    def start_replay(
        self,
        name: str,
        archive: str,
        bus: str,
        start_ms: int,
        end_ms: int,
        rules: tuple[str, ...] | None,
        now_ms: int,
    ) -> ReplayRecord: ...
    def get_replay(self, name: str) -> ReplayRecord: ...
    def list_replays(self) -> list[ReplayRecord]: ...
    def claim_replay(self, owner: str, now_ms: int, lease_ms: int) -> ReplayRecord | None: ...
    def next_replay_events(
        self, replay: ReplayRecord, limit: int
    ) -> list[tuple[int, str, str]]: ...
    def advance_replay(
        self,
        replay: ReplayRecord,
        cursor_time_ms: int,
        cursor_event_id: str,
        replayed: int,
        done: bool,
        now_ms: int,
    ) -> None: ...
    def set_replay_status(
        self, name: str, status: str, now_ms: int, reason: str | None = None
    ) -> ReplayRecord: ...

    # -- redrive (message move tasks) ----------------------------------------
    def start_move_task(
        self,
        task_id: str,
        source: QueueRecord,
        destination: QueueRecord | None,
        max_messages_per_second: int | None,
        owner: str,
        now_ms: int,
        stale_after_ms: int,
    ) -> MoveTaskRecord: ...
    def adopt_stale_move_task(
        self, owner: str, now_ms: int, stale_after_ms: int
    ) -> MoveTaskRecord | None:
        """Take over a redrive whose process stopped (a dispatcher then finishes it)."""
        ...

    def move_batch(self, task_id: str, limit: int, now_ms: int) -> MoveBatchOutcome: ...
    def get_move_task(self, task_id: str) -> MoveTaskRecord: ...
    def list_move_tasks(self, source_queue: str) -> list[MoveTaskRecord]: ...
    def set_move_task_status(
        self, task_id: str, status: str, now_ms: int, failure_reason: str | None = None
    ) -> MoveTaskRecord: ...

    # -- waiting and transactions ---------------------------------------------
    def watch(self) -> AbstractContextManager[ChangeWatch]:
        """Register for wake-ups on any change (this process or another) while in the block."""
        ...

    def transaction(self) -> AbstractContextManager[Connection]:
        """One transaction around several store calls (joined by the calls inside)."""
        ...

    def close(self) -> None: ...
