"""Batch requests and their per-entry results.

A batch either fails as a whole, before anything is written (empty, more
than 10 entries, ids repeated or malformed, too many bytes in total), or is
written in one transaction with a result per entry: an entry whose own
input is bad fails alone, as in SQS.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, NamedTuple, Protocol, TypeVar

from eventyard.errors import (
    BatchEntryIdsNotDistinct,
    EmptyBatchRequest,
    EventyardError,
    InvalidParameterValue,
    TooManyEntriesInBatch,
)
from eventyard.model import limits
from eventyard.model.names import check_entry_ids, shorten


@dataclass(frozen=True, slots=True)
class SendEntry:
    """One message of a `Queue.send_batch` call."""

    body: Any
    id: str | None = None
    attributes: Mapping[str, object] | None = None
    delay_seconds: int | None = None
    group_id: str | None = None
    deduplication_id: str | None = None


class SendResult(NamedTuple):
    """What happened to one entry of a send batch."""

    id: str
    message_id: str | None = None
    sequence_number: str | None = None
    #: True when a FIFO queue recognized the entry as a duplicate (not enqueued again).
    duplicate: bool = False
    error: EventyardError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class EntryResult(NamedTuple):
    """What happened to one entry of a delete or change-visibility batch."""

    id: str
    receipt_handle: str
    error: EventyardError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class MessageIdResult(NamedTuple):
    """What happened to one message of an operator's call by message id (delete, redrive)."""

    message_id: str
    error: EventyardError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class _Outcome(Protocol):
    @property
    def error(self) -> EventyardError | None: ...


R = TypeVar("R", bound=_Outcome)


class BatchResult(list[R], Generic[R]):
    """The per-entry results of a batch call, in the order of the entries."""

    @property
    def successful(self) -> list[R]:
        return [result for result in self if result.error is None]

    @property
    def failed(self) -> list[R]:
        return [result for result in self if result.error is not None]

    def raise_for_errors(self) -> None:
        """Raise the first entry's error, if any entry failed."""
        for result in self:
            if result.error is not None:
                raise result.error


_ENTRY_KEYS: Final = frozenset(SendEntry.__dataclass_fields__)
_AWS_ENTRY_KEYS: Final = {
    "Id": "id",
    "MessageBody": "body",
    "MessageAttributes": "attributes",
    "DelaySeconds": "delay_seconds",
    "MessageGroupId": "group_id",
    "MessageDeduplicationId": "deduplication_id",
}


def send_entry(item: object, index: int) -> SendEntry:
    """Read one item of a send batch.

    A `SendEntry`; a dict with a ``body`` key and only the keys of `SendEntry`
    (or SQS's ``MessageBody``, ``Id``, ...); anything else is itself a body.
    """
    if isinstance(item, str | bytes):
        return SendEntry(item, str(index))
    if isinstance(item, SendEntry):
        entry = item
    elif isinstance(item, Mapping) and "body" in item and set(item) <= _ENTRY_KEYS:
        entry = SendEntry(**item)
    elif isinstance(item, Mapping) and "MessageBody" in item and set(item) <= set(_AWS_ENTRY_KEYS):
        entry = SendEntry(**{_AWS_ENTRY_KEYS[key]: value for key, value in item.items()})
    else:
        entry = SendEntry(body=item)
    if entry.id is None:
        return SendEntry(
            entry.body,
            str(index),
            entry.attributes,
            entry.delay_seconds,
            entry.group_id,
            entry.deduplication_id,
        )
    return entry


def check_batch_shape(ids: Sequence[str], what: str) -> None:
    """The whole-batch rules: 1-10 entries, well-formed ids, no id twice."""
    if not ids:
        raise EmptyBatchRequest(f"{what} needs at least 1 entry; got none")
    if len(ids) > limits.BATCH_MAX_ENTRIES:
        raise TooManyEntriesInBatch(
            f"{what} holds {len(ids)} entries; the limit is {limits.BATCH_MAX_ENTRIES}"
        )
    check_entry_ids(list(ids))
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        repeated = ""
        for entry_id in ids:
            if entry_id in seen:
                repeated = entry_id
                break
            seen.add(entry_id)
        raise BatchEntryIdsNotDistinct(
            f"{what} uses the entry id {repeated!r} more than once; ids must be distinct"
        )


def handle_entries(items: Iterable[object]) -> list[tuple[str, object]]:
    """Read the items of a delete batch: receipt handles, messages, or (id, handle) pairs."""
    entries: list[tuple[str, object]] = []
    for index, item in enumerate(items):
        if isinstance(item, tuple) and len(item) == 2:
            entries.append((item[0], item[1]))
        else:
            entries.append((str(index), getattr(item, "receipt_handle", item)))
    return entries


def visibility_entries(items: Iterable[object]) -> list[tuple[str, object, object]]:
    """Read the items of a change-visibility batch: (handle, timeout) or (id, handle, timeout)."""
    entries: list[tuple[str, object, object]] = []
    for index, item in enumerate(items):
        if isinstance(item, tuple) and len(item) == 3:
            entries.append((item[0], getattr(item[1], "receipt_handle", item[1]), item[2]))
        elif isinstance(item, tuple) and len(item) == 2:
            entries.append((str(index), getattr(item[0], "receipt_handle", item[0]), item[1]))
        else:
            raise InvalidParameterValue(
                f"change_visibility_batch entry {shorten(item)} must be (receipt_handle, "
                "visibility_timeout) or (id, receipt_handle, visibility_timeout)"
            )
    return entries


#: Message ids one operator call (delete by id, redrive of chosen messages) may name.
MESSAGE_IDS_MAX: Final = 1_000


def message_ids(items: Iterable[object], what: str) -> list[str]:
    """Read the message ids of an operator's call: ids, or objects with a ``message_id``
    (a `Message`, a `PeekedMessage`); 1 to `MESSAGE_IDS_MAX`, each once."""
    if isinstance(items, str | bytes):
        raise InvalidParameterValue(
            f"{what} takes a list of message ids, got the single value {shorten(items)}"
        )
    ids: list[str] = []
    seen: set[str] = set()
    for item in items:
        value = getattr(item, "message_id", item)
        if not isinstance(value, str) or not value:
            raise InvalidParameterValue(
                f"{what}: message id {shorten(value)} must be a non-empty string"
            )
        if value in seen:
            raise BatchEntryIdsNotDistinct(
                f"{what} names message id {value!r} more than once; ids must be distinct"
            )
        seen.add(value)
        ids.append(value)
    if not ids:
        raise EmptyBatchRequest(f"{what} needs at least 1 message id; got none")
    if len(ids) > MESSAGE_IDS_MAX:
        raise TooManyEntriesInBatch(
            f"{what} names {len(ids)} message ids; the limit is {MESSAGE_IDS_MAX}"
        )
    return ids
