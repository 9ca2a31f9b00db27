"""The admin API's request and response bodies, as pydantic models.

Request models forbid unknown fields and validate strictly (no "5" for 5);
the broker still checks every value against its own limits. Response models
are what the handlers return, so the OpenAPI document (`openapi.py`, built
from these classes) cannot drift from the answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from eventyard.broker.batch import MESSAGE_IDS_MAX
from eventyard.model.limits import PUT_EVENTS_MAX_ENTRIES


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ResponseModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- requests ------------------------------------------------------------------------


class EmptyRequest(RequestModel):
    """No fields: send ``{}`` or no body."""


class SendMessageRequest(RequestModel):
    """A message for a queue: text or any JSON value, as `Queue.send` takes it."""

    body: JsonValue
    attributes: dict[str, JsonValue] | None = None
    delay_seconds: int | None = None
    group_id: str | None = None
    deduplication_id: str | None = None


class PublishRequest(RequestModel):
    """A message for a topic, as `Topic.publish` takes it."""

    message: JsonValue
    subject: str | None = None
    attributes: dict[str, JsonValue] | None = None
    group_id: str | None = None
    deduplication_id: str | None = None


class EventEntry(RequestModel):
    source: str
    detail_type: str
    detail: dict[str, JsonValue] | str
    resources: list[str] | None = None
    time: str | None = Field(default=None, description="RFC 3339; default: now")


class PutEventsRequest(RequestModel):
    entries: list[EventEntry] = Field(min_length=1, max_length=PUT_EVENTS_MAX_ENTRIES)


class RedriveRequest(RequestModel):
    """``{}`` moves the whole dead-letter queue in the background (a task with progress);
    ``message_ids`` moves those messages now, with a result per id."""

    message_ids: list[str] | None = Field(default=None, min_length=1, max_length=MESSAGE_IDS_MAX)
    destination: str | None = Field(
        default=None, description="default: each message back to the queue it came from"
    )
    max_messages_per_second: int | None = Field(
        default=None, description="only for a whole-queue redrive"
    )


class ReplayRequest(RequestModel):
    name: str
    archive: str
    start: datetime | float = Field(description="RFC 3339 or seconds since the epoch")
    end: datetime | float = Field(description="RFC 3339 or seconds since the epoch")
    rules: list[str] | None = None


# -- responses -----------------------------------------------------------------------


class ErrorBody(ResponseModel):
    error: str = Field(description="a code: QueueDoesNotExist, InvalidRequest, ...")
    message: str


class Counters(ResponseModel):
    sent: int
    received: int
    deleted: int
    dead_lettered: int
    purged: int


class QueueSummary(ResponseModel):
    name: str
    arn: str
    fifo: bool
    visible: int
    in_flight: int
    delayed: int
    oldest_age_seconds: float | None
    dead_letter_queue: str | None
    max_receive_count: int | None
    dlq_depth: int | None = Field(description="messages in this queue's dead-letter queue")
    is_dlq: bool = Field(description="whether some queue dead-letters into this one")
    counters: Counters


class QueueList(ResponseModel):
    queues: list[QueueSummary]


class RedriveProgressBody(ResponseModel):
    task_id: str
    source_queue: str
    destination_queue: str | None
    status: str
    max_messages_per_second: int | None
    to_move: int
    moved: int
    skipped: int
    started_at_ms: int
    updated_at_ms: int
    failure_reason: str | None


class QueueDetail(QueueSummary):
    attributes: dict[str, JsonValue]
    dead_letter_sources: list[str]
    redrive_tasks: list[RedriveProgressBody]


class Failure(ResponseModel):
    queue: str
    function: str
    attempt: int
    error_type: str
    error_message: str
    traceback: str
    failed_at_ms: int


class PeekedMessageBody(ResponseModel):
    message_id: str
    body: JsonValue = Field(description="text, a JSON value, or base64 (body_type 'bytes')")
    body_type: Literal["text", "json", "bytes"]
    attributes: dict[str, JsonValue] = Field(description="Binary values as base64 text")
    system_attributes: dict[str, str]
    receive_count: int
    state: Literal["visible", "in_flight", "delayed"]
    sent_timestamp: int
    visible_at_timestamp: int
    group_id: str | None
    dead_letter_source_queue: str | None
    failures: list[Failure] = Field(description="why functions failed it, oldest first")


class MessagePageBody(ResponseModel):
    queue: str
    messages: list[PeekedMessageBody]
    next_page_token: str | None


class SentMessage(ResponseModel):
    message_id: str


class DeletedMessage(ResponseModel):
    queue: str
    message_id: str


class Purged(ResponseModel):
    queue: str
    purged: int


class MessageOutcome(ResponseModel):
    message_id: str
    ok: bool
    error: str | None
    message: str | None


class RedriveResult(ResponseModel):
    """What a redrive started (``task``) or did now (``results``): one of the two is set."""

    task: RedriveProgressBody | None
    results: list[MessageOutcome] | None


class SubscriptionBody(ResponseModel):
    id: str
    arn: str
    protocol: str
    endpoint: str
    raw: bool
    filter_policy: dict[str, JsonValue] | None
    dead_letter_queue: str | None


class TopicBody(ResponseModel):
    name: str
    arn: str
    fifo: bool
    subscriptions: list[SubscriptionBody]


class TopicList(ResponseModel):
    topics: list[TopicBody]


class Published(ResponseModel):
    topic: str
    message_id: str


class ArchiveBody(ResponseModel):
    name: str
    pattern: dict[str, JsonValue] | None
    retention_days: int
    event_count: int
    description: str | None


class BusBody(ResponseModel):
    name: str
    arn: str
    rules: int
    archives: list[ArchiveBody]


class BusList(ResponseModel):
    buses: list[BusBody]


class TargetBody(ResponseModel):
    id: str
    kind: str
    endpoint: str
    input: dict[str, JsonValue] | None = Field(description="input shaping, if any")
    max_attempts: int
    max_event_age_seconds: int
    dead_letter_queue: str | None
    group_id: str | None


class RuleBody(ResponseModel):
    name: str
    bus: str
    arn: str
    state: Literal["ENABLED", "DISABLED"]
    pattern: dict[str, JsonValue] | None
    schedule: str | None
    description: str | None
    targets: list[TargetBody]


class RuleList(ResponseModel):
    bus: str
    rules: list[RuleBody]


class EventOutcome(ResponseModel):
    event_id: str | None
    error_code: str | None
    error_message: str | None


class PutEventsResponse(ResponseModel):
    bus: str
    failed_entry_count: int
    entries: list[EventOutcome]


class ReplayBody(ResponseModel):
    name: str
    archive: str
    bus: str
    status: str
    replayed: int
    start_ms: int
    end_ms: int
    rules: list[str] | None
    started_at_ms: int
    updated_at_ms: int
    failure_reason: str | None


class FunctionBody(ResponseModel):
    name: str
    kind: Literal["async", "queue"] = Field(
        description="async: invoked by topics and rules; queue: fed by a queue"
    )
    pending: int | None = Field(description="invocations waiting (async functions)")
    window_seconds: int
    invocations: int
    errors: int
    messages: int
    p50_ms: float | None
    p99_ms: float | None
    total_invocations: int
    total_errors: int


class FunctionList(ResponseModel):
    window_seconds: int
    functions: list[FunctionBody]


class SessionBody(ResponseModel):
    authenticated_by: Literal["bearer", "session"]
    csrf_token: str | None = Field(description="send it as X-CSRF-Token (cookie sessions)")
    expires_at: int | None = Field(description="seconds since the epoch (cookie sessions)")
