"""SQS operations over the AWS wire (JSON 1.0 and query): handlers on the Python API."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

from eventyard.aws.context import Call, operation
from eventyard.aws.errors import AwsError
from eventyard.broker.queue import Queue
from eventyard.errors import QueueDoesNotExist


def queue_url(call: Call, name: str) -> str:
    return f"{call.base_url}/{call.settings.account}/{name}"


def queue_name(call: Call, url_or_name: str) -> str:
    """The queue a QueueUrl (any host), an ARN or a bare name designates."""
    if url_or_name.startswith("arn:"):
        return url_or_name.rsplit(":", 1)[-1]
    if "://" in url_or_name:
        path = urlsplit(url_or_name).path.rstrip("/")
        return path.rsplit("/", 1)[-1]
    return url_or_name


def the_queue(call: Call) -> Queue:
    url = call.require("QueueUrl")
    name = queue_name(call, url)
    try:
        return call.client.get_queue(name)
    except QueueDoesNotExist:
        raise AwsError(
            "QueueDoesNotExist", f"the queue {url} does not exist (or was deleted)"
        ) from None


def md5_of_body(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def md5_of_attributes(attributes: dict[str, dict[str, Any]]) -> str | None:
    """SQS's MD5OfMessageAttributes: names sorted; each name, type and value length-prefixed."""
    if not attributes:
        return None
    digest = hashlib.md5()
    for name in sorted(attributes):
        attribute = attributes[name]
        data_type = str(attribute["DataType"])
        for part in (name.encode(), data_type.encode()):
            digest.update(len(part).to_bytes(4, "big") + part)
        if "BinaryValue" in attribute and attribute["BinaryValue"] is not None:
            value = attribute["BinaryValue"]
            data = value if isinstance(value, bytes) else str(value).encode()
            digest.update(b"\x02" + len(data).to_bytes(4, "big") + data)
        else:
            data = str(attribute.get("StringValue", "")).encode()
            digest.update(b"\x01" + len(data).to_bytes(4, "big") + data)
    return digest.hexdigest()


@operation("sqs", "CreateQueue")
def create_queue(call: Call) -> dict[str, Any]:
    name = call.require("QueueName")
    call.client.create_queue(name)
    return {"QueueUrl": queue_url(call, name)}


@operation("sqs", "GetQueueUrl")
def get_queue_url(call: Call) -> dict[str, Any]:
    name = call.require("QueueName")
    try:
        call.client.get_queue(name)
    except QueueDoesNotExist:
        raise AwsError("QueueDoesNotExist", f"the queue {name!r} does not exist") from None
    return {"QueueUrl": queue_url(call, name)}


@operation("sqs", "SendMessage")
def send_message(call: Call) -> dict[str, Any]:
    queue = the_queue(call)
    body = call.require("MessageBody")
    attributes = call.params.get("MessageAttributes") or {}
    message_id = queue.send(
        body,
        attributes=attributes or None,
        delay_seconds=call.params.get("DelaySeconds"),
        group_id=call.params.get("MessageGroupId"),
        deduplication_id=call.params.get("MessageDeduplicationId"),
    )
    result: dict[str, Any] = {"MessageId": message_id, "MD5OfMessageBody": md5_of_body(body)}
    if attributes:
        result["MD5OfMessageAttributes"] = md5_of_attributes(attributes)
    return result


@operation("sqs", "ReceiveMessage")
def receive_message(call: Call) -> dict[str, Any]:
    queue = the_queue(call)
    messages = queue.receive(
        max_messages=call.params.get("MaxNumberOfMessages", 1),
        wait_seconds=call.params.get("WaitTimeSeconds"),
        visibility_timeout=call.params.get("VisibilityTimeout"),
    )
    out = []
    for message in messages:
        attributes = message.message_attributes
        entry: dict[str, Any] = {
            "MessageId": message.message_id,
            "ReceiptHandle": message.receipt_handle,
            "MD5OfBody": md5_of_body(message.text),
            "Body": message.text,
        }
        if attributes:
            entry["MessageAttributes"] = attributes
            entry["MD5OfMessageAttributes"] = md5_of_attributes(attributes)
        out.append(entry)
    return {"Messages": out} if out else {}


@operation("sqs", "DeleteMessage")
def delete_message(call: Call) -> dict[str, Any]:
    queue = the_queue(call)
    queue.delete(call.require("ReceiptHandle"))
    return {}
