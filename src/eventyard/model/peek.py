"""Looking at a queue's messages without receiving them (an operator's view).

A `PeekedMessage` carries everything a dashboard shows about a stored
message and nothing that could act on it: no receipt handle. Pages are
ordered by the stored row (send order, kept through dead-letter moves); the
page token is opaque to callers: base64 of the queue's id and the last row
shown, so a token of another queue (or a re-created one) is refused.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any, Final, Literal

from eventyard.errors import InvalidParameterValue
from eventyard.model.names import shorten

PeekState = Literal["visible", "in_flight", "delayed"]

PEEK_MAX_MESSAGES: Final = 1_000
_TOKEN_PREFIX: Final = "p1"
_TOKEN_TEXT: Final = re.compile(r"p1:([0-9]{1,19}):([0-9]{1,19})")


@dataclass(frozen=True, slots=True)
class PeekedMessage:
    """A message as stored, seen without receiving it (peeking changes nothing).

    ``body`` is decoded as `Message.body` is; ``attributes`` are plain values
    and ``system_attributes`` have SQS's names, as on `Message`. Timestamps are
    milliseconds since the epoch; ``visible_at_timestamp`` is when a delayed or
    in-flight message becomes visible (in the past for a visible one).
    """

    message_id: str
    body: Any
    attributes: dict[str, object]
    system_attributes: dict[str, str]
    receive_count: int
    state: PeekState
    sent_timestamp: int
    visible_at_timestamp: int
    group_id: str | None
    dead_letter_source_queue: str | None


@dataclass(frozen=True, slots=True)
class MessagePage:
    """One page of `Queue.peek`: oldest first; ``next_page_token`` is None on the last page."""

    messages: list[PeekedMessage]
    next_page_token: str | None


def page_token(queue_id: int, row_id: int) -> str:
    text = f"{_TOKEN_PREFIX}:{queue_id}:{row_id}"
    return base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii").rstrip("=")


def after_row_of(token: object, queue_id: int, queue_name: str) -> int:
    """The row a page token continues after; `InvalidParameterValue` if it is not this queue's."""
    if not isinstance(token, str):
        raise InvalidParameterValue(
            f"page_token must be a string from a previous page, got {type(token).__name__}"
        )
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        text = ""
    match = _TOKEN_TEXT.fullmatch(text)
    if match is None:
        raise InvalidParameterValue(
            f"page_token {shorten(token)} is malformed; pass the next_page_token of a page "
            "of this queue"
        )
    if int(match.group(1)) != queue_id:
        raise InvalidParameterValue(
            f"page_token {shorten(token)} belongs to another queue (or to an earlier queue "
            f"named {queue_name!r}); start again without a token"
        )
    return int(match.group(2))
