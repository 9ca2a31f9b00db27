"""Topics and subscriptions: names, attributes and their validation (pure).

A topic is standard or FIFO (name ending in ``.fifo``); a subscription ties
one endpoint (a queue, or an http(s) URL) to a topic with an optional filter
policy, raw delivery, a dead-letter queue and, for webhooks, a retry policy.
Checks that need the store (does the queue exist, is it FIFO) live in the
broker.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any, Literal

from eventyard.errors import InvalidParameterValue
from eventyard.model import limits
from eventyard.model.names import check_int_range, shorten

_TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]+")

Protocol = Literal["sqs", "http", "https", "function"]
FilterPolicyScope = Literal["MessageAttributes", "MessageBody"]


def check_topic_name(name: object) -> str:
    """1-256 characters of [A-Za-z0-9_-]; FIFO topic names end in .fifo."""
    if not isinstance(name, str):
        raise InvalidParameterValue(f"topic name must be a string, got {type(name).__name__}")
    base = name[: -len(limits.FIFO_SUFFIX)] if name.endswith(limits.FIFO_SUFFIX) else name
    if not 1 <= len(name) <= limits.TOPIC_NAME_MAX_LENGTH or not base:
        raise InvalidParameterValue(
            f"topic name {shorten(name)} has {len(name)} characters; it must have 1 to "
            f"{limits.TOPIC_NAME_MAX_LENGTH} (the .fifo suffix included)"
        )
    if not _TOPIC_NAME.fullmatch(base):
        raise InvalidParameterValue(
            f"topic name {shorten(name)} may only hold letters, digits, '-' and '_' "
            "(and end in '.fifo' for a FIFO topic)"
        )
    return name


@dataclass(frozen=True, slots=True)
class TopicConfig:
    fifo: bool = False
    content_based_deduplication: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> TopicConfig:
        data: dict[str, Any] = json.loads(text)
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def topic_config_for(
    name: str, fifo: bool | None, content_based_deduplication: bool | None
) -> TopicConfig:
    check_topic_name(name)
    named_fifo = name.endswith(limits.FIFO_SUFFIX)
    if fifo is not None and fifo != named_fifo:
        raise InvalidParameterValue(
            f"topic name {name!r} {'ends' if named_fifo else 'does not end'} in '.fifo' but "
            f"fifo={fifo}; FIFO topic names, and only they, end in '.fifo'"
        )
    if content_based_deduplication is not None and not isinstance(
        content_based_deduplication, bool
    ):
        raise InvalidParameterValue("content_based_deduplication must be True or False")
    if content_based_deduplication and not named_fifo:
        raise InvalidParameterValue(
            "content_based_deduplication applies only to FIFO topics (names ending in .fifo)"
        )
    return TopicConfig(named_fifo, bool(content_based_deduplication))


@dataclass(frozen=True, slots=True)
class SubscriptionConfig:
    """What a subscription delivers, where, and how it retries."""

    protocol: Protocol
    endpoint: str  # a queue name, or a URL
    filter_policy: str | None = None  # canonical JSON text
    filter_policy_scope: FilterPolicyScope = "MessageAttributes"
    raw_message_delivery: bool = False
    dead_letter_queue: str | None = None
    max_retries: int = limits.WEBHOOK_RETRIES_DEFAULT
    retry_delay_seconds: int = limits.WEBHOOK_RETRY_DELAY_DEFAULT_SECONDS

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> SubscriptionConfig:
        data: dict[str, Any] = json.loads(text)
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def differences(self, other: SubscriptionConfig) -> list[str]:
        return [
            name
            for name in self.__dataclass_fields__
            if getattr(self, name) != getattr(other, name)
        ]


def check_subscription_options(
    *,
    filter_policy_scope: object,
    raw: object,
    max_retries: object,
    retry_delay_seconds: object,
) -> tuple[FilterPolicyScope, bool, int, int]:
    if filter_policy_scope not in ("MessageAttributes", "MessageBody"):
        raise InvalidParameterValue(
            f"filter_policy_scope must be 'MessageAttributes' or 'MessageBody', got "
            f"{shorten(filter_policy_scope)}"
        )
    if not isinstance(raw, bool):
        raise InvalidParameterValue(f"raw must be True or False, got {shorten(raw)}")
    retries = check_int_range(max_retries, "max_retries", 0, limits.WEBHOOK_RETRIES_MAX)
    delay = check_int_range(
        retry_delay_seconds, "retry_delay_seconds", 1, limits.WEBHOOK_RETRY_DELAY_MAX_SECONDS
    )
    scope: FilterPolicyScope = (
        "MessageBody" if filter_policy_scope == "MessageBody" else "MessageAttributes"
    )
    return scope, raw, retries, delay
