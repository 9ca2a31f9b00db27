"""What crosses the pipe between the supervisor and a worker process: JSON, never pickle.

A received queue message travels as a *record* dict:

``{"message_id", "receipt_handle", "body" (text; bytes as base64), "body_kind",
"attributes" ({"name": {"DataType", "StringValue" | "BinaryValue" (base64)}}),
"system_attributes" ({"ApproximateReceiveCount": "1", ...}), "queue",
"queue_arn", "region"}`` (``md5_of_body`` is computed by the worker, for
Lambda-style handlers only).

Requests and replies are one JSON object per line. Workers rebuild native
`Batch` objects or AWS Lambda event shapes from records.
"""

from __future__ import annotations

import base64
from typing import Any

from eventyard.model.message import Message


def record_of(message: Message, queue_arn: str, region: str) -> dict[str, Any]:
    """The wire record of a received message."""
    text = message.text
    attributes: dict[str, dict[str, str]] = {}
    for name, spec in message.message_attributes.items():
        if "BinaryValue" in spec:
            raw = spec["BinaryValue"]
            assert isinstance(raw, bytes)
            attributes[name] = {
                "DataType": str(spec["DataType"]),
                "BinaryValue": base64.b64encode(raw).decode("ascii"),
            }
        else:
            attributes[name] = {
                "DataType": str(spec["DataType"]),
                "StringValue": str(spec["StringValue"]),
            }
    return {
        "message_id": message.message_id,
        "receipt_handle": message.receipt_handle,
        "body": text,
        "body_kind": message.body_kind,
        "attributes": attributes,
        "system_attributes": message.system_attributes,
        "queue": message.queue,
        "queue_arn": queue_arn,
        "region": region,
    }
