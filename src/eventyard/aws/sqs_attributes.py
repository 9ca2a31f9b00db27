"""Queue attributes as SQS names them (strings on the wire) ↔ eventyard's `QueueConfig`.

CreateQueue and SetQueueAttributes give ``{"VisibilityTimeout": "30",
"RedrivePolicy": "{...JSON...}", ...}``; eventyard's queues take keyword
attributes (``visibility_timeout=30``, ``dead_letter_queue=..., max_receive_count=...``)
and validate them as a whole. This module translates both ways and picks
SQS's error codes: an unknown or misplaced attribute name is
``InvalidAttributeName``, a bad value ``InvalidAttributeValue``, a bad
redrive policy ``InvalidParameterValue`` naming RedrivePolicy.

Attributes eventyard has no use for (``Policy``, the KMS ones,
``SqsManagedSseEnabled``, ``FifoThroughputLimit``) are accepted, checked for
form and not kept; see docs/aws-compatibility.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from eventyard.aws.context import Call
from eventyard.aws.errors import AwsError
from eventyard.aws.sqs_common import queue_arn
from eventyard.model import limits
from eventyard.model.names import queue_name_from
from eventyard.model.queue_config import QueueConfig
from eventyard.store.records import QueueRecord, QueueStats

#: SQS integer attribute → eventyard keyword.
_INTEGERS: Final = {
    "DelaySeconds": "delay_seconds",
    "MaximumMessageSize": "max_message_bytes",
    "MessageRetentionPeriod": "retention_seconds",
    "ReceiveMessageWaitTimeSeconds": "receive_wait_seconds",
    "VisibilityTimeout": "visibility_timeout",
}
_FIFO_ONLY: Final = frozenset(
    {"ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"}
)
#: Accepted for compatibility (infrastructure tools send them) and not kept.
_IGNORED: Final = frozenset(
    {"Policy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled"}
)
SETTABLE: Final = frozenset(
    {*_INTEGERS, *_FIFO_ONLY, *_IGNORED, "RedrivePolicy", "RedriveAllowPolicy", "FifoQueue"}
)
_COMPUTED: Final = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
)
READABLE: Final = frozenset({*SETTABLE, *_COMPUTED})


def _invalid_value(name: str, value: str, reason: str) -> AwsError:
    return AwsError(
        "InvalidAttributeValue", f"Invalid value for the parameter {name}: {value!r} ({reason})."
    )


def _integer(name: str, value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise _invalid_value(name, value, "not a whole number") from None


def _boolean(name: str, value: str) -> bool:
    if value.lower() not in ("true", "false"):
        raise _invalid_value(name, value, "must be true or false")
    return value.lower() == "true"


def is_fifo(name: str, attributes: Mapping[str, str]) -> bool:
    """A FIFO queue: its name ends in .fifo, which FifoQueue (if given) must agree with."""
    named_fifo = name.endswith(".fifo")
    given = attributes.get("FifoQueue")
    if given is not None and _boolean("FifoQueue", given) != named_fifo:
        raise AwsError(
            "InvalidParameterValue",
            f"The name of a FIFO queue must end with the .fifo suffix and a queue with that "
            f"suffix is a FIFO queue: {name!r} with FifoQueue={given}.",
        )
    return named_fifo


def config_changes(attributes: Mapping[str, str], *, fifo: bool) -> dict[str, Any]:
    """The eventyard keyword attributes for SQS ``attributes`` of a (FIFO or not) queue."""
    changes: dict[str, Any] = {}
    for name, value in attributes.items():
        if name not in SETTABLE or (name in _FIFO_ONLY and not fifo):
            raise AwsError("InvalidAttributeName", f"Unknown Attribute {name}.")
        if name in _INTEGERS:
            changes[_INTEGERS[name]] = _integer(name, value)
        elif name == "ContentBasedDeduplication":
            changes["content_based_deduplication"] = _boolean(name, value)
        elif name == "DeduplicationScope":
            if value not in ("queue", "messageGroup"):
                raise _invalid_value(name, value, "must be queue or messageGroup")
            changes["deduplication_scope"] = value
        elif name == "FifoThroughputLimit":
            if value not in ("perQueue", "perMessageGroupId"):
                raise _invalid_value(name, value, "must be perQueue or perMessageGroupId")
        elif name == "RedrivePolicy":
            changes.update(_redrive_policy(value))
        elif name == "RedriveAllowPolicy":
            changes["redrive_allow_policy"] = value or "allowAll"
        elif name == "SqsManagedSseEnabled":
            _boolean(name, value)
        elif name == "KmsDataKeyReusePeriodSeconds":
            _integer(name, value)
    return changes


def _redrive_policy(text: str) -> dict[str, Any]:
    """``{"deadLetterTargetArn": ..., "maxReceiveCount": ...}``; empty text removes it."""
    if not text.strip():
        return {"dead_letter_queue": None, "max_receive_count": None}
    try:
        policy = json.loads(text)
    except ValueError:
        policy = None
    if not isinstance(policy, dict):
        raise redrive_error(text, "it is not a JSON object")
    target = policy.get("deadLetterTargetArn")
    count = policy.get("maxReceiveCount")
    if not isinstance(target, str) or not target.startswith("arn:"):
        raise redrive_error(text, "deadLetterTargetArn must be the ARN of a queue")
    if isinstance(count, str) and count.strip().isdigit():
        count = int(count)
    if isinstance(count, bool) or not isinstance(count, int):
        raise redrive_error(text, "maxReceiveCount must be a whole number")
    if not limits.MAX_RECEIVE_COUNT_MIN <= count <= limits.MAX_RECEIVE_COUNT_MAX:
        raise redrive_error(
            text,
            f"maxReceiveCount must be from {limits.MAX_RECEIVE_COUNT_MIN} to "
            f"{limits.MAX_RECEIVE_COUNT_MAX}",
        )
    return {"dead_letter_queue": queue_name_from(target), "max_receive_count": count}


def redrive_error(text: str, reason: str) -> AwsError:
    return AwsError(
        "InvalidParameterValue",
        f"Value {text} for parameter RedrivePolicy is invalid. Reason: {reason}.",
    )


# -- reading ------------------------------------------------------------------------------


def requested_names(names: Sequence[str]) -> list[str]:
    """The attribute names a GetQueueAttributes asks for (All: every one)."""
    for name in names:
        if name != "All" and name not in READABLE:
            raise AwsError("InvalidAttributeName", f"Unknown Attribute {name}.")
    if "All" in names:
        return sorted(READABLE)
    return list(dict.fromkeys(names))


def queue_attributes(
    call: Call, record: QueueRecord, names: Sequence[str], stats: QueueStats | None
) -> dict[str, str]:
    """The values of ``names`` (from `requested_names`) that this queue has."""
    values = _config_values(call, record.config)
    if stats is not None:
        values["ApproximateNumberOfMessages"] = str(stats.visible)
        values["ApproximateNumberOfMessagesNotVisible"] = str(stats.in_flight)
        values["ApproximateNumberOfMessagesDelayed"] = str(stats.delayed)
    created = str(record.created_at_ms // 1000)
    values["CreatedTimestamp"] = created
    # The store keeps no modification time in the record it returns: see the report.
    values["LastModifiedTimestamp"] = created
    values["QueueArn"] = queue_arn(call, record.name)
    return {name: values[name] for name in names if name in values}


def needs_stats(names: Sequence[str]) -> bool:
    return any(name.startswith("ApproximateNumberOfMessages") for name in names)


def _config_values(call: Call, config: QueueConfig) -> dict[str, str]:
    values = {
        "VisibilityTimeout": str(config.visibility_timeout),
        "DelaySeconds": str(config.delay_seconds),
        "MessageRetentionPeriod": str(config.retention_seconds),
        "MaximumMessageSize": str(config.max_message_bytes),
        "ReceiveMessageWaitTimeSeconds": str(config.receive_wait_seconds),
        "SqsManagedSseEnabled": "false",
    }
    if config.dead_letter_queue is not None:
        values["RedrivePolicy"] = _compact(
            {
                "deadLetterTargetArn": queue_arn(call, config.dead_letter_queue),
                "maxReceiveCount": config.max_receive_count,
            }
        )
    allow = config.redrive_allow_policy
    if allow.permission != "allowAll":
        policy: dict[str, Any] = {"redrivePermission": allow.permission}
        if allow.permission == "byQueue":
            policy["sourceQueueArns"] = [queue_arn(call, name) for name in allow.source_queues]
        values["RedriveAllowPolicy"] = _compact(policy)
    if config.fifo:
        values["FifoQueue"] = "true"
        values["ContentBasedDeduplication"] = str(config.content_based_deduplication).lower()
        values["DeduplicationScope"] = config.deduplication_scope
        # Not kept: high-throughput mode sets both, so the scope stands for it.
        values["FifoThroughputLimit"] = (
            "perMessageGroupId" if config.deduplication_scope == "messageGroup" else "perQueue"
        )
    return values


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))
