"""`Queue`: the handle through which an application sends and receives.

It validates every input at the boundary (so the store only sees good
data), applies the queue's defaults, and runs long polls: it registers for
wake-ups, looks at the queue, and sleeps only until something changes or
the next message becomes visible, never on a fixed timer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from eventyard import lifecycle
from eventyard.broker.batch import (
    BatchResult,
    EntryResult,
    MessageIdResult,
    SendEntry,
    SendResult,
    check_batch_shape,
    handle_entries,
    send_entry,
    visibility_entries,
)
from eventyard.broker.batch import message_ids as message_ids_of
from eventyard.errors import (
    BatchRequestTooLong,
    EventyardError,
    InvalidParameterValue,
    MessageTooLong,
    QueueDoesNotExist,
    ReceiptHandleIsInvalid,
)
from eventyard.model import limits, trace
from eventyard.model.attributes import encode_attributes
from eventyard.model.body import encode_body
from eventyard.model.ids import new_message_ids
from eventyard.model.message import Message
from eventyard.model.names import check_fifo_id, check_int_range
from eventyard.model.peek import (
    PEEK_MAX_MESSAGES,
    MessagePage,
    PeekedMessage,
    PeekState,
    after_row_of,
)
from eventyard.model.peek import page_token as make_page_token
from eventyard.model.queue_config import QueueConfig
from eventyard.model.receipt import Receipt, make_receipt_handle, parse_receipt_handle
from eventyard.store.base import RecordChanged
from eventyard.store.records import (
    ClaimedRow,
    OutgoingMessage,
    PeekedRow,
    QueueCounters,
    QueueRecord,
    QueueStats,
)

if TYPE_CHECKING:
    from eventyard.broker.client import Client

T = TypeVar("T")

_STALE = (
    "the receipt handle is stale: the message was received again since (or moved to a "
    "dead-letter queue); only the handle of the latest receive can delete it"
)


class Queue:
    """A queue of the store; cheap to create, safe to share between threads."""

    def __init__(self, client: Client, record: QueueRecord) -> None:
        self._client = client
        self._store = client.store
        self._record = record

    # -- identity ------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._record.name

    @property
    def fifo(self) -> bool:
        return self._record.config.fifo

    @property
    def arn(self) -> str:
        return self._client.identity.queue_arn(self._record.name)

    @property
    def attributes(self) -> QueueConfig:
        """The queue's attributes (as last read; `refresh` reads them again)."""
        return self._record.config

    def refresh(self) -> Queue:
        self._record = self._store.get_queue(self._record.name)
        return self

    def set_attributes(self, **changes: Any) -> QueueConfig:
        """Change attributes (same names as `Client.create_queue`); returns the new ones."""
        config = self._record.config.with_changes(**changes)
        self._record = self._store.update_queue(self.name, config, self._client.now_ms())
        return self._record.config

    def __repr__(self) -> str:
        return f"Queue({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Queue) and other._record.id == self._record.id

    def __hash__(self) -> int:
        return hash(self._record.id)

    def _run(self, operation: Callable[[QueueRecord], T]) -> T:
        """Run against the current record; re-read it once if it changed or was re-created."""
        try:
            return operation(self._record)
        except RecordChanged:
            self.refresh()
        except QueueDoesNotExist:
            try:
                fresh = self._store.get_queue(self._record.name)
            except QueueDoesNotExist:
                raise QueueDoesNotExist(f"queue {self.name!r} does not exist") from None
            if fresh.id == self._record.id:
                raise
            self._record = fresh
        return operation(self._record)

    # -- sending -------------------------------------------------------------
    def send(
        self,
        body: Any,
        *,
        attributes: Mapping[str, object] | None = None,
        delay_seconds: int | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
    ) -> str:
        """Send one message; returns its message id (a duplicate FIFO send: the first's id)."""
        entry = SendEntry(body, "0", attributes, delay_seconds, group_id, deduplication_id)
        result = self._send_entries([entry])[0]
        if result.error is not None:
            raise result.error
        assert result.message_id is not None
        return result.message_id

    def send_batch(self, entries: Iterable[Any]) -> BatchResult[SendResult]:
        """Send up to 10 messages in one transaction; a result per entry, in order.

        Items are bodies, `SendEntry` objects, or dicts with a ``body`` key and
        the other `SendEntry` fields (SQS's ``MessageBody``/``Id``/... also work).
        """
        items = [send_entry(item, index) for index, item in enumerate(entries)]
        check_batch_shape([item.id or "" for item in items], "send_batch")
        return self._send_entries(items)

    def _send_entries(self, entries: list[SendEntry]) -> BatchResult[SendResult]:
        client = self._client

        def attempt(record: QueueRecord) -> BatchResult[SendResult]:
            results: list[SendResult | None] = [None] * len(entries)
            outgoing: list[OutgoingMessage] = []
            positions: list[int] = []
            total_bytes = 0
            message_ids = new_message_ids(len(entries))
            for index, entry in enumerate(entries):
                try:
                    message, size = _outgoing(entry, record.config, message_ids[index])
                except EventyardError as exc:
                    results[index] = SendResult(entry.id or str(index), error=exc)
                    continue
                outgoing.append(message)
                positions.append(index)
                total_bytes += size
            if len(entries) > 1 and total_bytes > limits.BATCH_MAX_TOTAL_BYTES:
                raise BatchRequestTooLong(
                    f"the messages of the batch add up to {total_bytes} bytes; the limit for "
                    f"one batch is {limits.BATCH_MAX_TOTAL_BYTES}"
                )
            if outgoing:
                sent = self._store.send_messages(
                    record, outgoing, client.now_ms(), client.sender_id
                )
                for index, stored in zip(positions, sent, strict=True):
                    results[index] = SendResult(
                        entries[index].id or str(index),
                        stored.message_id,
                        stored.sequence_number,
                        stored.duplicate,
                    )
            return BatchResult(result for result in results if result is not None)

        return self._run(attempt)

    # -- receiving -----------------------------------------------------------
    def receive(
        self,
        max_messages: int = 1,
        wait_seconds: float | None = None,
        visibility_timeout: int | None = None,
    ) -> list[Message]:
        """Receive up to ``max_messages`` visible messages (in flight until deleted).

        ``wait_seconds`` (0-20, default: the queue's ``receive_wait_seconds``)
        long-polls: the call returns as soon as a message is visible.
        """
        check_int_range(max_messages, "max_messages", 1, limits.RECEIVE_MAX_MESSAGES)
        config = self._record.config
        if wait_seconds is None:
            wait = float(config.receive_wait_seconds)
        elif (
            isinstance(wait_seconds, bool)
            or not isinstance(wait_seconds, int | float)
            or not 0 <= wait_seconds <= limits.RECEIVE_WAIT_MAX_SECONDS
        ):
            raise InvalidParameterValue(
                f"wait_seconds must be from 0 to {limits.RECEIVE_WAIT_MAX_SECONDS}, "
                f"got {wait_seconds!r}"
            )
        else:
            wait = float(wait_seconds)
        if visibility_timeout is not None:
            check_int_range(
                visibility_timeout, "visibility_timeout", 0, limits.VISIBILITY_TIMEOUT_MAX_SECONDS
            )
        messages, _ = self._receive_once(max_messages, visibility_timeout)
        if messages or wait <= 0:
            return messages
        deadline = time.monotonic() + wait
        with self._store.watch() as watch:
            while True:
                token = watch.token()
                messages, next_visible_at = self._receive_once(max_messages, visibility_timeout)
                if messages:
                    return messages
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                if next_visible_at is not None:
                    until_visible = (next_visible_at - self._client.now_ms()) / 1000
                    remaining = min(remaining, max(until_visible, 0.001))
                watch.wait(token, remaining)

    def _receive_once(
        self, max_messages: int, visibility_timeout: int | None
    ) -> tuple[list[Message], int | None]:
        def attempt(record: QueueRecord) -> tuple[list[Message], int | None]:
            timeout = (
                record.config.visibility_timeout
                if visibility_timeout is None
                else visibility_timeout
            )
            outcome = self._store.receive_messages(
                record, max_messages, timeout, self._client.now_ms()
            )
            return self._messages(record, outcome.rows), outcome.next_visible_at_ms

        return self._run(attempt)

    def _messages(self, record: QueueRecord, rows: list[ClaimedRow]) -> list[Message]:
        queue_id, name, fifo = record.id, record.name, record.config.fifo
        queue_arn = self._client.identity.queue_arn
        # Positional arguments, in Message.__init__'s order: this runs once per message.
        return [
            Message(
                name,
                row[1],
                make_receipt_handle(queue_id, row[0], row[8]),
                row[2],
                row[3],
                row[4],
                row[6],
                row[5],
                row[7],
                row[9],
                f"{row[0]:020d}" if fifo else None,
                row[10],
                row[11],
                row[12],
                None if row[12] is None else queue_arn(row[12]),
            )
            for row in rows
        ]

    # -- deleting and extending ------------------------------------------------
    def delete(self, receipt_handle: str | Message) -> None:
        """Delete a received message. A stale handle raises ReceiptHandleIsInvalid."""
        handle = getattr(receipt_handle, "receipt_handle", receipt_handle)
        result = self._delete_entries([("0", handle)])[0]
        if result.error is not None:
            raise result.error

    def delete_batch(self, receipt_handles: Iterable[object]) -> BatchResult[EntryResult]:
        """Delete up to 10 messages in one transaction: handles, messages or (id, handle)."""
        entries = handle_entries(receipt_handles)
        check_batch_shape([entry_id for entry_id, _ in entries], "delete_batch")
        return self._delete_entries(entries)

    def _parse(self, record: QueueRecord, handle: object) -> Receipt:
        return parse_receipt_handle(handle, record.id, record.name)

    def _delete_entries(self, entries: list[tuple[str, object]]) -> BatchResult[EntryResult]:
        def attempt(record: QueueRecord) -> BatchResult[EntryResult]:
            results: list[EntryResult | None] = [None] * len(entries)
            receipts: list[Receipt] = []
            positions: list[int] = []
            for index, (entry_id, handle) in enumerate(entries):
                try:
                    receipts.append(self._parse(record, handle))
                    positions.append(index)
                except EventyardError as exc:
                    results[index] = EntryResult(entry_id, str(handle), exc)
            if receipts:
                deleted = self._store.delete_messages(record, receipts, self._client.now_ms())
                for index, ok in zip(positions, deleted, strict=True):
                    entry_id, handle = entries[index]
                    results[index] = EntryResult(
                        entry_id, str(handle), None if ok else ReceiptHandleIsInvalid(_STALE)
                    )
            return BatchResult(result for result in results if result is not None)

        return self._run(attempt)

    def change_visibility(self, receipt_handle: str | Message, visibility_timeout: int) -> None:
        """Keep an in-flight message invisible ``visibility_timeout`` s from now (0: release)."""
        handle = getattr(receipt_handle, "receipt_handle", receipt_handle)
        result = self._change_entries([("0", handle, visibility_timeout)])[0]
        if result.error is not None:
            raise result.error

    def change_visibility_batch(self, entries: Iterable[object]) -> BatchResult[EntryResult]:
        """Change up to 10 visibility timeouts: (handle, timeout) or (id, handle, timeout)."""
        parsed = visibility_entries(entries)
        check_batch_shape([entry_id for entry_id, _, _ in parsed], "change_visibility_batch")
        return self._change_entries(parsed)

    def _change_entries(
        self, entries: list[tuple[str, object, object]]
    ) -> BatchResult[EntryResult]:
        def attempt(record: QueueRecord) -> BatchResult[EntryResult]:
            results: list[EntryResult | None] = [None] * len(entries)
            changes: list[tuple[Receipt, int]] = []
            positions: list[int] = []
            for index, (entry_id, handle, timeout) in enumerate(entries):
                try:
                    seconds = check_int_range(
                        timeout, "visibility_timeout", 0, limits.VISIBILITY_TIMEOUT_MAX_SECONDS
                    )
                    changes.append((self._parse(record, handle), seconds))
                    positions.append(index)
                except EventyardError as exc:
                    results[index] = EntryResult(entry_id, str(handle), exc)
            if changes:
                outcomes = self._store.change_visibility(record, changes, self._client.now_ms())
                for index, error in zip(positions, outcomes, strict=True):
                    entry_id, handle, _ = entries[index]
                    results[index] = EntryResult(
                        entry_id,
                        str(handle),
                        error if isinstance(error, EventyardError) or error is None else None,
                    )
            return BatchResult(result for result in results if result is not None)

        return self._run(attempt)

    # -- whole queue ---------------------------------------------------------
    def purge(self) -> int:
        """Delete every message, in flight included; once per 60 s. Returns how many."""
        return self._run(lambda record: self._store.purge_queue(record, self._client.now_ms()))

    def stats(self) -> QueueStats:
        """Approximate counts: visible, in_flight, delayed, and the oldest message's age."""
        return self._run(lambda record: self._store.queue_stats(record, self._client.now_ms()))

    def counters(self) -> QueueCounters:
        """Messages sent, received, deleted, dead-lettered and purged since the queue was
        created, counted by every process (they survive restarts)."""
        return self._run(self._store.queue_counters)

    # -- an operator's view and actions --------------------------------------------
    def peek(self, limit: int = 50, page_token: str | None = None) -> MessagePage:
        """Look at up to ``limit`` (1-1,000) messages, oldest first, without receiving them.

        Nothing changes: no receive count, no visibility, no write lock. Pass the
        page's ``next_page_token`` to see the next page (None: that was the last).
        Expired messages are not shown.
        """
        check_int_range(limit, "limit", 1, PEEK_MAX_MESSAGES)

        def attempt(record: QueueRecord) -> MessagePage:
            after = 0 if page_token is None else after_row_of(page_token, record.id, record.name)
            now_ms = self._client.now_ms()
            rows = self._store.peek_messages(record, after, limit + 1, now_ms)
            more = len(rows) > limit
            rows = rows[:limit]
            return MessagePage(
                [self._peeked(record, row, now_ms) for row in rows],
                make_page_token(record.id, rows[-1].row_id) if more else None,
            )

        return self._run(attempt)

    def _peeked(self, record: QueueRecord, row: PeekedRow, now_ms: int) -> PeekedMessage:
        # The system attributes as a receive would show them, with the counts as they stand.
        shown = Message(
            record.name,
            row.message_id,
            "",
            row.body,
            row.body_kind,
            row.attributes,
            row.receive_count,
            row.sent_at_ms,
            row.first_received_at_ms or 0,
            row.sender_id,
            f"{row.row_id:020d}" if record.config.fifo else None,
            row.group_id,
            row.deduplication_id,
            row.dead_letter_source,
            None
            if row.dead_letter_source is None
            else self._client.identity.queue_arn(row.dead_letter_source),
        )
        state: PeekState = (
            "visible"
            if row.visible_at_ms <= now_ms
            else ("in_flight" if row.receive_count > 0 else "delayed")
        )
        return PeekedMessage(
            message_id=row.message_id,
            body=shown.body,
            attributes=shown.attributes,
            system_attributes=shown.system_attributes,
            receive_count=row.receive_count,
            state=state,
            sent_timestamp=row.sent_at_ms,
            visible_at_timestamp=row.visible_at_ms,
            group_id=row.group_id,
            dead_letter_source_queue=row.dead_letter_source,
        )

    def delete_message_ids(self, message_ids: Iterable[object]) -> BatchResult[MessageIdResult]:
        """Delete messages by id, whatever their state (an operator's action: no receipt
        handle). Up to 1,000 ids in one transaction; an id not in the queue gets a
        `MessageNotFound` entry. Wakes no receiver."""
        ids = message_ids_of(message_ids, "delete_message_ids")

        def attempt(record: QueueRecord) -> BatchResult[MessageIdResult]:
            errors = self._store.delete_message_ids(record, ids, self._client.now_ms())
            return BatchResult(
                MessageIdResult(message_id, error)
                for message_id, error in zip(ids, errors, strict=True)
            )

        return self._run(attempt)


def _outgoing(
    entry: SendEntry, config: QueueConfig, message_id: str
) -> tuple[OutgoingMessage, int]:
    """Validate one entry against the queue's attributes; return it with its size in bytes."""
    stored, kind, body_bytes = encode_body(entry.body)
    attributes, attribute_bytes = encode_attributes(trace.stamped(entry.attributes))
    size = body_bytes + attribute_bytes
    if size > config.max_message_bytes:
        raise MessageTooLong(
            f"the message is {size} bytes (body {body_bytes} + attributes {attribute_bytes}); "
            f"the queue's max_message_bytes is {config.max_message_bytes}"
        )
    if config.fifo:
        if entry.delay_seconds is not None:
            raise InvalidParameterValue(
                f"delay_seconds={entry.delay_seconds} per message is not supported on FIFO "
                "queues; set the queue's delay_seconds instead"
            )
        if entry.group_id is None:
            raise InvalidParameterValue("group_id is required for a FIFO queue (MessageGroupId)")
        group_id = check_fifo_id(entry.group_id, "group_id", limits.FIFO_GROUP_ID_MAX_LENGTH)
        deduplication_id = (
            None
            if entry.deduplication_id is None
            else check_fifo_id(
                entry.deduplication_id,
                "deduplication_id",
                limits.FIFO_DEDUPLICATION_ID_MAX_LENGTH,
            )
        )
        key = lifecycle.deduplication_key(
            deduplication_id=deduplication_id,
            body_text=stored,
            content_based=config.content_based_deduplication,
            group_id=group_id,
            scope_by_group=config.deduplication_scope == "messageGroup",
        )
        return (
            OutgoingMessage(
                message_id,
                stored,
                kind,
                attributes,
                config.delay_seconds,
                group_id,
                deduplication_id,
                key,
            ),
            size,
        )
    if entry.group_id is not None or entry.deduplication_id is not None:
        raise InvalidParameterValue(
            "group_id and deduplication_id apply only to FIFO queues (names ending in .fifo)"
        )
    delay = (
        config.delay_seconds
        if entry.delay_seconds is None
        else check_int_range(entry.delay_seconds, "delay_seconds", 0, limits.DELAY_MAX_SECONDS)
    )
    return (
        OutgoingMessage(message_id, stored, kind, attributes, delay, None, None, None),
        size,
    )
