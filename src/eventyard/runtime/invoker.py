"""Asynchronous invocation: topics and rules invoking a function, with retries and destinations.

A topic subscription or a rule target that is a function writes an
invocation into the function's internal queue (in the publisher's
transaction). Each worker slot of the function runs this loop: it takes one
invocation, checks its age, calls the worker, and on success sends the
invocation record to the ``on_success`` destination; on failure it retries
(``retries`` 0-2, after ``retry_delay_seconds`` doubling: 60 s then 120 s by
default, as Lambda) and finally sends the record to ``on_failure``. The
record has Lambda's shape (``version``, ``timestamp``, ``requestContext``
with ``condition`` and ``approximateInvokeCount``, ``requestPayload``,
``responseContext``, ``responsePayload``).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any, Final

from eventyard.broker.client import Client
from eventyard.broker.queue import Queue
from eventyard.errors import EventyardError
from eventyard.model.message import Message
from eventyard.runtime.mapping import POLL_SLICE_SECONDS, log_invocation
from eventyard.runtime.process import WorkerFailed
from eventyard.runtime.slot import WorkerSlot
from eventyard.runtime.specs import Destination, FunctionSpec

RETRY_DELAY_SECONDS: Final = 60


class AsyncInvoker:
    """The loop of one worker slot of an asynchronously invoked function."""

    def __init__(
        self,
        client: Client,
        spec: FunctionSpec,
        slot: WorkerSlot,
        stop: threading.Event,
        retry_delay_seconds: int = RETRY_DELAY_SECONDS,
    ) -> None:
        self._client = client
        self._spec = spec
        self._slot = slot
        self._stop = stop
        self._retry_delay = retry_delay_seconds
        self._queue = Queue(client, client.store.get_queue(spec.invocation_queue))
        self.invocations = 0

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                for message in self._queue.receive(max_messages=1, wait_seconds=POLL_SLICE_SECONDS):
                    if self._stop.is_set():
                        self._queue.change_visibility(message, 0)
                        continue
                    self._invoke(message)
            except EventyardError:
                import logging

                logging.getLogger("eventyard.runtime").exception(
                    "function %s: a round failed; going on", self._spec.name
                )
                self._stop.wait(1.0)

    def _invoke(self, message: Message) -> None:
        spec = self._spec
        invocation: dict[str, Any] = message.body
        payload = invocation.get("notification", invocation.get("input"))
        age_ms = self._client.now_ms() - message.sent_timestamp
        attempt = message.receive_count
        if age_ms > spec.max_event_age_seconds * 1000:
            with self._client.transaction():
                self._destination(spec.on_failure, "EventAgeExceeded", attempt - 1, payload, None)
                self._queue.delete(message)
            return
        started = time.monotonic()
        try:
            reply = self._slot.call(
                {
                    "kind": "invoke",
                    "invocation": invocation,
                    "timeout_ms": spec.timeout_seconds * 1000,
                    "region": self._client.identity.region,
                },
                spec.timeout_seconds + 1,
            )
        except WorkerFailed as exc:
            reply = {"error": {"type": exc.error_type, "message": str(exc), "traceback": ""}}
        duration_ms = (time.monotonic() - started) * 1000
        self.invocations += 1
        error = reply.get("error")
        # The statistics, the destination record and the delete (or the retry's delay)
        # commit together: one transaction, and no destination record twice after a crash.
        with self._client.transaction():
            self._client.store.record_invocations(
                spec.name, self._client.now_ms(), 1, int(error is not None), 1, [duration_ms]
            )
            if error is None:
                self._destination(spec.on_success, "Success", attempt, payload, reply.get("result"))
                self._queue.delete(message)
            elif attempt <= spec.retries:
                self._queue.change_visibility(message, self._retry_delay * 2 ** (attempt - 1))
            else:
                self._destination(spec.on_failure, "RetriesExhausted", attempt, payload, error)
                self._queue.delete(message)
        log_invocation(
            function=spec.name,
            batch_size=1,
            outcome="error" if error else "ok",
            attempt=attempt,
            duration_ms=round(duration_ms, 1),
            error=None if error is None else error.get("type"),
        )

    def _destination(
        self,
        destination: Destination | None,
        condition: str,
        invoke_count: int,
        payload: Any,
        response: Any,
    ) -> None:
        if destination is None:
            return
        record = invocation_record(
            self._client, self._spec, condition, invoke_count, payload, response
        )
        send_to_destination(self._client, destination, record, condition == "Success")


def invocation_record(
    client: Client,
    spec: FunctionSpec,
    condition: str,
    invoke_count: int,
    payload: Any,
    response: Any,
) -> dict[str, Any]:
    """The record Lambda sends to a destination after an asynchronous invocation."""
    identity = client.identity
    now = datetime.fromtimestamp(client.now_ms() / 1000, tz=UTC)
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    response_payload = response
    if condition != "Success":
        response_context["functionError"] = "Unhandled"
        if isinstance(response, dict) and "type" in response:
            response_payload = {
                "errorType": response["type"],
                "errorMessage": response.get("message", ""),
                "stackTrace": str(response.get("traceback", "")).splitlines(),
            }
    return {
        "version": "1.0",
        "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": (
                f"arn:aws:lambda:{identity.region}:{identity.account_id}:function:"
                f"{spec.name}:$LATEST"
            ),
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "requestPayload": payload,
        "responseContext": response_context,
        "responsePayload": response_payload,
    }


def send_to_destination(
    client: Client, destination: Destination, record: dict[str, Any], success: bool
) -> None:
    if destination.kind == "queue":
        client.get_queue(destination.name).send(record)
    elif destination.kind == "topic":
        client.get_topic(destination.name).publish(json.dumps(record, ensure_ascii=False))
    elif destination.kind == "bus":
        client.bus(destination.name).put_events(
            [
                {
                    "source": "lambda",
                    "detail_type": "Lambda Function Invocation Result - "
                    + ("Success" if success else "Failure"),
                    "detail": record,
                }
            ]
        )
    else:
        from eventyard.model.internal import function_queue

        invocation = {"source": "lambda-destination", "input": record}
        Queue(client, client.store.get_queue(function_queue(destination.name))).send(invocation)
