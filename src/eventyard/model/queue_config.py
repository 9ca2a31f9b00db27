"""The attributes of a queue, validated once when a queue is created or changed.

`QueueConfig` is an immutable value: the store persists it as JSON and
compares two of them to decide whether a second ``create_queue`` is the same
queue (idempotent) or a conflict. Checks that need other queues (does the
dead-letter queue exist, is its type right, does it allow us) live in the
broker, which can see the store.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from eventyard.errors import InvalidParameterValue, MissingParameter
from eventyard.model import limits
from eventyard.model.names import (
    check_int_range,
    check_queue_name,
    is_fifo_name,
    queue_name_from,
    shorten,
)

RedrivePermission = Literal["allowAll", "denyAll", "byQueue"]
DeduplicationScope = Literal["queue", "messageGroup"]


@dataclass(frozen=True, slots=True)
class RedriveAllowPolicy:
    """Which source queues may use a queue as their dead-letter queue."""

    permission: RedrivePermission = "allowAll"
    source_queues: tuple[str, ...] = ()

    def allows(self, source_queue: str) -> bool:
        if self.permission == "allowAll":
            return True
        if self.permission == "denyAll":
            return False
        return source_queue in self.source_queues

    @classmethod
    def parse(cls, value: object) -> RedriveAllowPolicy:
        """Accept "allowAll", "denyAll", a list of source queue names, or the SQS JSON shape."""
        if isinstance(value, RedriveAllowPolicy):
            return value
        if value is None or value == "allowAll":
            return cls()
        if value == "denyAll":
            return cls("denyAll")
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise InvalidParameterValue(
                    f"redrive_allow_policy {shorten(value)} must be 'allowAll', 'denyAll' "
                    "or a list of source queue names"
                ) from None
        if isinstance(value, dict):
            permission = value.get("redrivePermission")
            if permission in ("allowAll", "denyAll"):
                return cls(permission)
            if permission != "byQueue":
                raise InvalidParameterValue(
                    f"redrive_allow_policy redrivePermission {shorten(permission)} must be "
                    "allowAll, denyAll or byQueue"
                )
            value = value.get("sourceQueueArns", [])
        if isinstance(value, Sequence) and not isinstance(value, str | bytes):
            names = tuple(queue_name_from(check_queue_name_like(v)) for v in value)
            if not 1 <= len(names) <= limits.REDRIVE_ALLOW_MAX_SOURCE_QUEUES:
                raise InvalidParameterValue(
                    f"redrive_allow_policy byQueue names {len(names)} source queues; it must "
                    f"name 1 to {limits.REDRIVE_ALLOW_MAX_SOURCE_QUEUES}"
                )
            return cls("byQueue", tuple(dict.fromkeys(names)))
        raise InvalidParameterValue(
            f"redrive_allow_policy {shorten(value)} must be 'allowAll', 'denyAll' or a list "
            "of source queue names"
        )


def check_queue_name_like(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidParameterValue(f"queue name {shorten(value)} must be a string")
    check_queue_name(queue_name_from(value))
    return value


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """Validated attributes of one queue. Times in seconds, sizes in bytes."""

    fifo: bool = False
    visibility_timeout: int = limits.VISIBILITY_TIMEOUT_DEFAULT_SECONDS
    delay_seconds: int = limits.DELAY_DEFAULT_SECONDS
    retention_seconds: int = limits.RETENTION_DEFAULT_SECONDS
    max_message_bytes: int = limits.MESSAGE_SIZE_DEFAULT_BYTES
    receive_wait_seconds: int = 0
    dead_letter_queue: str | None = None
    max_receive_count: int | None = None
    redrive_allow_policy: RedriveAllowPolicy = field(default_factory=RedriveAllowPolicy)
    content_based_deduplication: bool = False
    deduplication_scope: DeduplicationScope = "queue"

    def to_json(self) -> str:
        data = asdict(self)
        data["redrive_allow_policy"] = {
            "permission": self.redrive_allow_policy.permission,
            "source_queues": list(self.redrive_allow_policy.source_queues),
        }
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> QueueConfig:
        data: dict[str, Any] = json.loads(text)
        policy = data.pop("redrive_allow_policy", None) or {}
        known = set(cls.__dataclass_fields__)
        return cls(
            **{k: v for k, v in data.items() if k in known},
            redrive_allow_policy=RedriveAllowPolicy(
                policy.get("permission", "allowAll"), tuple(policy.get("source_queues", ()))
            ),
        )

    def differences(self, other: QueueConfig) -> list[str]:
        """Names of the attributes that differ, for a clear QueueAlreadyExists message."""
        return [
            name
            for name in self.__dataclass_fields__
            if getattr(self, name) != getattr(other, name)
        ]

    def with_changes(self, **changes: Any) -> QueueConfig:
        """A new config with some attributes changed, validated as a whole."""
        return build_queue_config(self.fifo, base=self, **changes)


_SETTABLE = frozenset(QueueConfig.__dataclass_fields__) - {"fifo"}


def build_queue_config(fifo: bool, base: QueueConfig | None = None, **given: Any) -> QueueConfig:
    """Validate keyword attributes and return a `QueueConfig`, or raise naming the field."""
    unknown = sorted(set(given) - _SETTABLE)
    if unknown:
        raise InvalidParameterValue(
            f"unknown queue attribute(s) {', '.join(unknown)}; known are "
            f"{', '.join(sorted(_SETTABLE))}"
        )
    config = base if base is not None else QueueConfig(fifo=fifo)
    values: dict[str, Any] = {}
    for name, value in given.items():
        if value is None and name not in ("dead_letter_queue", "max_receive_count"):
            continue
        values[name] = value
    checked: dict[str, Any] = {}
    ranges = {
        "visibility_timeout": (0, limits.VISIBILITY_TIMEOUT_MAX_SECONDS),
        "delay_seconds": (0, limits.DELAY_MAX_SECONDS),
        "retention_seconds": (limits.RETENTION_MIN_SECONDS, limits.RETENTION_MAX_SECONDS),
        "max_message_bytes": (limits.MESSAGE_SIZE_MIN_BYTES, limits.MESSAGE_SIZE_MAX_BYTES),
        "receive_wait_seconds": (0, limits.RECEIVE_WAIT_MAX_SECONDS),
    }
    for name, (low, high) in ranges.items():
        if name in values:
            checked[name] = check_int_range(values[name], name, low, high)
    if "redrive_allow_policy" in values:
        checked["redrive_allow_policy"] = RedriveAllowPolicy.parse(values["redrive_allow_policy"])
    for flag in ("content_based_deduplication",):
        if flag in values:
            if not isinstance(values[flag], bool):
                raise InvalidParameterValue(
                    f"{flag} must be True or False, got {shorten(values[flag])}"
                )
            if values[flag] and not fifo:
                raise InvalidParameterValue(
                    f"{flag} applies only to FIFO queues (names ending in .fifo)"
                )
            checked[flag] = values[flag]
    if "deduplication_scope" in values:
        scope = values["deduplication_scope"]
        if scope not in ("queue", "messageGroup"):
            raise InvalidParameterValue(
                f"deduplication_scope must be 'queue' or 'messageGroup', got {shorten(scope)}"
            )
        if not fifo and scope != "queue":
            raise InvalidParameterValue("deduplication_scope applies only to FIFO queues")
        checked["deduplication_scope"] = scope
    if "dead_letter_queue" in values or "max_receive_count" in values:
        dead_letter = values.get("dead_letter_queue", config.dead_letter_queue)
        max_receives = values.get("max_receive_count", config.max_receive_count)
        if dead_letter is None:
            if values.get("max_receive_count") is not None:
                raise MissingParameter(
                    f"max_receive_count={max_receives} needs a dead_letter_queue to move "
                    "messages to"
                )
            max_receives = None  # no dead-letter queue, no redrive policy
        else:
            if max_receives is None:
                raise MissingParameter(
                    f"dead_letter_queue={dead_letter!r} needs max_receive_count "
                    f"({limits.MAX_RECEIVE_COUNT_MIN} to {limits.MAX_RECEIVE_COUNT_MAX})"
                )
            dead_letter = queue_name_from(check_queue_name_like(dead_letter))
            max_receives = check_int_range(
                max_receives,
                "max_receive_count",
                limits.MAX_RECEIVE_COUNT_MIN,
                limits.MAX_RECEIVE_COUNT_MAX,
            )
        checked["dead_letter_queue"] = dead_letter
        checked["max_receive_count"] = max_receives
    return replace(config, **checked)


def queue_config_for(
    name: str, fifo: bool | None = None, **attributes: Any
) -> tuple[str, QueueConfig]:
    """Check a queue name and its attributes together (FIFO follows the .fifo suffix)."""
    check_queue_name(name)
    named_fifo = is_fifo_name(name)
    if fifo is not None and fifo != named_fifo:
        raise InvalidParameterValue(
            f"queue name {name!r} {'ends' if named_fifo else 'does not end'} in '.fifo' but "
            f"fifo={fifo}; FIFO queue names, and only they, end in '.fifo'"
        )
    return name, build_queue_config(named_fifo, **attributes)
