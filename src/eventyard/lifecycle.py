"""The life of a queued message, as a pure state machine (no I/O).

Theory of operation
-------------------
A message is a row with a few fields: ``visible_at`` (when it may next be
received), ``receive_count`` (how often it was received), ``receipt`` (a
random token, new at every receive) and the time its retention starts. Its
state is *derived* from those fields and the clock; nothing else is stored::

    DELAYED ──(delay over)──▶ VISIBLE ──receive──▶ IN_FLIGHT
                                 ▲                     │
                                 └──(visibility over)──┘
                                     change_visibility(0)

* ``send`` puts a message in DELAYED (a queue or message delay) or VISIBLE.
* ``receive`` takes VISIBLE messages to IN_FLIGHT: the receive count goes up,
  a new receipt is drawn and ``visible_at`` moves to now + visibility
  timeout. If the new count would exceed the queue's ``max_receive_count``,
  the message is not delivered: it is DEAD_LETTERED, i.e. it moves to the
  dead-letter queue where it is VISIBLE again (its receive count kept, as in
  SQS, so the DLQ shows how often it failed).
* ``delete`` with the message's latest receipt removes it from any state. A
  receipt from an earlier receive is *stale* and changes nothing (SQS "may"
  act on it; we never do, so a slow consumer cannot delete a message that
  another consumer now holds).
* ``change_visibility`` with the latest receipt re-arms the timer of an
  IN_FLIGHT message, counted from the call; the total since the receive may
  not exceed 12 hours. Zero makes it VISIBLE at once.
* retention over: EXPIRED, from any state; ``purge``: PURGED, from any state.
* ``redrive`` takes a VISIBLE message of a dead-letter queue back to its
  source queue as VISIBLE with its receive count restarted at zero.

FIFO queues add *group locks*: within one message group only the oldest
message can be delivered, and only when no message of the group ahead of it
is in flight or delayed. One receive may return several messages of a group
(in order) and messages of many groups. *Deduplication*: a send whose
deduplication id (explicit, or SHA-256 of the body) was seen in the last five
minutes is accepted but not enqueued again, even if the first was deleted.

The storage backends persist these transitions in bulk SQL; the functions
here are the rules they apply and the reference that tests compare them to.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from eventyard.errors import InvalidParameterValue, MessageNotInflight
from eventyard.model import limits

MS: Final = 1000


class State(enum.Enum):
    DELAYED = "delayed"
    VISIBLE = "visible"
    IN_FLIGHT = "in_flight"
    DELETED = "deleted"
    DEAD_LETTERED = "dead_lettered"
    EXPIRED = "expired"
    PURGED = "purged"


class Event(enum.Enum):
    DELAY_OVER = "delay over"
    RECEIVE = "receive"
    RECEIVE_OVER_LIMIT = "receive over max_receive_count"
    VISIBILITY_OVER = "visibility timeout over"
    CHANGE_VISIBILITY = "change_visibility (> 0 s)"
    CHANGE_VISIBILITY_ZERO = "change_visibility (0 s)"
    DELETE = "delete with the latest receipt"
    RETENTION_OVER = "retention period over"
    PURGE = "purge"
    REDRIVE = "redrive to the source queue"


_LIVE: Final = (State.DELAYED, State.VISIBLE, State.IN_FLIGHT)

#: Every allowed transition. A pair not in the table is not a transition:
#: e.g. a stale receipt's delete, or change_visibility of a VISIBLE message
#: (which SQS answers with MessageNotInflight).
TRANSITIONS: Final[dict[tuple[State, Event], State]] = {
    (State.DELAYED, Event.DELAY_OVER): State.VISIBLE,
    (State.VISIBLE, Event.RECEIVE): State.IN_FLIGHT,
    (State.VISIBLE, Event.RECEIVE_OVER_LIMIT): State.DEAD_LETTERED,
    (State.VISIBLE, Event.REDRIVE): State.VISIBLE,
    (State.IN_FLIGHT, Event.VISIBILITY_OVER): State.VISIBLE,
    (State.IN_FLIGHT, Event.CHANGE_VISIBILITY): State.IN_FLIGHT,
    (State.IN_FLIGHT, Event.CHANGE_VISIBILITY_ZERO): State.VISIBLE,
    **{(state, Event.DELETE): State.DELETED for state in _LIVE},
    **{(state, Event.RETENTION_OVER): State.EXPIRED for state in _LIVE},
    **{(state, Event.PURGE): State.PURGED for state in _LIVE},
}


class InvalidTransition(Exception):
    """Not a transition of the table (a bug in a caller, never user input)."""


def transition(state: State, event: Event) -> State:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise InvalidTransition(f"{event.value} is not allowed in state {state.value}") from None


def state_of(
    visible_at_ms: int,
    receive_count: int,
    retained_from_ms: int,
    retention_seconds: int,
    now_ms: int,
) -> State:
    """The state of a stored message, derived from its fields and the clock."""
    if retained_from_ms + retention_seconds * MS <= now_ms:
        return State.EXPIRED
    if visible_at_ms <= now_ms:
        return State.VISIBLE
    return State.IN_FLIGHT if receive_count > 0 else State.DELAYED


def is_expired(retained_from_ms: int, retention_seconds: int, now_ms: int) -> bool:
    return retained_from_ms + retention_seconds * MS <= now_ms


def retention_cutoff_ms(retention_seconds: int, now_ms: int) -> int:
    """Messages whose retention started at or before this instant have expired."""
    return now_ms - retention_seconds * MS


def exceeds_max_receives(receive_count_after: int, max_receive_count: int | None) -> bool:
    """Does a receive that would bring the count to ``receive_count_after`` dead-letter it?"""
    return max_receive_count is not None and receive_count_after > max_receive_count


def receive_event(receive_count_before: int, max_receive_count: int | None) -> Event:
    """What a receive does to a VISIBLE message."""
    if exceeds_max_receives(receive_count_before + 1, max_receive_count):
        return Event.RECEIVE_OVER_LIMIT
    return Event.RECEIVE


def visible_after_send(now_ms: int, delay_seconds: int) -> int:
    return now_ms + delay_seconds * MS


def visible_after_receive(now_ms: int, visibility_timeout: int) -> int:
    return now_ms + visibility_timeout * MS


def visible_after_change(
    *,
    visible_at_ms: int,
    received_at_ms: int | None,
    receive_count: int,
    new_timeout_seconds: int,
    now_ms: int,
) -> int:
    """The new ``visible_at`` for change_visibility with the latest receipt, or raise.

    SQS counts the new timeout from the call, and caps the time since the
    receive at 12 hours.
    """
    if receive_count == 0 or visible_at_ms <= now_ms or received_at_ms is None:
        raise MessageNotInflight(
            "the message is not in flight (its visibility timeout is over or it was never "
            "received); receive it again to get a new receipt handle"
        )
    new_visible_at = now_ms + new_timeout_seconds * MS
    limit = received_at_ms + limits.VISIBILITY_TIMEOUT_MAX_SECONDS * MS
    if new_visible_at > limit:
        raise InvalidParameterValue(
            f"visibility_timeout={new_timeout_seconds} would keep the message in flight "
            f"{(new_visible_at - received_at_ms) // MS} s after it was received; the limit is "
            f"{limits.VISIBILITY_TIMEOUT_MAX_SECONDS} s (12 hours) in total"
        )
    return new_visible_at


# -- FIFO -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FifoCandidate:
    """What the group-lock rule needs to know of a FIFO message."""

    position: int  # order of arrival in the queue (the store's sequence)
    group_id: str
    visible_at_ms: int


def deliverable_fifo(
    messages: Iterable[FifoCandidate], now_ms: int, max_messages: int
) -> list[FifoCandidate]:
    """The FIFO messages one receive may take, in order.

    A message is deliverable when it is visible and no earlier message of its
    group is invisible (in flight or delayed): the group is locked behind it.
    """
    blocked_groups: set[str] = set()
    chosen: list[FifoCandidate] = []
    for message in sorted(messages, key=lambda m: m.position):
        if message.group_id in blocked_groups:
            continue
        if message.visible_at_ms > now_ms:
            blocked_groups.add(message.group_id)
            continue
        chosen.append(message)
        if len(chosen) == max_messages:
            break
    return chosen


def deduplication_key(
    *,
    deduplication_id: str | None,
    body_text: str | bytes,
    content_based: bool,
    group_id: str,
    scope_by_group: bool,
) -> str:
    """The key under which a FIFO send is remembered for five minutes.

    Raises when there is neither an explicit id nor content-based
    deduplication, as SQS does.
    """
    if deduplication_id is None:
        if not content_based:
            raise InvalidParameterValue(
                "deduplication_id is required: the FIFO queue does not have "
                "content_based_deduplication enabled"
            )
        data = body_text if isinstance(body_text, bytes) else body_text.encode("utf-8")
        deduplication_id = hashlib.sha256(data).hexdigest()
    return f"{group_id}\x1f{deduplication_id}" if scope_by_group else deduplication_id


def deduplication_expires_at(now_ms: int) -> int:
    return now_ms + limits.DEDUPLICATION_WINDOW_SECONDS * MS
