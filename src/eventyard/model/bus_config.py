"""Event buses, rules and targets: names, attributes, events (pure).

The envelope every event on a bus has (``version``, ``id``, ``detail-type``,
``source``, ``account``, ``time``, ``region``, ``resources``, ``detail``), the
checks of a `put_events` entry (each failing entry gets its own error code,
the others go through), and the validated settings of rules and targets.
What needs the store (does the target queue exist) lives in the broker.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from eventyard.errors import InvalidParameterValue
from eventyard.model import limits
from eventyard.model.body import check_text, text_size_bytes
from eventyard.model.names import check_int_range, shorten

_BUS_NAME = re.compile(r"[/.\-_A-Za-z0-9]+")
_RULE_NAME = re.compile(r"[.\-_A-Za-z0-9]+")

TargetKind = Literal["queue", "topic", "bus", "webhook", "function"]
RuleState = Literal["ENABLED", "DISABLED"]


def check_bus_name(name: object) -> str:
    if not isinstance(name, str):
        raise InvalidParameterValue(f"bus name must be a string, got {type(name).__name__}")
    if not 1 <= len(name) <= limits.BUS_NAME_MAX_LENGTH or not _BUS_NAME.fullmatch(name):
        raise InvalidParameterValue(
            f"bus name {shorten(name)} must be 1 to {limits.BUS_NAME_MAX_LENGTH} characters of "
            "letters, digits, '.', '-', '_' and '/'"
        )
    return name


def check_rule_name(name: object, field: str = "rule name") -> str:
    if not isinstance(name, str):
        raise InvalidParameterValue(f"{field} must be a string, got {type(name).__name__}")
    if not 1 <= len(name) <= limits.RULE_NAME_MAX_LENGTH or not _RULE_NAME.fullmatch(name):
        raise InvalidParameterValue(
            f"{field} {shorten(name)} must be 1 to {limits.RULE_NAME_MAX_LENGTH} characters of "
            "letters, digits, '.', '-' and '_'"
        )
    return name


@dataclass(frozen=True, slots=True)
class RuleConfig:
    pattern: str | None  # canonical JSON of the compiled pattern
    schedule: str | None  # normalized schedule expression
    state: RuleState = "ENABLED"
    description: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> RuleConfig:
        data: dict[str, Any] = json.loads(text)
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class TargetConfig:
    """One target of a rule: where the event goes and in what shape."""

    target_id: str
    kind: TargetKind
    endpoint: str  # queue, topic or bus name, or URL
    input_shape: str  # TargetInput.to_json()
    max_attempts: int = limits.TARGET_RETRY_ATTEMPTS_DEFAULT
    max_event_age_seconds: int = limits.TARGET_EVENT_AGE_DEFAULT_SECONDS
    dead_letter_queue: str | None = None
    group_id: str | None = None  # for FIFO queue targets (SqsParameters.MessageGroupId)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> TargetConfig:
        data: dict[str, Any] = json.loads(text)
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def check_retry_policy(max_attempts: object, max_event_age_seconds: object) -> tuple[int, int]:
    attempts = check_int_range(
        limits.TARGET_RETRY_ATTEMPTS_DEFAULT if max_attempts is None else max_attempts,
        "max_attempts",
        0,
        limits.TARGET_RETRY_ATTEMPTS_MAX,
    )
    age = check_int_range(
        limits.TARGET_EVENT_AGE_DEFAULT_SECONDS
        if max_event_age_seconds is None
        else max_event_age_seconds,
        "max_event_age_seconds",
        limits.TARGET_EVENT_AGE_MIN_SECONDS,
        limits.TARGET_EVENT_AGE_MAX_SECONDS,
    )
    return attempts, age


# -- events -------------------------------------------------------------------


class EntryError(Exception):
    """A put_events entry that cannot go on the bus: an error code and a message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def rfc3339(moment: datetime) -> str:
    """EventBridge's event time: RFC 3339 UTC to the second, e.g. 2026-11-26T22:00:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _event_time(value: object, now_ms: int) -> datetime:
    if value is None:
        return datetime.fromtimestamp(now_ms / 1000, tz=UTC)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise EntryError("InvalidArgument", "time must be timezone-aware (UTC)")
        return value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise EntryError(
                "InvalidArgument", f"time {shorten(value)} is not an RFC 3339 timestamp"
            ) from None
        if parsed.tzinfo is None:
            raise EntryError("InvalidArgument", f"time {shorten(value)} has no time zone")
        return parsed
    raise EntryError("InvalidArgument", f"time must be a datetime or RFC 3339 text, got {value!r}")


def build_event(
    entry: Mapping[str, Any],
    *,
    event_id: str,
    now_ms: int,
    account: str,
    region: str,
) -> tuple[dict[str, Any], int]:
    """The bus envelope of one put_events entry and its time in ms, or an EntryError."""
    source = entry.get("source", entry.get("Source"))
    detail_type = entry.get("detail_type", entry.get("detail-type", entry.get("DetailType")))
    detail = entry.get("detail", entry.get("Detail"))
    resources = entry.get("resources", entry.get("Resources", []))
    if source is None or source == "":
        raise EntryError("MissingSource", "source is required")
    if not isinstance(source, str) or len(source) > limits.SOURCE_MAX_LENGTH:
        raise EntryError(
            "InvalidArgument",
            f"source must be text of at most {limits.SOURCE_MAX_LENGTH} characters",
        )
    if detail_type is None or detail_type == "":
        raise EntryError("MissingDetailType", "detail_type is required")
    if not isinstance(detail_type, str) or len(detail_type) > limits.DETAIL_TYPE_MAX_LENGTH:
        raise EntryError(
            "InvalidArgument",
            f"detail_type must be text of at most {limits.DETAIL_TYPE_MAX_LENGTH} characters, "
            f"got {shorten(detail_type)}",
        )
    if detail is None:
        raise EntryError("MissingDetail", "detail is required (a JSON object)")
    if isinstance(detail, str):
        try:
            detail = json.loads(detail)
        except ValueError:
            raise EntryError("MalformedDetail", "detail is not valid JSON") from None
    if not isinstance(detail, dict):
        raise EntryError(
            "MalformedDetail", f"detail must be a JSON object, got {type(detail).__name__}"
        )
    if (
        not isinstance(resources, Sequence)
        or isinstance(resources, str | bytes)
        or not all(isinstance(item, str) for item in resources)
    ):
        raise EntryError("InvalidArgument", "resources must be a list of strings (ARNs)")
    try:
        for text in (source, detail_type, *resources):
            check_text(text)
    except InvalidParameterValue as exc:
        raise EntryError("InvalidArgument", str(exc)) from None
    moment = _event_time(entry.get("time", entry.get("Time")), now_ms)
    event = {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": rfc3339(moment),
        "region": region,
        "resources": list(resources),
        "detail": detail,
    }
    return event, int(moment.timestamp() * 1000)


def event_json(event: Mapping[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def check_event_size(text: str) -> None:
    size = text_size_bytes(text)
    if size > limits.EVENT_ENTRY_MAX_BYTES:
        raise EntryError(
            "EventTooLarge",
            f"the event is {size} bytes; an entry may have at most {limits.EVENT_ENTRY_MAX_BYTES}",
        )


@functools.lru_cache(maxsize=4)
def ingestion_time(now_ms: int) -> str:
    """``aws.events.event.ingestion-time``: formatted once per put, not once per event."""
    return rfc3339(datetime.fromtimestamp(now_ms / 1000, tz=UTC))


def moment_ms(value: object, field: str) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidParameterValue(f"{field} must be timezone-aware")
        return int(value.timestamp() * 1000)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value * 1000)
    raise InvalidParameterValue(
        f"{field} must be a datetime or epoch seconds, got {shorten(value)}"
    )


def event_time_ms_of(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
