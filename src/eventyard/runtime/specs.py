"""What an `App` declares: functions and HTTP routes, as plain validated values (no I/O).

A `FunctionSpec` says which handler runs, what feeds it (a queue through an
event-source mapping, or asynchronous invocations from topics and rules),
and how: batch size, batching window, concurrency, timeout, handler style
(eventyard's native objects or AWS Lambda's event shapes), retries and
destinations. A `RouteSpec` maps an HTTP method and path to a handler.
Validation follows the functions row of SEMANTICS.md and names the field,
the value and the limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

from eventyard.errors import InvalidParameterValue
from eventyard.model.internal import function_queue
from eventyard.model.names import check_int_range, shorten

HandlerStyle = Literal["native", "lambda"]
Trigger = Literal["queue", "async"]

BATCH_SIZE_MAX: Final = 10_000
BATCH_SIZE_FIFO_MAX: Final = 10
BATCHING_WINDOW_MAX_SECONDS: Final = 300
CONCURRENCY_MIN: Final = 1
CONCURRENCY_MAX: Final = 1_000
TIMEOUT_DEFAULT_SECONDS: Final = 3
TIMEOUT_MAX_SECONDS: Final = 900
ASYNC_RETRIES_DEFAULT: Final = 2
ASYNC_RETRIES_MAX: Final = 2
ASYNC_EVENT_AGE_DEFAULT_SECONDS: Final = 21_600  # 6 hours
ASYNC_EVENT_AGE_MIN_SECONDS: Final = 60
ROUTE_BODY_DEFAULT_BYTES: Final = 1_048_576


@dataclass(frozen=True, slots=True)
class Destination:
    """Where an asynchronous invocation's record goes: a queue, topic, bus or function."""

    kind: Literal["queue", "topic", "bus", "function"]
    name: str


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """One function of an app and what feeds it."""

    name: str
    handler: Callable[..., Any]
    trigger: Trigger
    queue: str | None = None  # the source queue of an event-source mapping
    batch_size: int = 10
    batching_window_seconds: float = 0.0
    max_concurrency: int = 2
    timeout_seconds: int = TIMEOUT_DEFAULT_SECONDS
    style: HandlerStyle = "native"
    retries: int = ASYNC_RETRIES_DEFAULT
    max_event_age_seconds: int = ASYNC_EVENT_AGE_DEFAULT_SECONDS
    on_success: Destination | None = None
    on_failure: Destination | None = None
    memory_limit_mb: int | None = None

    @property
    def invocation_queue(self) -> str:
        """The internal queue that holds an async function's pending invocations."""
        return function_queue(self.name)


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """An HTTP route: ``method`` + ``path`` (Starlette syntax, e.g. ``/orders/{id}``)."""

    method: str
    path: str
    handler: Callable[..., Any]
    name: str
    max_body_bytes: int = ROUTE_BODY_DEFAULT_BYTES
    #: "lambda": ``handler(event, context)`` with API Gateway's HTTP API (v2) event.
    style: HandlerStyle = "native"
    timeout_seconds: int = 30


def check_style(style: object) -> HandlerStyle:
    if style == "native":
        return "native"
    if style == "lambda":
        return "lambda"
    raise InvalidParameterValue(f"style must be 'native' or 'lambda', got {shorten(style)}")


def check_mapping(
    *,
    fifo: bool,
    batch_size: object,
    batching_window_seconds: object,
    max_concurrency: object,
    timeout_seconds: object,
    queue_visibility_timeout: int,
    queue: str,
) -> tuple[int, float, int, int]:
    """The event-source mapping rules (SEMANTICS.md, functions row)."""
    limit = BATCH_SIZE_FIFO_MAX if fifo else BATCH_SIZE_MAX
    size = check_int_range(batch_size, "batch_size", 1, limit)
    if (
        isinstance(batching_window_seconds, bool)
        or not isinstance(batching_window_seconds, int | float)
        or not 0 <= batching_window_seconds <= BATCHING_WINDOW_MAX_SECONDS
    ):
        raise InvalidParameterValue(
            f"batching_window_seconds must be from 0 to {BATCHING_WINDOW_MAX_SECONDS}, got "
            f"{shorten(batching_window_seconds)}"
        )
    window = float(batching_window_seconds)
    if size > 10 and window < 1:
        raise InvalidParameterValue(
            f"batch_size={size} needs batching_window_seconds of at least 1 (a batch of more "
            "than 10 is gathered over a window)"
        )
    concurrency = check_int_range(
        max_concurrency, "max_concurrency", CONCURRENCY_MIN, CONCURRENCY_MAX
    )
    timeout = check_int_range(timeout_seconds, "timeout_seconds", 1, TIMEOUT_MAX_SECONDS)
    if queue_visibility_timeout < timeout:
        raise InvalidParameterValue(
            f"queue {queue!r} has a visibility timeout of {queue_visibility_timeout} s, less than "
            f"the function timeout of {timeout} s: a batch still running would become visible "
            "again; raise the queue's visibility_timeout (AWS advises 6x the function timeout)"
        )
    return size, window, concurrency, timeout
