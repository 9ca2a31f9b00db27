"""`App`: an event-driven application's topology and functions, declared in Python.

The app file is the source of truth, like a SAM template: it declares queues,
topics and their subscriptions, buses and rules, functions (fed by queues,
topics and rules) and HTTP routes. `App.apply` creates what is missing and
updates what differs, idempotently; it never deletes what the file no longer
declares. `eventyard run app.py` applies it and runs everything under a
supervisor; `eventyard worker app.py` runs only the functions.

Declaring is pure bookkeeping (no database) so that importing an app file is
cheap and safe in worker processes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple, TypeVar

from eventyard.errors import InvalidParameterValue
from eventyard.model.names import check_int_range, check_queue_name, shorten
from eventyard.runtime.specs import (
    ASYNC_EVENT_AGE_DEFAULT_SECONDS,
    ASYNC_EVENT_AGE_MIN_SECONDS,
    ASYNC_RETRIES_DEFAULT,
    ASYNC_RETRIES_MAX,
    ROUTE_BODY_DEFAULT_BYTES,
    TIMEOUT_DEFAULT_SECONDS,
    TIMEOUT_MAX_SECONDS,
    Destination,
    FunctionSpec,
    RouteSpec,
    check_style,
)

F = TypeVar("F", bound=Callable[..., Any])

#: The paths of the admin surface, served beside the app's routes: no app route may use them.
ADMIN_PATH = "/admin"


@dataclass(frozen=True)
class QueueRef:
    """A queue the app declares (or refers to): its name and attributes."""

    name: str
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Subscription:
    endpoint: str  # a queue name, a URL, or "function:<name>"
    options: dict[str, Any]


@dataclass
class TopicRef:
    """A topic the app declares; `subscribe` adds a subscription to the declaration."""

    name: str
    attributes: dict[str, Any]
    subscriptions: list[Subscription] = field(default_factory=list)

    def subscribe(self, target: QueueRef | str, **options: Any) -> TopicRef:
        """Subscribe a declared queue (or a queue name, or an http(s) URL)."""
        endpoint = target.name if isinstance(target, QueueRef) else target
        if not isinstance(endpoint, str):
            raise InvalidParameterValue(
                f"topic {self.name!r}: subscribe needs a queue or a URL, got {shorten(target)}"
            )
        self.subscriptions.append(Subscription(endpoint, options))
        return self


@dataclass
class Target:
    target: str  # "queue:<name>", "topic:<name>", "bus:<name>", a URL, or "function:<name>"
    options: dict[str, Any]


@dataclass
class RuleRef:
    """A rule the app declares on a bus; `target` adds a target."""

    bus: str
    name: str
    pattern: Any = None
    schedule: str | None = None
    enabled: bool = True
    targets: list[Target] = field(default_factory=list)

    def target(self, target: QueueRef | TopicRef | BusRef | str, **options: Any) -> RuleRef:
        if isinstance(target, QueueRef):
            endpoint = f"queue:{target.name}"
        elif isinstance(target, TopicRef):
            endpoint = f"topic:{target.name}"
        elif isinstance(target, BusRef):
            endpoint = f"bus:{target.name}"
        else:
            endpoint = target
        self.targets.append(Target(endpoint, options))
        return self


@dataclass
class BusRef:
    """An event bus the app uses (``default`` always exists)."""

    name: str
    rules: dict[str, RuleRef] = field(default_factory=dict)

    def rule(
        self,
        name: str,
        *,
        pattern: Any = None,
        schedule: str | None = None,
        enabled: bool = True,
    ) -> RuleRef:
        if name in self.rules:
            raise InvalidParameterValue(f"bus {self.name!r} declares rule {name!r} twice")
        rule = RuleRef(self.name, name, pattern, schedule, enabled)
        self.rules[name] = rule
        return rule


def _destination(value: object, field_name: str) -> Destination | None:
    """A destination: a declared queue/topic/bus, or 'queue:x', 'topic:x', 'bus:x', 'function:x'."""
    if value is None:
        return None
    if isinstance(value, QueueRef):
        return Destination("queue", value.name)
    if isinstance(value, TopicRef):
        return Destination("topic", value.name)
    if isinstance(value, BusRef):
        return Destination("bus", value.name)
    if isinstance(value, str):
        kind, sep, name = value.partition(":")
        if sep and name and kind in ("queue", "topic", "bus", "function"):
            return Destination(kind, name)  # type: ignore[arg-type]
    raise InvalidParameterValue(
        f"{field_name} must be a declared queue, topic or bus, or 'queue:name', 'topic:name', "
        f"'bus:name' or 'function:name'; got {shorten(value)}"
    )


class _AsyncOptions(NamedTuple):
    """How an asynchronously invoked function runs (shared by on_event and on_topic)."""

    name: str | None
    style: str
    max_concurrency: int
    timeout_seconds: int
    retries: int
    max_event_age_seconds: int
    on_success: object
    on_failure: object
    memory_limit_mb: int | None


class App:
    """An event-driven application: its topology, functions and routes."""

    def __init__(self, name: str, *, db: str | None = None, durability: str = "full") -> None:
        if not isinstance(name, str) or not name:
            raise InvalidParameterValue(f"app name must be a non-empty string, got {shorten(name)}")
        self.name = name
        self.database_url = db
        self.durability = durability
        self.queues: dict[str, QueueRef] = {}
        self.topics: dict[str, TopicRef] = {}
        self.buses: dict[str, BusRef] = {"default": BusRef("default")}
        self.functions: dict[str, FunctionSpec] = {}
        #: Every function the app file declares (`functions` may be a subset to run).
        self.declared_functions = self.functions
        self.routes: list[RouteSpec] = []
        self.setup_hooks: list[Callable[[Any], None]] = []

    def __repr__(self) -> str:
        return f"App({self.name!r})"

    # -- topology --------------------------------------------------------------
    def queue(self, name: str, **attributes: Any) -> QueueRef:
        """Declare a queue. A ``dead_letter_queue`` named here is declared too if need be."""
        check_queue_name(name)
        existing = self.queues.get(name)
        if existing is not None:
            if dict(existing.attributes) != attributes and attributes:
                raise InvalidParameterValue(
                    f"queue {name!r} is declared twice with different attributes"
                )
            return existing
        dead_letter = attributes.get("dead_letter_queue")
        if isinstance(dead_letter, QueueRef):
            attributes = {**attributes, "dead_letter_queue": dead_letter.name}
            dead_letter = dead_letter.name
        if isinstance(dead_letter, str) and dead_letter not in self.queues:
            self.queues[dead_letter] = QueueRef(dead_letter, {})
        ref = QueueRef(name, dict(attributes))
        self.queues[name] = ref
        return ref

    def topic(self, name: str, **attributes: Any) -> TopicRef:
        existing = self.topics.get(name)
        if existing is not None:
            return existing
        ref = TopicRef(name, dict(attributes))
        self.topics[name] = ref
        return ref

    def bus(self, name: str = "default") -> BusRef:
        if name not in self.buses:
            self.buses[name] = BusRef(name)
        return self.buses[name]

    # -- functions -------------------------------------------------------------
    def _add_function(self, spec: FunctionSpec) -> None:
        if spec.name in self.functions:
            raise InvalidParameterValue(f"function {spec.name!r} is declared twice")
        self.functions[spec.name] = spec

    def consumer(
        self,
        queue: QueueRef | str,
        *,
        batch_size: int = 10,
        batching_window_seconds: float = 0,
        max_concurrency: int = 2,
        timeout_seconds: int = TIMEOUT_DEFAULT_SECONDS,
        style: str = "native",
        name: str | None = None,
        memory_limit_mb: int | None = None,
    ) -> Callable[[F], F]:
        """A function fed by a queue in batches (an event-source mapping).

        A native handler gets a `Batch` (and, if it takes two parameters, a
        `FunctionContext`) and may return a `BatchResponse` naming the messages
        that failed; a ``style="lambda"`` handler gets the SQS event and a
        Lambda context, and may return ``{"batchItemFailures": [...]}``.
        """
        queue_name = queue.name if isinstance(queue, QueueRef) else check_queue_name(queue)
        check_style(style)
        if memory_limit_mb is not None:
            check_int_range(memory_limit_mb, "memory_limit_mb", 64, 1_048_576)

        def register(handler: F) -> F:
            function_name = name or handler.__name__
            if queue_name.endswith(".fifo"):
                for other in self.functions.values():
                    if other.queue == queue_name:
                        raise InvalidParameterValue(
                            f"FIFO queue {queue_name!r} already feeds function {other.name!r}; "
                            "one function per FIFO queue keeps its order"
                        )
            self._add_function(
                FunctionSpec(
                    name=function_name,
                    handler=handler,
                    trigger="queue",
                    queue=queue_name,
                    batch_size=batch_size,
                    batching_window_seconds=batching_window_seconds,
                    max_concurrency=max_concurrency,
                    timeout_seconds=timeout_seconds,
                    style=check_style(style),
                    memory_limit_mb=memory_limit_mb,
                )
            )
            return handler

        return register

    def _async_function(self, handler: Callable[..., Any], options: _AsyncOptions) -> FunctionSpec:
        spec = FunctionSpec(
            name=options.name or handler.__name__,
            handler=handler,
            trigger="async",
            max_concurrency=check_int_range(options.max_concurrency, "max_concurrency", 1, 1000),
            timeout_seconds=check_int_range(
                options.timeout_seconds, "timeout_seconds", 1, TIMEOUT_MAX_SECONDS
            ),
            style=check_style(options.style),
            retries=check_int_range(options.retries, "retries", 0, ASYNC_RETRIES_MAX),
            max_event_age_seconds=check_int_range(
                options.max_event_age_seconds,
                "max_event_age_seconds",
                ASYNC_EVENT_AGE_MIN_SECONDS,
                ASYNC_EVENT_AGE_DEFAULT_SECONDS,
            ),
            on_success=_destination(options.on_success, "on_success"),
            on_failure=_destination(options.on_failure, "on_failure"),
            memory_limit_mb=options.memory_limit_mb,
        )
        self._add_function(spec)
        return spec

    def on_event(
        self,
        *,
        bus: str = "default",
        pattern: Any = None,
        schedule: str | None = None,
        rule: str | None = None,
        name: str | None = None,
        style: str = "native",
        max_concurrency: int = 2,
        timeout_seconds: int = TIMEOUT_DEFAULT_SECONDS,
        retries: int = ASYNC_RETRIES_DEFAULT,
        max_event_age_seconds: int = ASYNC_EVENT_AGE_DEFAULT_SECONDS,
        on_success: object = None,
        on_failure: object = None,
        memory_limit_mb: int | None = None,
        **target_options: Any,
    ) -> Callable[[F], F]:
        """A function invoked (asynchronously) by a bus rule with this pattern or schedule.

        A native handler gets the event (a dict); a ``style="lambda"`` handler
        gets the same event and a Lambda context.
        """

        options = _AsyncOptions(
            name,
            style,
            max_concurrency,
            timeout_seconds,
            retries,
            max_event_age_seconds,
            on_success,
            on_failure,
            memory_limit_mb,
        )

        def register(handler: F) -> F:
            spec = self._async_function(handler, options)
            rule_name = rule or spec.name
            self.bus(bus).rule(rule_name, pattern=pattern, schedule=schedule).target(
                f"function:{spec.name}", id=spec.name, **target_options
            )
            return handler

        return register

    def on_topic(
        self,
        topic: TopicRef | str,
        *,
        filter_policy: Any = None,
        filter_policy_scope: str = "MessageAttributes",
        name: str | None = None,
        style: str = "native",
        max_concurrency: int = 2,
        timeout_seconds: int = TIMEOUT_DEFAULT_SECONDS,
        retries: int = ASYNC_RETRIES_DEFAULT,
        max_event_age_seconds: int = ASYNC_EVENT_AGE_DEFAULT_SECONDS,
        on_success: object = None,
        on_failure: object = None,
        memory_limit_mb: int | None = None,
    ) -> Callable[[F], F]:
        """A function subscribed to a topic (invoked asynchronously per notification).

        A native handler gets the SNS notification (a dict with ``Message``); a
        ``style="lambda"`` handler gets the SNS event and a Lambda context.
        """
        ref = topic if isinstance(topic, TopicRef) else self.topic(topic)

        options = _AsyncOptions(
            name,
            style,
            max_concurrency,
            timeout_seconds,
            retries,
            max_event_age_seconds,
            on_success,
            on_failure,
            memory_limit_mb,
        )

        def register(handler: F) -> F:
            spec = self._async_function(handler, options)
            subscription: dict[str, Any] = {"filter_policy_scope": filter_policy_scope}
            if filter_policy is not None:
                subscription["filter_policy"] = filter_policy
            ref.subscriptions.append(Subscription(f"function:{spec.name}", subscription))
            return handler

        return register

    # -- the app's own tables ----------------------------------------------------
    def setup(self, hook: F) -> F:
        """Run ``hook(client)`` whenever the app is applied, after its declarations.

        For the app's own tables and seed data in the same database (``CREATE
        TABLE IF NOT EXISTS``, ``INSERT OR IGNORE``): it must be idempotent, as
        `eventyard run`, `eventyard worker` and every apply call it again.
        """
        if not callable(hook):
            raise InvalidParameterValue(f"app.setup needs a function, got {shorten(hook)}")
        self.setup_hooks.append(hook)
        return hook

    # -- routes ----------------------------------------------------------------
    def route(
        self,
        method: str,
        path: str,
        *,
        name: str | None = None,
        max_body_bytes: int = ROUTE_BODY_DEFAULT_BYTES,
        style: str = "native",
    ) -> Callable[[F], F]:
        """An HTTP route (the API Gateway role), served by `eventyard run`.

        ``style="lambda"``: the handler is ``handler(event, context)`` as written
        for AWS, getting API Gateway's HTTP API (payload format 2.0) event.
        """
        route_style = check_style(style)
        verb = method.upper() if isinstance(method, str) else ""
        if verb not in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
            raise InvalidParameterValue(f"route method {shorten(method)} is not an HTTP method")
        if not isinstance(path, str) or not path.startswith("/"):
            raise InvalidParameterValue(f"route path {shorten(path)} must start with '/'")
        if path == ADMIN_PATH or path.startswith(ADMIN_PATH + "/"):
            raise InvalidParameterValue(
                f"route path {shorten(path)} is under {ADMIN_PATH}, which belongs to the admin "
                f"surface of eventyard run; choose another path"
            )
        check_int_range(max_body_bytes, "max_body_bytes", 1, 64 * 1_048_576)

        def register(handler: F) -> F:
            route_name = name or handler.__name__
            for existing in self.routes:
                if (existing.method, existing.path) == (verb, path):
                    raise InvalidParameterValue(f"route {verb} {path} is declared twice")
            self.routes.append(
                RouteSpec(verb, path, handler, route_name, max_body_bytes, route_style)
            )
            return handler

        return register

    # -- running -----------------------------------------------------------------
    def function(self, name: str) -> FunctionSpec:
        try:
            return self.functions[name]
        except KeyError:
            raise InvalidParameterValue(
                f"app {self.name!r} has no function {name!r}; it has "
                f"{', '.join(sorted(self.functions)) or 'none'}"
            ) from None

    def with_functions(self, names: set[str]) -> App:
        """A copy that runs only some functions (for `eventyard worker --function`)."""
        copy = App(self.name, db=self.database_url, durability=self.durability)
        copy.queues, copy.topics, copy.buses = self.queues, self.topics, self.buses
        copy.routes, copy.setup_hooks = self.routes, self.setup_hooks
        copy.functions = {n: self.function(n) for n in sorted(names)}
        copy.declared_functions = self.declared_functions  # applied whole: rules target them
        return copy

    def spec(self, name: str, **changes: Any) -> FunctionSpec:
        return replace(self.function(name), **changes)
