"""What a native handler receives and returns: `Batch`, `Record`, `BatchResponse`, context.

Built inside the worker process from the JSON records the supervisor sends
(see `eventyard.runtime.wire`). A record's ``body`` is what was sent (text,
bytes, or the decoded JSON value), like `Message.body`.
"""

from __future__ import annotations

import base64
import json
import time
import traceback
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, overload

from eventyard.model import trace
from eventyard.model.body import BODY_BYTES, BODY_JSON

if TYPE_CHECKING:
    from eventyard.broker.client import Client
    from eventyard.broker.transaction import Transaction


class Record:
    """One message of a batch."""

    __slots__ = ("_body", "_raw")

    def __init__(self, raw: dict[str, Any]) -> None:
        self._raw = raw
        self._body: Any = _UNSET

    @property
    def message_id(self) -> str:
        return str(self._raw["message_id"])

    @property
    def body(self) -> Any:
        if self._body is _UNSET:
            kind, text = self._raw["body_kind"], self._raw["body"]
            if kind == BODY_JSON:
                self._body = json.loads(text)
            elif kind == BODY_BYTES:
                self._body = base64.b64decode(text)
            else:
                self._body = text
        return self._body

    @property
    def text(self) -> str:
        return str(self._raw["body"])

    @property
    def attributes(self) -> dict[str, Any]:
        """Message attributes as plain values (``Number`` as int/float, ``Binary`` as bytes)."""
        plain: dict[str, Any] = {}
        for name, spec in self._raw["attributes"].items():
            data_type = spec["DataType"].split(".", 1)[0]
            if data_type == "Binary":
                plain[name] = base64.b64decode(spec["BinaryValue"])
            elif data_type == "Number":
                value = spec["StringValue"]
                try:
                    plain[name] = int(value)
                except ValueError:
                    plain[name] = float(value)
            else:
                plain[name] = spec["StringValue"]
        return plain

    @property
    def traceparent(self) -> str | None:
        """The W3C trace this message belongs to (its ``traceparent`` attribute), if any."""
        spec = self._raw["attributes"].get(trace.ATTRIBUTE)
        return trace.parse(spec.get("StringValue")) if isinstance(spec, dict) else None

    @property
    def system_attributes(self) -> dict[str, str]:
        return dict(self._raw["system_attributes"])

    @property
    def receive_count(self) -> int:
        return int(self._raw["system_attributes"]["ApproximateReceiveCount"])

    @property
    def group_id(self) -> str | None:
        value = self._raw["system_attributes"].get("MessageGroupId")
        return None if value is None else str(value)

    @property
    def queue(self) -> str:
        return str(self._raw["queue"])

    def __repr__(self) -> str:
        return f"Record(message_id={self.message_id!r}, receive_count={self.receive_count})"


_UNSET: Any = object()


class Batch(Sequence[Record]):
    """The messages of one invocation of a queue consumer, in the order received."""

    def __init__(self, records: Sequence[Record], queue: str, function_name: str) -> None:
        self._records = list(records)
        self.queue = queue
        self.function_name = function_name

    @overload
    def __getitem__(self, index: int) -> Record: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Record]: ...
    def __getitem__(self, index: int | slice) -> Record | Sequence[Record]:
        return self._records[index]

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[Record]:
        return iter(self._records)

    def __repr__(self) -> str:
        return f"Batch({self.queue!r}, {len(self)} records)"


class BatchResponse:
    """A partial batch failure: the messages to retry; every other one is deleted.

    ``fail(record, reason)``: the reason (an exception or a text) is kept in the
    message's failure records, next to the attempt, as a raised error would be
    (a caught exception with the tail of its traceback).
    """

    def __init__(self, failed: Sequence[Record | str] = ()) -> None:
        self.failed: list[str] = []
        self.reasons: dict[str, dict[str, str]] = {}
        for item in failed:
            self.fail(item)

    def fail(self, item: Record | str, reason: BaseException | str | None = None) -> BatchResponse:
        message_id = item.message_id if isinstance(item, Record) else str(item)
        self.failed.append(message_id)
        if isinstance(reason, BaseException):
            self.reasons[message_id] = {"type": type(reason).__name__, "message": str(reason)}
            if reason.__traceback__ is not None:  # caught: where it was raised, for the operator
                lines = traceback.format_exception(type(reason), reason, reason.__traceback__)
                self.reasons[message_id]["traceback"] = "".join(lines[-12:])[-2000:]
        elif reason is not None:
            self.reasons[message_id] = {"type": "BatchItemFailure", "message": str(reason)}
        return self

    def to_lambda(self) -> dict[str, list[dict[str, str]]]:
        return {"batchItemFailures": [{"itemIdentifier": item} for item in self.failed]}

    def __repr__(self) -> str:
        return f"BatchResponse(failed={self.failed!r})"


class FunctionContext:
    """What a native handler may take as its second parameter."""

    def __init__(self, function_name: str, deadline: float, client_getter: Any) -> None:
        self.function_name = function_name
        self.request_id = str(uuid.uuid4())
        self._deadline = deadline
        self._client_getter = client_getter

    def remaining_ms(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    @property
    def client(self) -> Client:
        """The worker process's eventyard client (same database as the app)."""
        client: Client = self._client_getter()
        return client

    def transaction(self) -> AbstractContextManager[Transaction]:
        """One transaction for the handler's own SQL and its sends/publishes (the outbox)."""
        return self.client.transaction()
