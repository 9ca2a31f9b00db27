"""`Rule`: one rule of an event bus, and its targets.

A rule has an event pattern or a schedule (or both), a state, and up to five
targets; this handle adds, replaces and removes targets (checking their
input shaping and retry policy) and enables, disables or deletes the rule.
Routing events through rules is `EventBus`'s job.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from eventyard.errors import InvalidParameterValue
from eventyard.model import limits
from eventyard.model.bus_config import (
    RuleConfig,
    TargetConfig,
    TargetKind,
    check_retry_policy,
    check_rule_name,
)
from eventyard.model.names import check_fifo_id, queue_name_from, shorten
from eventyard.model.target_input import TargetInput
from eventyard.store.records import RuleRecord

if TYPE_CHECKING:
    from eventyard.broker.bus import EventBus
    from eventyard.broker.client import Client
    from eventyard.broker.queue import Queue
    from eventyard.broker.topic import Topic


class Rule:
    """A rule of an event bus: a pattern or a schedule, and up to five targets."""

    def __init__(self, client: Client, record: RuleRecord) -> None:
        self._client = client
        self._record = record

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def bus(self) -> str:
        return self._record.bus_name

    @property
    def arn(self) -> str:
        return self._client.identity.rule_arn(self.bus, self.name)

    @property
    def pattern(self) -> dict[str, Any] | None:
        text = self._record.config.pattern
        return None if text is None else dict(json.loads(text))

    @property
    def schedule(self) -> str | None:
        return self._record.config.schedule

    @property
    def enabled(self) -> bool:
        return self._record.enabled

    @property
    def description(self) -> str | None:
        return self._record.config.description

    def __repr__(self) -> str:
        return f"Rule({self.bus!r}/{self.name!r})"

    def add_target(
        self,
        target: Queue | Topic | EventBus | str,
        *,
        id: str | None = None,
        input: str | None = None,
        input_path: str | None = None,
        input_transformer: Mapping[str, Any] | None = None,
        max_attempts: int | None = None,
        max_event_age_seconds: int | None = None,
        dead_letter_queue: Queue | str | None = None,
        group_id: str | None = None,
    ) -> str:
        """Add (or replace, by id) a target; returns its id.

        ``target`` is a `Queue`, `Topic` or `EventBus` (or ``"queue:name"``,
        ``"topic:name"``, ``"bus:name"``, an ARN, or an http(s) URL for a
        webhook). ``max_attempts`` (0-185, default 185) and
        ``max_event_age_seconds`` (60-86,400, default 86,400) are the retry policy
        of webhook targets; ``dead_letter_queue`` gets what cannot be delivered.
        """
        kind, endpoint = _target_endpoint(target)
        default_id = re.sub(r"[^.\-_A-Za-z0-9]+", "-", f"{kind}-{endpoint}")[:64]
        target_id = check_rule_name(default_id if id is None else id, "target id")
        shape = TargetInput.build(
            input=input, input_path=input_path, input_transformer=input_transformer
        )
        attempts, age = check_retry_policy(max_attempts, max_event_age_seconds)
        dead_letter = None
        if dead_letter_queue is not None:
            name = getattr(dead_letter_queue, "name", dead_letter_queue)
            if not isinstance(name, str):
                raise InvalidParameterValue("dead_letter_queue must be a queue or its name")
            dead_letter = queue_name_from(name)
        if group_id is not None:
            check_fifo_id(group_id, "group_id", limits.FIFO_GROUP_ID_MAX_LENGTH)
        config = TargetConfig(
            target_id=target_id,
            kind=kind,
            endpoint=endpoint,
            input_shape=shape.to_json(),
            max_attempts=attempts,
            max_event_age_seconds=age,
            dead_letter_queue=dead_letter,
            group_id=group_id,
        )
        self._client.store.put_targets(self.bus, self.name, [config])
        return target_id

    def remove_target(self, target_id: str) -> None:
        self._client.store.remove_targets(self.bus, self.name, [target_id])

    def targets(self) -> list[TargetConfig]:
        return self._client.store.rule_targets(self._record)

    def enable(self) -> Rule:
        return self._set_state("ENABLED")

    def disable(self) -> Rule:
        return self._set_state("DISABLED")

    def _set_state(self, state: str) -> Rule:
        config = self._record.config
        new = RuleConfig(config.pattern, config.schedule, state, config.description)  # type: ignore[arg-type]
        self._record = self._client.store.put_rule(self.bus, self.name, new, self._client.now_ms())
        return self

    def delete(self, *, force: bool = False) -> None:
        """Delete the rule (``force=True`` also removes its targets)."""
        self._client.store.delete_rule(self.bus, self.name, force)


def _target_endpoint(target: object) -> tuple[TargetKind, str]:
    """(kind, name or URL) of a rule target."""
    from eventyard.broker.bus import EventBus
    from eventyard.broker.queue import Queue
    from eventyard.broker.topic import Topic

    if isinstance(target, Queue):
        return "queue", target.name
    if isinstance(target, Topic):
        return "topic", target.name
    if isinstance(target, EventBus):
        return "bus", target.name
    if not isinstance(target, str) or not target:
        raise InvalidParameterValue(
            f"a target is a Queue, Topic, EventBus, an ARN, or an http(s) URL; got "
            f"{shorten(target)}"
        )
    lowered = target.lower()
    if lowered.startswith(("http://", "https://")):
        from eventyard.delivery.webhook import check_webhook_url

        return "webhook", check_webhook_url(target)
    if target.startswith("arn:aws:sqs:"):
        return "queue", target.rsplit(":", 1)[-1]
    if target.startswith("arn:aws:sns:"):
        return "topic", target.rsplit(":", 1)[-1]
    if target.startswith("arn:aws:events:") and ":event-bus/" in target:
        return "bus", target.split(":event-bus/", 1)[1]
    prefix, sep, name = target.partition(":")
    if sep and prefix == "queue":
        return "queue", name
    if sep and prefix == "topic":
        return "topic", name
    if sep and prefix == "bus":
        return "bus", name
    if sep and prefix == "function":
        return "function", name
    raise InvalidParameterValue(
        f"target {shorten(target)} is not a Queue, Topic, EventBus, ARN, 'queue:name', "
        "'topic:name', 'bus:name' or http(s) URL"
    )
