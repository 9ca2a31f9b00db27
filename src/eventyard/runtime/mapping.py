"""An event-source mapping: a queue feeding a function in batches.

Each worker slot of a consumer function has one of these loops: it gathers a
batch (a long poll, then more receives until the batch is full or the
batching window ends), sends it to its worker, and settles it: the messages
that succeeded are deleted, the failed ones stay in flight until their
visibility timeout (then come back, and reach the DLQ after
``max_receive_count``), and every failure is recorded with the message (error
type, message, traceback tail).

The loop is pipelined: while the worker runs a batch, the next one is
already claimed (without waiting), so it is sent the moment the reply comes;
the finished batch's deletes and the claim after that share one write
transaction. A batch therefore stays invisible for the batching window plus
twice the function's timeout (plus 5 s), whatever the queue's setting.

FIFO queues: the group lock keeps one group's messages out of concurrent
batches; within a batch, once a message of a group fails, the later messages
of that group count as failed too, so order holds.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from typing import Any, Final, NamedTuple

from eventyard.broker.client import Client
from eventyard.broker.queue import Queue
from eventyard.errors import EventyardError
from eventyard.model import trace
from eventyard.model.message import Message
from eventyard.runtime.process import WorkerFailed
from eventyard.runtime.slot import WorkerSlot
from eventyard.runtime.specs import FunctionSpec
from eventyard.runtime.wire import record_of
from eventyard.store.records import FailureRecord

#: A long poll is cut into slices this long, so that stopping is prompt.
POLL_SLICE_SECONDS: Final = 2.0
#: Extra invisibility beyond the batching window and the function timeout.
VISIBILITY_MARGIN_SECONDS: Final = 5

invocations_log = logging.getLogger("eventyard.invocations")


def log_invocation(**fields: Any) -> None:
    invocations_log.info(json.dumps(fields, separators=(",", ":"), default=str))


def _trace_ids(batch: list[Message]) -> list[str]:
    """The W3C trace ids the batch's messages carry (for following one order in the logs)."""
    found = {trace.parse(m.attributes.get(trace.ATTRIBUTE)) for m in batch}
    return sorted(trace.trace_id(t) for t in found if t is not None)


class QueueMapping:
    """The loop of one worker slot of a queue-fed function."""

    def __init__(
        self, client: Client, spec: FunctionSpec, slot: WorkerSlot, stop: threading.Event
    ) -> None:
        assert spec.queue is not None
        self._client = client
        self._spec = spec
        self._slot = slot
        self._stop = stop
        self._queue: Queue = client.get_queue(spec.queue)
        self._arn = self._queue.arn
        # A batch may wait for the window, then for the batch ahead of it (claimed while
        # that one runs), then run: it stays invisible for all of that.
        self._visibility = max(
            self._queue.attributes.visibility_timeout,
            math.ceil(spec.batching_window_seconds + 2 * spec.timeout_seconds)
            + VISIBILITY_MARGIN_SECONDS,
        )
        self.invocations = 0
        self.messages = 0

    def run(self) -> None:
        """Pipelined: while the worker runs one batch, the next one is already claimed; it is
        sent the moment the reply comes, and the finished batch's deletes and the next
        claim share one write transaction."""
        running: _Sent | None = None
        ahead: list[Message] = []
        while not self._stop.is_set():
            try:
                if running is None:
                    batch = self._gather()
                    if not batch:
                        continue
                    running = self._send(batch)
                    ahead = self._claim_ahead()
                    continue
                reply = self._wait(running)
                replied = time.monotonic()
                following = self._send(ahead) if ahead else None
                with self._client.transaction():
                    self._finish(running, reply, replied)
                    ahead = self._claim_ahead() if following is not None else []
                running = following
            except EventyardError:
                logging.getLogger("eventyard.runtime").exception(
                    "function %s: a round failed; going on", self._spec.name
                )
                running, ahead = None, []
                self._stop.wait(1.0)
        if running is not None:
            reply = self._wait(running)
            self._finish(running, reply, time.monotonic())
        if ahead:
            self._release(ahead)

    def _claim_ahead(self) -> list[Message]:
        """The next batch, without waiting, while the worker is busy (nothing when stopping)."""
        if self._stop.is_set():
            return []
        return self._queue.receive(
            max_messages=self._spec.batch_size,
            wait_seconds=0,
            visibility_timeout=self._visibility,
        )

    def _gather(self) -> list[Message]:
        spec = self._spec
        batch = self._queue.receive(
            max_messages=spec.batch_size,
            wait_seconds=POLL_SLICE_SECONDS,
            visibility_timeout=self._visibility,
        )
        if not batch or spec.batching_window_seconds <= 0:
            return batch
        window_ends = time.monotonic() + spec.batching_window_seconds
        while len(batch) < spec.batch_size and not self._stop.is_set():
            remaining = window_ends - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.extend(
                    self._queue.receive(
                        max_messages=spec.batch_size - len(batch),
                        # In slices, like the first poll: a stop is seen within one.
                        wait_seconds=min(remaining, POLL_SLICE_SECONDS),
                        visibility_timeout=self._visibility,
                    )
                )
            except EventyardError:
                self._release(batch)  # what was gathered goes back at once
                raise
        return batch

    def _release(self, batch: list[Message]) -> None:
        for start in range(0, len(batch), 10):
            self._queue.change_visibility_batch([(m, 0) for m in batch[start : start + 10]])

    def _send(self, batch: list[Message]) -> _Sent | None:
        """Hand a batch to the worker; None if it went back (shutting down)."""
        spec = self._spec
        if self._stop.is_set():
            self._release(batch)  # shutting down before this batch started: give it back
            return None
        region = self._client.identity.region
        records = [record_of(m, self._arn, region) for m in batch]
        started = time.monotonic()
        try:
            self._slot.send(
                {"kind": "batch", "records": records, "timeout_ms": spec.timeout_seconds * 1000}
            )
        except WorkerFailed as exc:
            return _Sent(batch, started, _failure(exc))
        return _Sent(batch, started, None)

    def _wait(self, sent: _Sent | None) -> dict[str, Any]:
        if sent is None:
            return {"failed": []}
        if sent.failure is not None:
            return sent.failure
        try:
            return self._slot.wait_reply(sent.started + self._spec.timeout_seconds + 1)
        except WorkerFailed as exc:
            return _failure(exc)

    def _finish(self, sent: _Sent | None, reply: dict[str, Any], replied: float) -> None:
        """Settle a batch and record it in the function's statistics (in the caller's
        transaction, when there is one: one upsert per batch)."""
        if sent is None:
            return
        spec = self._spec
        batch = sent.batch
        error: dict[str, Any] | None = None
        reasons: dict[str, dict[str, str]] = {}
        if "error" in reply:
            error = reply["error"]
            failed = {m.message_id for m in batch}
        else:
            failed = set(reply["failed"])
            reasons = reply.get("reasons") or {}
            if self._queue.fifo and failed:
                failed = _fifo_failures(batch, failed)
        self._settle(batch, failed, error, reasons)
        self._retry_after_visibility_timeout(batch, failed, sent.started)
        self.invocations += 1
        self.messages += len(batch)
        duration_ms = (replied - sent.started) * 1000
        self._client.store.record_invocations(
            spec.name, self._client.now_ms(), 1, int(error is not None), len(batch), [duration_ms]
        )
        if invocations_log.isEnabledFor(logging.INFO):
            log_invocation(
                function=spec.name,
                batch_size=len(batch),
                outcome="error" if error else ("partial" if failed else "ok"),
                failed=len(failed),
                duration_ms=round(duration_ms, 1),
                error=None if error is None else error.get("type"),
                trace_ids=_trace_ids(batch),
            )

    def _retry_after_visibility_timeout(
        self, batch: list[Message], failed: set[str], started: float
    ) -> None:
        """Failed messages come back one visibility timeout after their invocation began.

        They were claimed for longer (see ``self._visibility``) so that a batch
        waiting its turn never reappears; a failure shortens that to what the
        queue's own visibility timeout leaves, as it would on AWS.
        """
        if not failed:
            return
        elapsed = time.monotonic() - started
        delay = max(0, math.ceil(self._queue.attributes.visibility_timeout - elapsed))
        if delay >= self._visibility - elapsed:
            return  # the claim ends sooner anyway
        retry = [(m, delay) for m in batch if m.message_id in failed]
        for start in range(0, len(retry), 10):
            self._queue.change_visibility_batch(retry[start : start + 10])

    def _settle(
        self,
        batch: list[Message],
        failed: set[str],
        error: dict[str, Any] | None,
        reasons: dict[str, dict[str, str]],
    ) -> None:
        done = [m for m in batch if m.message_id not in failed]
        for start in range(0, len(done), 10):
            self._queue.delete_batch(done[start : start + 10])
        if not failed:
            return
        now_ms = self._client.now_ms()
        reported = error or {
            "type": "BatchItemFailure",
            "message": "the handler reported this message as failed",
        }
        records = []
        for m in batch:
            if m.message_id in failed:
                details = reasons.get(m.message_id, reported)
                records.append(
                    FailureRecord(
                        m.message_id,
                        m.queue,
                        self._spec.name,
                        m.receive_count,
                        str(details.get("type", "Error")),
                        str(details.get("message", "")),
                        str(details.get("traceback", "")),
                        now_ms,
                    )
                )
        self._client.store.record_failures(records)


class _Sent(NamedTuple):
    """A batch handed to the worker (or that failed on the way)."""

    batch: list[Message]
    started: float
    failure: dict[str, Any] | None


def _failure(exc: WorkerFailed) -> dict[str, Any]:
    return {"error": {"type": exc.error_type, "message": str(exc), "traceback": ""}}


def _fifo_failures(batch: list[Message], failed: set[str]) -> set[str]:
    """In a FIFO batch, a failure fails the rest of its group too (order must hold)."""
    stopped: set[str | None] = set()
    result = set(failed)
    for message in batch:
        if message.group_id in stopped:
            result.add(message.message_id)
        elif message.message_id in failed:
            stopped.add(message.group_id)
    return result
