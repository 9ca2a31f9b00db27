"""A received message, as the consumer sees it.

Built from one stored row by the broker; decoding of the body and of the
attributes is lazy, so a consumer that only deletes pays for neither.
"""

from __future__ import annotations

from typing import Any

from eventyard.model.attributes import plain_attributes, typed_attributes
from eventyard.model.body import body_text, decode_body

_UNSET: Any = object()


class Message:
    """One message received from a queue.

    ``body`` is what was sent (text, bytes or the decoded JSON value);
    ``text`` is the body as SQS would carry it. ``attributes`` are the
    message attributes as plain values; ``message_attributes`` the same in
    the SQS shape. ``system_attributes`` has SQS's names and string values.
    """

    __slots__ = (
        "_body",
        "_kind",
        "_stored_attributes",
        "_stored_body",
        "dead_letter_source_arn",
        "dead_letter_source_queue",
        "deduplication_id",
        "first_receive_timestamp",
        "group_id",
        "message_id",
        "queue",
        "receipt_handle",
        "receive_count",
        "sender_id",
        "sent_timestamp",
        "sequence_number",
    )

    def __init__(
        self,
        queue: str,
        message_id: str,
        receipt_handle: str,
        stored_body: str | bytes,
        body_kind: int,
        stored_attributes: str | None,
        receive_count: int,
        sent_timestamp: int,
        first_receive_timestamp: int,
        sender_id: str,
        sequence_number: str | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        dead_letter_source_queue: str | None = None,
        dead_letter_source_arn: str | None = None,
    ) -> None:
        self.queue = queue
        self.message_id = message_id
        self.receipt_handle = receipt_handle
        self._stored_body = stored_body
        self._kind = body_kind
        self._body = _UNSET
        self._stored_attributes = stored_attributes
        self.receive_count = receive_count
        self.sent_timestamp = sent_timestamp
        self.first_receive_timestamp = first_receive_timestamp
        self.sender_id = sender_id
        self.sequence_number = sequence_number
        self.group_id = group_id
        self.deduplication_id = deduplication_id
        self.dead_letter_source_queue = dead_letter_source_queue
        self.dead_letter_source_arn = dead_letter_source_arn

    @property
    def body(self) -> Any:
        if self._body is _UNSET:
            self._body = decode_body(self._stored_body, self._kind)
        return self._body

    @property
    def text(self) -> str:
        return body_text(self._stored_body, self._kind)

    @property
    def body_kind(self) -> int:
        return self._kind

    @property
    def attributes(self) -> dict[str, object]:
        return plain_attributes(self._stored_attributes)

    @property
    def message_attributes(self) -> dict[str, dict[str, object]]:
        return typed_attributes(self._stored_attributes)

    @property
    def stored_attributes(self) -> str | None:
        return self._stored_attributes

    @property
    def system_attributes(self) -> dict[str, str]:
        """The SQS system attributes, with SQS's names and string values."""
        result = {
            "ApproximateReceiveCount": str(self.receive_count),
            "ApproximateFirstReceiveTimestamp": str(self.first_receive_timestamp),
            "SentTimestamp": str(self.sent_timestamp),
            "SenderId": self.sender_id,
        }
        if self.sequence_number is not None:
            result["SequenceNumber"] = self.sequence_number
        if self.group_id is not None:
            result["MessageGroupId"] = self.group_id
        if self.deduplication_id is not None:
            result["MessageDeduplicationId"] = self.deduplication_id
        if self.dead_letter_source_arn is not None:
            result["DeadLetterQueueSourceArn"] = self.dead_letter_source_arn
        return result

    def __repr__(self) -> str:
        return (
            f"Message(queue={self.queue!r}, message_id={self.message_id!r}, "
            f"receive_count={self.receive_count})"
        )
