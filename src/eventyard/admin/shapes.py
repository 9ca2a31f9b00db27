"""The broker's objects as admin API response models (no I/O beyond what is passed in).

Binary values (a bytes body, Binary attributes) become base64 text, so every
answer is plain JSON; the caller renders them escaped.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Literal

from eventyard.admin import models
from eventyard.broker.batch import MessageIdResult
from eventyard.broker.rule import Rule
from eventyard.broker.subscription import Subscription
from eventyard.model.bus_config import TargetConfig
from eventyard.model.peek import PeekedMessage
from eventyard.model.queue_config import QueueConfig
from eventyard.model.stats import FunctionStats
from eventyard.store.records import (
    ArchiveRecord,
    FailureRecord,
    MoveTaskRecord,
    QueueCounters,
    QueueStats,
    ReplayRecord,
)


def plain(value: object) -> Any:
    """A JSON value: bytes as base64, tuples as lists, mappings' keys as text."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def counters(record: QueueCounters) -> models.Counters:
    return models.Counters.model_validate(record, from_attributes=True)


def queue_summary(
    name: str,
    arn: str,
    config: QueueConfig,
    stats: QueueStats,
    totals: QueueCounters,
    *,
    dlq_depth: int | None,
    is_dlq: bool,
) -> models.QueueSummary:
    return models.QueueSummary(
        name=name,
        arn=arn,
        fifo=config.fifo,
        visible=stats.visible,
        in_flight=stats.in_flight,
        delayed=stats.delayed,
        oldest_age_seconds=stats.oldest_age_seconds,
        dead_letter_queue=config.dead_letter_queue,
        max_receive_count=config.max_receive_count,
        dlq_depth=dlq_depth,
        is_dlq=is_dlq,
        counters=counters(totals),
    )


def queue_attributes(config: QueueConfig) -> dict[str, Any]:
    return dict(json.loads(config.to_json()))


def redrive_progress(record: MoveTaskRecord) -> models.RedriveProgressBody:
    return models.RedriveProgressBody.model_validate(record, from_attributes=True)


def failure(record: FailureRecord) -> models.Failure:
    return models.Failure.model_validate(record, from_attributes=True)


def peeked(message: PeekedMessage, failures: list[FailureRecord]) -> models.PeekedMessageBody:
    body = message.body
    body_type: Literal["text", "json", "bytes"] = (
        "bytes" if isinstance(body, bytes) else "text" if isinstance(body, str) else "json"
    )
    return models.PeekedMessageBody(
        message_id=message.message_id,
        body=plain(body),
        body_type=body_type,
        attributes=plain(message.attributes),
        system_attributes=dict(message.system_attributes),
        receive_count=message.receive_count,
        state=message.state,
        sent_timestamp=message.sent_timestamp,
        visible_at_timestamp=message.visible_at_timestamp,
        group_id=message.group_id,
        dead_letter_source_queue=message.dead_letter_source_queue,
        failures=[failure(record) for record in failures],
    )


def outcome(result: MessageIdResult) -> models.MessageOutcome:
    error = result.error
    return models.MessageOutcome(
        message_id=result.message_id,
        ok=error is None,
        error=None if error is None else type(error).__name__,
        message=None if error is None else str(error),
    )


def subscription(item: Subscription) -> models.SubscriptionBody:
    return models.SubscriptionBody(
        id=item.id,
        arn=item.arn,
        protocol=item.protocol,
        endpoint=item.endpoint,
        raw=item.config.raw_message_delivery,
        filter_policy=plain(item.filter_policy),
        dead_letter_queue=item.config.dead_letter_queue,
    )


def archive(record: ArchiveRecord) -> models.ArchiveBody:
    return models.ArchiveBody(
        name=record.name,
        pattern=None if record.pattern is None else json.loads(record.pattern),
        retention_days=record.retention_days,
        event_count=record.event_count,
        description=record.description,
    )


def target(config: TargetConfig) -> models.TargetBody:
    shape = json.loads(config.input_shape) if config.input_shape else None
    return models.TargetBody(
        id=config.target_id,
        kind=config.kind,
        endpoint=config.endpoint,
        input=shape if isinstance(shape, dict) and any(shape.values()) else None,
        max_attempts=config.max_attempts,
        max_event_age_seconds=config.max_event_age_seconds,
        dead_letter_queue=config.dead_letter_queue,
        group_id=config.group_id,
    )


def rule(item: Rule) -> models.RuleBody:
    return models.RuleBody(
        name=item.name,
        bus=item.bus,
        arn=item.arn,
        state="ENABLED" if item.enabled else "DISABLED",
        pattern=plain(item.pattern),
        schedule=item.schedule,
        description=item.description,
        targets=[target(config) for config in item.targets()],
    )


def replay(record: ReplayRecord) -> models.ReplayBody:
    return models.ReplayBody(
        name=record.name,
        archive=record.archive,
        bus=record.bus_name,
        status=record.status,
        replayed=record.replayed,
        start_ms=record.start_ms,
        end_ms=record.end_ms,
        rules=None if record.rules is None else list(record.rules),
        started_at_ms=record.started_at_ms,
        updated_at_ms=record.updated_at_ms,
        failure_reason=record.failure_reason,
    )


def function(
    name: str, stats: FunctionStats | None, *, pending: int | None, window_seconds: int
) -> models.FunctionBody:
    return models.FunctionBody(
        name=name,
        kind="queue" if pending is None else "async",
        pending=pending,
        window_seconds=window_seconds,
        invocations=0 if stats is None else stats.invocations,
        errors=0 if stats is None else stats.errors,
        messages=0 if stats is None else stats.messages,
        p50_ms=None if stats is None else stats.p50_ms,
        p99_ms=None if stats is None else stats.p99_ms,
        total_invocations=0 if stats is None else stats.total_invocations,
        total_errors=0 if stats is None else stats.total_errors,
    )
