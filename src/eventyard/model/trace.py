"""W3C trace context: one order followed from its HTTP request to every function it reaches.

A ``traceparent`` (``00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>``,
https://www.w3.org/TR/trace-context/) rides along as a message attribute
named ``traceparent``:

- an HTTP route continues the request's ``traceparent`` header (or starts a
  trace) for the handler's call, and answers with its own;
- while a trace is current (`current` / `use`), every message sent or
  published gets a ``traceparent`` attribute for a new span of that trace,
  unless it has one already or already carries the 10 attributes a message
  may have (the trace is then dropped, never the message);
- a topic copies it to its subscribers like any attribute (raw delivery), or
  into the envelope's ``MessageAttributes``;
- a worker makes a message's trace current while its handler runs (for a
  queue batch, when all its messages share one trace), so what the handler
  sends continues the trace; `Record.traceparent` gives each message's own.

Logs carry the trace id (the invocation log's ``trace_ids``), so one order
can be followed end to end; an OpenTelemetry exporter can read the same
header. Nothing here records spans itself.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Final

from eventyard.model import limits

ATTRIBUTE: Final = "traceparent"
_FORMAT: Final = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_ZERO_TRACE: Final = "0" * 32
_ZERO_SPAN: Final = "0" * 16

_current: ContextVar[str | None] = ContextVar("eventyard_traceparent", default=None)


def parse(header: object) -> str | None:
    """A valid version-00 ``traceparent`` (lower-cased), or None for anything else."""
    if not isinstance(header, str) or len(header) > 64:
        return None
    value = header.strip().lower()
    match = _FORMAT.match(value)
    if match is None or match.group(1) == _ZERO_TRACE or match.group(2) == _ZERO_SPAN:
        return None
    return value


def new_trace() -> str:
    """A fresh trace (sampled)."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def child(parent: str | None) -> str:
    """A new span of ``parent``'s trace (or a fresh trace when there is none)."""
    valid = parse(parent)
    if valid is None:
        return new_trace()
    return f"00-{trace_id(valid)}-{secrets.token_hex(8)}-{valid[-2:]}"


def trace_id(traceparent: str) -> str:
    return traceparent[3:35]


def current() -> str | None:
    """The trace of the work in progress on this thread / task, if any."""
    return _current.get()


@contextmanager
def use(traceparent: str | None) -> Iterator[str | None]:
    """Make ``traceparent`` current inside the block (None: no trace)."""
    token = _current.set(parse(traceparent))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def stamped(attributes: Mapping[str, object] | None) -> Mapping[str, object] | None:
    """``attributes`` plus a ``traceparent`` for the current trace, when one is current,
    none is given and there is room; otherwise ``attributes`` unchanged."""
    parent = _current.get()
    if parent is None:
        return attributes
    if attributes is None:
        return {ATTRIBUTE: child(parent)}
    if ATTRIBUTE in attributes or len(attributes) >= limits.MESSAGE_ATTRIBUTES_MAX:
        return attributes
    return {**attributes, ATTRIBUTE: child(parent)}
