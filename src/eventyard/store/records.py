"""Plain records that cross the store boundary, shared by every backend."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, NamedTuple

from eventyard.model.bus_config import RuleConfig, TargetConfig
from eventyard.model.queue_config import QueueConfig
from eventyard.model.topic_config import SubscriptionConfig, TopicConfig


@dataclass(frozen=True, slots=True)
class QueueRecord:
    """A queue as stored. ``generation`` goes up whenever its attributes change."""

    id: int
    name: str
    config: QueueConfig
    created_at_ms: int
    generation: int

    @property
    def fifo(self) -> bool:
        return self.config.fifo


class OutgoingMessage(NamedTuple):
    """A validated message on its way into a queue."""

    message_id: str
    body: str | bytes
    body_kind: int
    attributes: str | None
    delay_seconds: int
    group_id: str | None
    deduplication_id: str | None
    #: FIFO only: the key remembered for the deduplication window.
    deduplication_key: str | None


class SentMessage(NamedTuple):
    """What a send stored: the id (the first one's, for a deduplicated FIFO send)."""

    message_id: str
    sequence_number: str | None
    duplicate: bool


class ClaimedRow(NamedTuple):
    """One message handed out by a receive, with its new receipt token."""

    row_id: int
    message_id: str
    body: str | bytes
    body_kind: int
    attributes: str | None
    sent_at_ms: int
    receive_count: int
    first_received_at_ms: int
    receipt: int
    sender_id: str
    group_id: str | None
    deduplication_id: str | None
    dead_letter_source: str | None
    retained_from_ms: int


@dataclass(frozen=True, slots=True)
class ReceiveOutcome:
    """The messages a receive claimed, and when the next one becomes visible (if known)."""

    rows: list[ClaimedRow]
    next_visible_at_ms: int | None
    dead_lettered: int = 0
    expired: int = 0


@dataclass(frozen=True, slots=True)
class QueueStats:
    """Approximate counts of one queue, as SQS reports them."""

    visible: int
    in_flight: int
    delayed: int
    oldest_age_seconds: float | None

    @property
    def total(self) -> int:
        return self.visible + self.in_flight + self.delayed


@dataclass(frozen=True, slots=True)
class QueueCounters:
    """What happened to one queue since it was created, counted by every process.

    ``sent``: messages added by sends and publishes (duplicates of a FIFO send
    not counted); ``received``: messages handed out by receives; ``deleted``:
    messages deleted by receipt handle or by id; ``dead_lettered``: messages
    moved from this queue to its dead-letter queue; ``purged``: messages
    removed by purges. Redrive moves count in none of them.
    """

    sent: int = 0
    received: int = 0
    deleted: int = 0
    dead_lettered: int = 0
    purged: int = 0


class PeekedRow(NamedTuple):
    """One stored message as an operator's peek reads it (no receipt)."""

    row_id: int
    message_id: str
    body: str | bytes
    body_kind: int
    attributes: str | None
    sent_at_ms: int
    visible_at_ms: int
    receive_count: int
    first_received_at_ms: int | None
    sender_id: str
    group_id: str | None
    deduplication_id: str | None
    dead_letter_source: str | None


class InvocationFigures(NamedTuple):
    """Invocations of one function added up over some minutes (or since the start)."""

    invocations: int
    errors: int
    messages: int
    duration_ms: float
    #: One count per duration bucket (`eventyard.model.stats`), the last one unbounded.
    buckets: tuple[int, ...]


class FunctionStatsRecord(NamedTuple):
    """A function's figures over the window asked for, and its all-time totals."""

    function: str
    window: InvocationFigures
    total: InvocationFigures


MoveTaskStatus = Literal["RUNNING", "CANCELLING", "CANCELLED", "COMPLETED", "FAILED"]
FINISHED_MOVE_STATUSES: frozenset[str] = frozenset({"CANCELLED", "COMPLETED", "FAILED"})


@dataclass(frozen=True, slots=True)
class MoveTaskRecord:
    """A redrive (message move) task as stored: progress is readable from any process."""

    task_id: str
    source_queue: str
    destination_queue: str | None  # None: each message back to the queue it came from
    status: MoveTaskStatus
    max_messages_per_second: int | None
    to_move: int
    moved: int
    skipped: int
    started_at_ms: int
    updated_at_ms: int
    owner: str
    failure_reason: str | None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_MOVE_STATUSES


class MoveBatchOutcome(NamedTuple):
    moved: int
    skipped: int
    done: bool
    status: MoveTaskStatus


@dataclass(frozen=True, slots=True)
class TopicRecord:
    """A topic as stored. ``generation`` goes up when its subscriptions change."""

    id: int
    name: str
    config: TopicConfig
    created_at_ms: int
    generation: int

    @property
    def fifo(self) -> bool:
        return self.config.fifo


@dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    id: str
    topic_id: int
    topic_name: str
    config: SubscriptionConfig
    created_at_ms: int


class QueueDelivery(NamedTuple):
    """Messages to insert into one queue as part of a fan-out."""

    queue: QueueRecord
    messages: list[OutgoingMessage]


class Guard(NamedTuple):
    """A cached record whose generation must still hold when the plan commits."""

    kind: Literal["topic", "bus"]
    record_id: int
    generation: int
    name: str


class TopicDeduplication(NamedTuple):
    """A FIFO topic's deduplication key for one publish (5-minute window)."""

    topic_id: int
    key: str
    message_id: str


class ArchivedEvent(NamedTuple):
    """An event kept by an archive (written with the put_events that carried it)."""

    archive_id: int
    event_time_ms: int
    event_id: str
    event_json: str


@dataclass(frozen=True, slots=True)
class PublishPlan:
    """One published message and everything it inserts, done in the publisher's transaction.

    ``build`` makes the queue deliveries; it receives the FIFO topic's sequence
    number (allocated inside the transaction, so sequence order is commit order)
    or None for a standard topic.
    """

    guards: tuple[Guard, ...]
    build: Callable[[str | None], list[QueueDelivery]]
    deduplication: TopicDeduplication | None = None
    sequence_topic_id: int | None = None
    archive: tuple[ArchivedEvent, ...] = ()


class PlanResult(NamedTuple):
    """What a plan did: its sequence number, or the first message's id if it was a duplicate."""

    sequence_number: str | None
    duplicate_of: str | None


@dataclass(frozen=True, slots=True)
class BusRecord:
    """An event bus. ``generation`` goes up when its rules, targets or archives change."""

    id: int
    name: str
    created_at_ms: int
    generation: int


@dataclass(frozen=True, slots=True)
class RuleRecord:
    id: int
    bus_id: int
    bus_name: str
    name: str
    config: RuleConfig
    created_at_ms: int
    anchor_ms: int
    last_fired_at_ms: int | None

    @property
    def enabled(self) -> bool:
        return self.config.state == "ENABLED"


@dataclass(frozen=True, slots=True)
class ArchiveRecord:
    id: int
    name: str
    bus_name: str
    pattern: str | None
    retention_days: int
    description: str | None
    created_at_ms: int
    event_count: int = 0


@dataclass(frozen=True, slots=True)
class BusSnapshot:
    """A bus with its rules, their targets and its archives, read in one snapshot."""

    bus: BusRecord
    rules: list[tuple[RuleRecord, list[TargetConfig]]]
    archives: list[ArchiveRecord]


ReplayStatus = Literal["STARTING", "RUNNING", "CANCELLING", "CANCELLED", "COMPLETED", "FAILED"]


@dataclass(frozen=True, slots=True)
class ReplayRecord:
    name: str
    archive: str
    bus_name: str
    start_ms: int
    end_ms: int
    rules: tuple[str, ...] | None
    status: ReplayStatus
    replayed: int
    started_at_ms: int
    updated_at_ms: int
    failure_reason: str | None
    cursor_time_ms: int = 0
    cursor_event_id: str = ""


@dataclass(frozen=True, slots=True)
class FailureRecord:
    """Why a function failed a message: kept with the message id through DLQ moves and redrives."""

    message_id: str
    queue: str
    function: str
    attempt: int
    error_type: str
    error_message: str
    traceback: str
    failed_at_ms: int
