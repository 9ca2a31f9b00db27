"""The rules that tie a queue to its dead-letter queue (pure; both stores apply them)."""

from __future__ import annotations

from eventyard.errors import InvalidParameterValue, QueueDoesNotExist, RedriveNotAllowed
from eventyard.model.queue_config import QueueConfig


def check_dead_letter_target(
    source_name: str, source: QueueConfig, target_name: str, target: QueueConfig | None
) -> None:
    """Raise unless ``target`` may serve as the dead-letter queue of ``source``."""
    if target_name == source_name:
        raise InvalidParameterValue(
            f"dead_letter_queue of {source_name!r} names the queue itself; pick another queue"
        )
    if target is None:
        raise QueueDoesNotExist(
            f"dead_letter_queue {target_name!r} of {source_name!r} does not exist; create it first"
        )
    if target.fifo != source.fifo:
        kind = "FIFO" if source.fifo else "standard"
        raise InvalidParameterValue(
            f"dead_letter_queue {target_name!r} must be a {kind} queue like {source_name!r}: "
            "the dead-letter queue of a FIFO queue is FIFO, of a standard queue standard"
        )
    if not target.redrive_allow_policy.allows(source_name):
        policy = target.redrive_allow_policy
        raise RedriveNotAllowed(
            f"dead_letter_queue {target_name!r} does not allow {source_name!r} as a source "
            f"(its redrive_allow_policy is {policy.permission}"
            + (f": {', '.join(policy.source_queues)})" if policy.source_queues else ")")
        )
