"""`Subscription`: one endpoint subscribed to a topic, and the checks of its options.

A subscription delivers a topic's messages to a queue or an http(s) webhook,
filtered by an optional policy (compiled here to validate it), raw or in the
SNS envelope, with a dead-letter queue and, for webhooks, a retry policy.
Publishing through subscriptions is `Topic`'s job.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from eventyard.errors import InvalidParameterValue, QueueDoesNotExist
from eventyard.model import limits
from eventyard.model.names import check_queue_name, queue_name_from, shorten
from eventyard.model.topic_config import Protocol, SubscriptionConfig, check_subscription_options
from eventyard.patterns import compile_filter_policy
from eventyard.store.records import SubscriptionRecord

if TYPE_CHECKING:
    from eventyard.broker.client import Client


class Subscription:
    """One endpoint subscribed to a topic."""

    def __init__(self, client: Client, record: SubscriptionRecord) -> None:
        self._client = client
        self._record = record

    @property
    def id(self) -> str:
        return self._record.id

    @property
    def arn(self) -> str:
        return self._client.identity.subscription_arn(self._record.topic_name, self._record.id)

    @property
    def topic(self) -> str:
        return self._record.topic_name

    @property
    def protocol(self) -> str:
        return self._record.config.protocol

    @property
    def endpoint(self) -> str:
        return self._record.config.endpoint

    @property
    def config(self) -> SubscriptionConfig:
        return self._record.config

    @property
    def filter_policy(self) -> dict[str, Any] | None:
        text = self._record.config.filter_policy
        return None if text is None else dict(json.loads(text))

    def set_attributes(self, **changes: Any) -> Subscription:
        """Change filter_policy, filter_policy_scope, raw, dead_letter_queue or the retries."""
        current = self._record.config
        allowed = {
            "filter_policy",
            "filter_policy_scope",
            "raw",
            "dead_letter_queue",
            "max_retries",
            "retry_delay_seconds",
        }
        unknown = sorted(set(changes) - allowed)
        if unknown:
            raise InvalidParameterValue(
                f"unknown subscription attribute(s) {', '.join(unknown)}; known are "
                f"{', '.join(sorted(allowed))}"
            )
        merged = {
            "filter_policy": self.filter_policy,
            "filter_policy_scope": current.filter_policy_scope,
            "raw": current.raw_message_delivery,
            "dead_letter_queue": current.dead_letter_queue,
            "max_retries": current.max_retries,
            "retry_delay_seconds": current.retry_delay_seconds,
            **changes,
        }
        config = subscription_config(current.protocol, current.endpoint, **merged)
        self._record = self._client.store.update_subscription(self.id, config)
        return self

    def unsubscribe(self) -> None:
        self._client.store.unsubscribe(self.id)

    def __repr__(self) -> str:
        return f"Subscription({self.topic!r} -> {self.protocol}:{self.endpoint})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Subscription) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


def subscription_config(
    protocol: str,
    endpoint: str,
    *,
    filter_policy: object = None,
    filter_policy_scope: object = "MessageAttributes",
    raw: object = False,
    dead_letter_queue: object = None,
    max_retries: object = None,
    retry_delay_seconds: object = None,
) -> SubscriptionConfig:
    """Validate subscription options (the filter policy is compiled to check it)."""
    scope, raw_delivery, retries, delay = check_subscription_options(
        filter_policy_scope=filter_policy_scope,
        raw=raw,
        max_retries=limits.WEBHOOK_RETRIES_DEFAULT if max_retries is None else max_retries,
        retry_delay_seconds=(
            limits.WEBHOOK_RETRY_DELAY_DEFAULT_SECONDS
            if retry_delay_seconds is None
            else retry_delay_seconds
        ),
    )
    if protocol == "function" and raw_delivery:
        raise InvalidParameterValue(
            "raw delivery does not apply to function subscriptions: a function gets the "
            "SNS notification, as a Lambda subscriber does"
        )
    policy_text = None
    if filter_policy is not None:
        compiled = compile_filter_policy(filter_policy, scope=scope)  # type: ignore[arg-type]
        policy_text = compiled.json
    dlq = None
    if dead_letter_queue is not None:
        if not isinstance(dead_letter_queue, str):
            dead_letter_queue = getattr(dead_letter_queue, "name", dead_letter_queue)
        if not isinstance(dead_letter_queue, str):
            raise InvalidParameterValue(
                f"dead_letter_queue must be a queue or its name, got {shorten(dead_letter_queue)}"
            )
        dlq = queue_name_from(dead_letter_queue)
    return SubscriptionConfig(
        protocol=_protocol(protocol),
        endpoint=endpoint,
        filter_policy=policy_text,
        filter_policy_scope=scope,
        raw_message_delivery=raw_delivery,
        dead_letter_queue=dlq,
        max_retries=retries,
        retry_delay_seconds=delay,
    )


def endpoint_of(endpoint: object) -> tuple[str, str]:
    """("sqs", queue name) or ("http"|"https", URL) for what subscribe was given."""
    name = getattr(endpoint, "name", None)
    if isinstance(name, str) and not isinstance(endpoint, str):
        return "sqs", name
    if not isinstance(endpoint, str) or not endpoint:
        raise InvalidParameterValue(
            f"subscribe needs a queue, a queue name, or an http(s) URL; got {shorten(endpoint)}"
        )
    lowered = endpoint.lower()
    if lowered.startswith(("http://", "https://")):
        from eventyard.delivery.webhook import check_webhook_url

        return ("https" if lowered.startswith("https://") else "http"), check_webhook_url(endpoint)
    if "://" in endpoint:
        raise InvalidParameterValue(f"webhook URL {shorten(endpoint)} must use http or https")
    if endpoint.startswith("function:"):
        return "function", endpoint.split(":", 1)[1]
    try:
        return "sqs", check_queue_name(queue_name_from(endpoint))
    except InvalidParameterValue:
        raise QueueDoesNotExist(
            f"{shorten(endpoint)} is neither a queue name nor an http(s) URL"
        ) from None


def _protocol(protocol: str) -> Protocol:
    if protocol == "sqs":
        return "sqs"
    if protocol == "function":
        return "function"
    return "https" if protocol == "https" else "http"
