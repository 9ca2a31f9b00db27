"""The worker's side of the protocol: JSON lines in, JSON lines out, errors reported."""

from __future__ import annotations

import io
import json
from typing import Any

from eventyard.model.body import BODY_JSON
from eventyard.runtime.objects import Batch, BatchResponse
from eventyard.runtime.specs import FunctionSpec
from eventyard.runtime.worker import Handler, serve


def record(message_id: str, body: Any) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "receipt_handle": f"ey1:1:{message_id}:1",
        "body": json.dumps(body),
        "body_kind": BODY_JSON,
        "attributes": {"kind": {"DataType": "String", "StringValue": "book"}},
        "system_attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1"},
        "md5_of_body": "",
        "queue": "orders",
        "queue_arn": "arn:aws:sqs:us-east-1:000000000000:orders",
        "region": "us-east-1",
    }


def run(
    handler: Any, requests: list[dict[str, Any]], style: str = "native"
) -> list[dict[str, Any]]:
    spec = FunctionSpec(name="f", handler=handler, trigger="queue", queue="orders", style=style)  # type: ignore[arg-type]
    incoming = io.BytesIO(b"".join(json.dumps(r).encode() + b"\n" for r in requests))
    outgoing = io.BytesIO()
    serve(Handler(spec), incoming, outgoing)
    return [json.loads(line) for line in outgoing.getvalue().splitlines()]


def batch_request(*records: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "batch", "records": list(records), "timeout_ms": 3000}


def test_a_native_batch_and_its_partial_failure() -> None:
    seen: list[Any] = []

    def handler(batch: Batch) -> BatchResponse:
        seen.extend((r.message_id, r.body, r.attributes, r.receive_count) for r in batch)
        return BatchResponse([batch[1]])

    replies = run(handler, [batch_request(record("a", {"n": 1}), record("b", {"n": 2}))])
    assert replies == [{"ready": True}, {"failed": ["b"]}]
    assert seen == [("a", {"n": 1}, {"kind": "book"}, 1), ("b", {"n": 2}, {"kind": "book"}, 1)]


def test_an_exception_is_reported_and_the_worker_goes_on() -> None:
    def handler(batch: Batch) -> None:
        if batch[0].body["n"] == 1:
            raise KeyError("no such sku")

    replies = run(
        handler, [batch_request(record("a", {"n": 1})), batch_request(record("b", {"n": 2}))]
    )
    error = replies[1]["error"]
    assert error["type"] == "KeyError"
    assert "no such sku" in error["message"]
    assert "raise KeyError" in error["traceback"]
    assert replies[2] == {"failed": []}


def test_a_malformed_result_fails_the_whole_batch() -> None:
    replies = run(lambda batch: "all good", [batch_request(record("a", {"n": 1}))])
    assert replies[1]["error"]["type"] == "MalformedBatchResponse"
    replies = run(
        lambda batch: {"batchItemFailures": [{"itemIdentifier": "not-in-batch"}]},
        [batch_request(record("a", {"n": 1}))],
    )
    assert replies[1]["error"]["type"] == "MalformedBatchResponse"


def test_a_lambda_style_handler_gets_the_sqs_event_and_a_context() -> None:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        [item] = event["Records"]
        assert item["eventSource"] == "aws:sqs"
        assert item["messageAttributes"]["kind"]["stringValue"] == "book"
        assert context.function_name == "f"
        assert 0 < context.get_remaining_time_in_millis() <= 3000
        return {"batchItemFailures": [{"itemIdentifier": item["messageId"]}]}

    replies = run(handler, [batch_request(record("a", {"n": 1}))], style="lambda")
    assert replies[1] == {"failed": ["a"]}


def test_async_invocations_return_their_json_result() -> None:
    request = {
        "kind": "invoke",
        "invocation": {"source": "events", "input": {"detail": {"total": 5}}},
        "timeout_ms": 3000,
        "region": "us-east-1",
    }
    replies = run(lambda event: {"seen": event["detail"]["total"]}, [request])
    assert replies[1] == {"result": {"seen": 5}}
    replies = run(lambda event: object(), [request])
    assert replies[1]["error"]["type"] == "TypeError"
