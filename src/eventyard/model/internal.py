"""eventyard's own queues: names no user queue can have, and their attributes.

The delivery queue holds the records of deliveries that take time (webhooks,
retries); it is created by a schema migration, so it exists in every
database from the start — never lazily inside some application transaction
that might roll back.
"""

from __future__ import annotations

from typing import Final

from eventyard.model import limits
from eventyard.model.queue_config import QueueConfig

#: Its name holds a ':' so that no user queue can ever have it ([A-Za-z0-9_-]).
DELIVERY_QUEUE: Final = "eventyard:deliveries"
#: The lease a dispatcher takes on a record: longer than any webhook attempt.
DELIVERY_LEASE_SECONDS: Final = 60
DELIVERY_QUEUE_CONFIG: Final = QueueConfig(
    visibility_timeout=DELIVERY_LEASE_SECONDS,
    retention_seconds=limits.RETENTION_MAX_SECONDS,
)


def is_internal_queue(name: str) -> bool:
    return ":" in name


def function_queue(function_name: str) -> str:
    """The internal queue of an asynchronously invoked function's pending invocations."""
    return f"eventyard:fn:{function_name}"
