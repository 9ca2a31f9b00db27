"""A worker process: runs one function's handler for the supervisor, in isolation.

``python -m eventyard.runtime.worker APP FUNCTION`` imports the app file (or
``module:attribute``), finds the function, and answers requests: one JSON
object per line on stdin, one per line on the original stdout. The handler's
own prints go to stderr, so they never corrupt the protocol. Nothing is ever
pickled: records are JSON (see `eventyard.runtime.wire`).

A crash, an ``os._exit``, a segfault or a memory limit ends only this
process; the supervisor sees the pipe close, fails the batch, and starts a
new worker.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any, BinaryIO

import eventyard
from eventyard.model import trace
from eventyard.runtime.loader import load_app
from eventyard.runtime.objects import Batch, BatchResponse, FunctionContext, Record
from eventyard.runtime.specs import FunctionSpec

_client: eventyard.Client | None = None
_database_url: str | None = None


def current_client() -> eventyard.Client:
    """The worker's client (opened on first use, on the app's database)."""
    global _client
    if _client is None:
        durability = os.environ.get("EVENTYARD_DURABILITY", "full")
        _client = eventyard.connect(
            _database_url, durability="process" if durability == "process" else "full"
        )
    return _client


def _error(exc: BaseException) -> dict[str, Any]:
    tail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)[-12:])
    return {"type": type(exc).__name__, "message": str(exc)[:2000], "traceback": tail[-4000:]}


def _takes_context(handler: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [
        p
        for p in parameters
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    return len(positional) >= 2 or any(
        p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters
    )


def failed_ids(result: object, message_ids: list[str]) -> list[str]:
    """A consumer's result: None, a BatchResponse, or Lambda's batchItemFailures shape."""
    from eventyard.runtime.lambda_shapes import batch_item_failures

    if isinstance(result, BatchResponse):
        result = result.to_lambda()
    return batch_item_failures(result, message_ids)


class Handler:
    """One function's handler, called the way its style asks."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        self.with_context = spec.style == "lambda" or _takes_context(spec.handler)

    def _context(self, timeout_ms: int) -> Any:
        deadline = time.monotonic() + timeout_ms / 1000
        if self.spec.style == "lambda":
            from eventyard.runtime.lambda_shapes import LambdaContext

            return LambdaContext(
                function_name=self.spec.name,
                aws_request_id=str(uuid.uuid4()),
                deadline=deadline,
                memory_limit_in_mb=self.spec.memory_limit_mb or 128,
            )
        return FunctionContext(self.spec.name, deadline, current_client)

    def _call(self, event: Any, timeout_ms: int, traceparent: str | None = None) -> Any:
        # What the handler sends continues the message's trace (eventyard.model.trace).
        with trace.use(traceparent):
            if self.with_context:
                return self.spec.handler(event, self._context(timeout_ms))
            return self.spec.handler(event)

    def batch(self, request: dict[str, Any]) -> dict[str, Any]:
        records = request["records"]
        ids = [record["message_id"] for record in records]
        if self.spec.style == "lambda":
            from eventyard.runtime.lambda_shapes import sqs_event

            event: Any = sqs_event(records)
        else:
            event = Batch([Record(r) for r in records], records[0]["queue"], self.spec.name)
        traces = {Record(r).traceparent for r in records}
        shared = traces.pop() if len(traces) == 1 else None  # one trace for the whole batch
        result = self._call(event, request["timeout_ms"], shared)
        reply: dict[str, Any] = {"failed": failed_ids(result, ids)}
        if isinstance(result, BatchResponse) and result.reasons:
            reply["reasons"] = {
                message_id: {key: text[:2000] for key, text in reason.items()}
                for message_id, reason in result.reasons.items()
            }
        return reply

    def invoke(self, request: dict[str, Any]) -> dict[str, Any]:
        invocation = request["invocation"]
        if invocation["source"] == "sns":
            notification = invocation["notification"]
            if self.spec.style == "lambda":
                from eventyard.runtime.lambda_shapes import sns_event

                event: Any = sns_event(
                    notification, invocation["subscription_arn"], request["region"]
                )
            else:
                event = notification
        else:
            event = invocation["input"]
        result = self._call(event, request["timeout_ms"], _traceparent_of(invocation))
        json.dumps(result)  # the result must be JSON: it goes to destinations
        return {"result": result}


def _traceparent_of(invocation: dict[str, Any]) -> str | None:
    """The trace an async invocation continues: its SNS message's ``traceparent`` attribute."""
    if invocation["source"] != "sns":
        return None
    spec = invocation["notification"].get("MessageAttributes", {}).get(trace.ATTRIBUTE)
    return trace.parse(spec.get("Value")) if isinstance(spec, dict) else None


def serve(handler: Handler, requests: BinaryIO, replies: BinaryIO) -> None:
    replies.write(b'{"ready": true}\n')
    replies.flush()
    for line in requests:
        request = json.loads(line)
        try:
            if request["kind"] == "batch":
                reply = handler.batch(request)
            else:
                reply = handler.invoke(request)
        except Exception as exc:  # the handler's failure: reported, the worker lives on
            reply = {"error": _error(exc)}
        replies.write(json.dumps(reply, separators=(",", ":")).encode("utf-8") + b"\n")
        replies.flush()


def main(argv: list[str]) -> int:
    global _database_url
    app_ref, function_name = argv
    app = load_app(app_ref)
    spec = app.function(function_name)
    _database_url = os.environ.get("EVENTYARD_DB") or app.database_url
    if spec.memory_limit_mb:
        import resource

        limit = spec.memory_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # The protocol keeps the original stdout; the handler's prints go to stderr.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    from eventyard.idempotency import set_default_client

    set_default_client(current_client)
    serve(Handler(spec), sys.stdin.buffer, replies)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
