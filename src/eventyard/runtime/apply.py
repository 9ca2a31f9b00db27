"""Apply an `App` to a database: create what is missing, update what differs.

Idempotent: applying the same app twice changes nothing the second time, and
the app file wins where the database differs (queue attributes,
subscription options, rules and their targets are brought in line). Nothing
is deleted. Then the app's `App.setup` hooks run (its own tables). Function
mappings are checked against the queues they read
(FIFO batch limits, visibility timeout against the function timeout).
"""

from __future__ import annotations

from typing import Any

from eventyard.broker.client import Client
from eventyard.errors import (
    InvalidParameterValue,
    QueueAlreadyExists,
    QueueDoesNotExist,
    SubscriptionAlreadyExists,
)
from eventyard.model.queue_config import QueueConfig
from eventyard.runtime.app import App, QueueRef
from eventyard.runtime.specs import FunctionSpec, check_mapping

#: Extra invisibility an async invocation gets beyond its function's timeout.
INVOCATION_LEASE_MARGIN_SECONDS = 30


def apply_app(app: App, client: Client) -> None:
    """Bring the database in line with the app's declarations."""
    for ref in _queues_in_order(app):
        _apply_queue(client, ref)
    for spec in app.declared_functions.values():
        if spec.trigger == "async":
            _apply_invocation_queue(client, spec)
        else:
            check_consumer(client, spec)
    for topic_ref in app.topics.values():
        topic = client.create_topic(topic_ref.name, **topic_ref.attributes)
        for subscription in topic_ref.subscriptions:
            try:
                topic.subscribe(subscription.endpoint, **subscription.options)
            except SubscriptionAlreadyExists:
                for existing in topic.subscriptions():
                    if existing.endpoint == _bare(subscription.endpoint):
                        existing.set_attributes(**subscription.options)
    for bus_ref in app.buses.values():
        bus = client.create_bus(bus_ref.name)
        for rule_ref in bus_ref.rules.values():
            rule = bus.put_rule(
                rule_ref.name,
                pattern=rule_ref.pattern,
                schedule=rule_ref.schedule,
                enabled=rule_ref.enabled,
            )
            for target in rule_ref.targets:
                rule.add_target(target.target, **target.options)
    # Several machines may apply one app at once: the hooks' CREATE TABLE IF NOT EXISTS
    # would race on PostgreSQL, so they run one process at a time.
    with client.transaction() as tx:
        tx.lock("eventyard.setup")
        for hook in app.setup_hooks:
            hook(client)


def _bare(endpoint: str) -> str:
    return endpoint.split(":", 1)[1] if endpoint.startswith("function:") else endpoint


def _queues_in_order(app: App) -> list[QueueRef]:
    """Dead-letter queues before the queues that use them."""
    ordered: list[QueueRef] = []
    seen: set[str] = set()

    def visit(ref: QueueRef, depth: int = 0) -> None:
        if ref.name in seen:
            return
        if depth > len(app.queues):
            raise InvalidParameterValue(f"queue {ref.name!r}: dead-letter queues form a cycle")
        dead_letter = ref.attributes.get("dead_letter_queue")
        if isinstance(dead_letter, str) and dead_letter in app.queues:
            visit(app.queues[dead_letter], depth + 1)
        seen.add(ref.name)
        ordered.append(ref)

    for ref in app.queues.values():
        visit(ref)
    return ordered


def _apply_queue(client: Client, ref: QueueRef) -> None:
    attributes: dict[str, Any] = dict(ref.attributes)
    try:
        client.create_queue(ref.name, **attributes)
    except QueueAlreadyExists:
        attributes.pop("fifo", None)
        client.get_queue(ref.name).set_attributes(**attributes)


def _apply_invocation_queue(client: Client, spec: FunctionSpec) -> None:
    """The internal queue of an async function: its lease covers one invocation."""
    config = QueueConfig(
        visibility_timeout=spec.timeout_seconds + INVOCATION_LEASE_MARGIN_SECONDS,
        retention_seconds=max(spec.max_event_age_seconds, 60),
    )
    store = client.store
    try:
        store.create_queue(spec.invocation_queue, config, client.now_ms())
    except QueueAlreadyExists:
        store.update_queue(spec.invocation_queue, config, client.now_ms())


def check_consumer(client: Client, spec: FunctionSpec) -> FunctionSpec:
    """Validate an event-source mapping against its queue (raises naming the problem)."""
    assert spec.queue is not None
    try:
        queue = client.get_queue(spec.queue)
    except QueueDoesNotExist:
        raise QueueDoesNotExist(
            f"function {spec.name!r} reads queue {spec.queue!r}, which does not exist; declare "
            "it with app.queue() or create it"
        ) from None
    check_mapping(
        fifo=queue.fifo,
        batch_size=spec.batch_size,
        batching_window_seconds=spec.batching_window_seconds,
        max_concurrency=spec.max_concurrency,
        timeout_seconds=spec.timeout_seconds,
        queue_visibility_timeout=queue.attributes.visibility_timeout,
        queue=spec.queue,
    )
    return spec
