"""SQS message operations: send, receive, delete and change visibility, one or a batch.

Handlers on eventyard's `Queue`. What they add is SQS's wire: the MD5
digests of what was sent and received, the system attributes a receive
asks for (``All`` or by name) and the message attributes (``All``, ``.*``,
names, ``prefix.*``), and batch answers with ``Successful`` and ``Failed``
entries (``Id``, ``Code``, ``Message``, ``SenderFault``). A batch that is
wrong as a whole (empty, over 10 entries, ids repeated or malformed, too
many bytes) fails the request, as eventyard's batch calls do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from eventyard.aws.context import Call, operation
from eventyard.aws.errors import AwsError
from eventyard.aws.sqs_common import (
    check_range,
    failed_entry,
    md5_of_attributes,
    md5_of_body,
    queue_arn,
    sqs_error,
    the_queue,
)
from eventyard.broker.batch import SendEntry, SendResult, check_batch_shape
from eventyard.broker.queue import Queue
from eventyard.errors import EventyardError
from eventyard.model import limits
from eventyard.model.message import Message

SYSTEM_ATTRIBUTES: Final = frozenset(
    {
        "SenderId",
        "SentTimestamp",
        "ApproximateReceiveCount",
        "ApproximateFirstReceiveTimestamp",
        "SequenceNumber",
        "MessageDeduplicationId",
        "MessageGroupId",
        "AWSTraceHeader",
        "DeadLetterQueueSourceArn",
    }
)


# -- sending ------------------------------------------------------------------------------


def _message_attributes(given: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Any]:
    attributes = dict(given or {})
    for name, value in attributes.items():
        if value.get("StringListValues") or value.get("BinaryListValues"):
            raise AwsError(
                "InvalidParameterValue",
                f"Message attribute {name!r}: StringListValues and BinaryListValues are "
                "reserved for future use.",
            )
    return attributes


def _system_attributes(given: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Any]:
    """MessageSystemAttributes of a send: only AWSTraceHeader, a String (not kept)."""
    attributes = dict(given or {})
    for name, value in attributes.items():
        if name != "AWSTraceHeader":
            raise AwsError(
                "InvalidParameterValue",
                f"Message system attribute {name!r} is not supported; only AWSTraceHeader is.",
            )
        if value.get("DataType") != "String" or not value.get("StringValue"):
            raise AwsError(
                "InvalidParameterValue",
                "Message system attribute AWSTraceHeader must be a non-empty String.",
            )
    return attributes


def _entry(queue: Queue, params: Mapping[str, Any], entry_id: str) -> SendEntry:
    if params.get("MessageBody") is None:
        raise AwsError("MissingParameter", "The request must contain the parameter MessageBody.")
    if queue.fifo and params.get("MessageGroupId") is None:
        raise AwsError("MissingParameter", "The request must contain the parameter MessageGroupId.")
    return SendEntry(
        params["MessageBody"],
        entry_id,
        _message_attributes(params.get("MessageAttributes")) or None,
        params.get("DelaySeconds"),
        params.get("MessageGroupId"),
        params.get("MessageDeduplicationId"),
    )


def _sent(params: Mapping[str, Any], result: SendResult) -> dict[str, Any]:
    """The digests and ids of one sent message (SendMessageResult's members)."""
    return {
        "MessageId": result.message_id,
        "MD5OfMessageBody": md5_of_body(params["MessageBody"]),
        "MD5OfMessageAttributes": md5_of_attributes(params.get("MessageAttributes") or {}),
        "MD5OfMessageSystemAttributes": md5_of_attributes(
            params.get("MessageSystemAttributes") or {}
        ),
        "SequenceNumber": result.sequence_number,
    }


@operation("sqs", "SendMessage")
def send_message(call: Call) -> dict[str, Any]:
    queue = the_queue(call)
    _system_attributes(call.params.get("MessageSystemAttributes"))
    entry = _entry(queue, call.params, "0")
    try:
        [result] = queue.send_batch([entry])
    except EventyardError as exc:
        raise sqs_error(exc) from None
    if result.error is not None:
        raise sqs_error(result.error)
    return _sent(call.params, result)


@operation("sqs", "SendMessageBatch")
def send_message_batch(call: Call) -> dict[str, Any]:
    queue = the_queue(call)
    given: list[dict[str, Any]] = call.require("Entries")
    check_batch_shape([params.get("Id", "") for params in given], "SendMessageBatch")
    valid: list[SendEntry] = []
    failed: dict[str, AwsError] = {}
    for params in given:
        try:
            _system_attributes(params.get("MessageSystemAttributes"))
            valid.append(_entry(queue, params, params["Id"]))
        except AwsError as error:
            failed[params["Id"]] = error
    try:
        results = {result.id: result for result in queue.send_batch(valid)} if valid else {}
    except EventyardError as exc:
        raise sqs_error(exc) from None
    successful: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for params in given:  # in the order of the request
        entry_id = params["Id"]
        result = results.get(entry_id)
        if result is None:
            failures.append(failed_entry(entry_id, failed[entry_id]))
        elif result.error is not None:
            failures.append(failed_entry(entry_id, sqs_error(result.error)))
        else:
            successful.append({"Id": entry_id, **_sent(params, result)})
    return {"Successful": successful, "Failed": failures}


# -- receiving ----------------------------------------------------------------------------


def _wanted_system_attributes(call: Call) -> frozenset[str]:
    names = [
        *(call.params.get("AttributeNames") or []),
        *(call.params.get("MessageSystemAttributeNames") or []),
    ]
    if "All" in names:
        return SYSTEM_ATTRIBUTES
    return frozenset(name for name in names if name in SYSTEM_ATTRIBUTES)


def _attribute_filter(patterns: Sequence[str]) -> tuple[bool, frozenset[str], tuple[str, ...]]:
    """(all?, exact names, prefixes) of MessageAttributeNames: All, .*, names, prefix.*"""
    everything = any(pattern in ("All", ".*") for pattern in patterns)
    prefixes = tuple(pattern[:-1] for pattern in patterns if pattern.endswith(".*"))
    names = frozenset(pattern for pattern in patterns if not pattern.endswith(".*"))
    return everything, names, prefixes


def _received(
    call: Call,
    message: Message,
    system: frozenset[str],
    wanted: tuple[bool, frozenset[str], tuple[str, ...]],
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "MessageId": message.message_id,
        "ReceiptHandle": message.receipt_handle,
        "MD5OfBody": md5_of_body(message.text),
        "Body": message.text,
    }
    if system:
        values = message.system_attributes
        if message.dead_letter_source_queue is not None:
            values["DeadLetterQueueSourceArn"] = queue_arn(call, message.dead_letter_source_queue)
        shown = {name: value for name, value in values.items() if name in system}
        if shown:
            entry["Attributes"] = shown
    everything, names, prefixes = wanted
    if everything or names or prefixes:
        attributes = {
            name: value
            for name, value in message.message_attributes.items()
            if everything or name in names or name.startswith(prefixes)
        }
        if attributes:
            entry["MessageAttributes"] = attributes
            entry["MD5OfMessageAttributes"] = md5_of_attributes(attributes)
    return entry


@operation("sqs", "ReceiveMessage")
def receive_message(call: Call) -> dict[str, Any]:
    queue = the_queue(call)
    max_messages = call.params.get("MaxNumberOfMessages", 1)
    wait = call.params.get("WaitTimeSeconds")
    visibility = call.params.get("VisibilityTimeout")
    check_range(max_messages, "MaxNumberOfMessages", 1, limits.RECEIVE_MAX_MESSAGES_AWS)
    check_range(wait, "WaitTimeSeconds", 0, limits.RECEIVE_WAIT_MAX_SECONDS)
    check_range(visibility, "VisibilityTimeout", 0, limits.VISIBILITY_TIMEOUT_MAX_SECONDS)
    messages = queue.receive(
        max_messages=max_messages, wait_seconds=wait, visibility_timeout=visibility
    )
    system = _wanted_system_attributes(call)
    wanted = _attribute_filter(call.params.get("MessageAttributeNames") or [])
    out = [_received(call, message, system, wanted) for message in messages]
    return {"Messages": out} if out else {}


# -- deleting and changing visibility ---------------------------------------------------------


@operation("sqs", "DeleteMessage")
def delete_message(call: Call) -> dict[str, Any]:
    the_queue(call).delete(call.require("ReceiptHandle"))
    return {}


@operation("sqs", "DeleteMessageBatch")
def delete_message_batch(call: Call) -> dict[str, Any]:
    queue = the_queue(call)
    entries: list[dict[str, Any]] = call.require("Entries")
    results = queue.delete_batch(
        [(entry.get("Id", ""), entry.get("ReceiptHandle", "")) for entry in entries]
    )
    return _entry_results(results)


@operation("sqs", "ChangeMessageVisibility")
def change_message_visibility(call: Call) -> dict[str, Any]:
    queue = the_queue(call)
    handle = call.require("ReceiptHandle")
    timeout = call.require("VisibilityTimeout")
    queue.change_visibility(handle, timeout)
    return {}


@operation("sqs", "ChangeMessageVisibilityBatch")
def change_message_visibility_batch(call: Call) -> dict[str, Any]:
    queue = the_queue(call)
    entries: list[dict[str, Any]] = call.require("Entries")
    results = queue.change_visibility_batch(
        [
            (entry.get("Id", ""), entry.get("ReceiptHandle", ""), entry.get("VisibilityTimeout"))
            for entry in entries
        ]
    )
    return _entry_results(results)


def _entry_results(results: Sequence[Any]) -> dict[str, Any]:
    """Successful (``Id``) and Failed entries of a delete or change-visibility batch."""
    successful = [{"Id": result.id} for result in results if result.error is None]
    failed = [
        failed_entry(result.id, sqs_error(result.error))
        for result in results
        if result.error is not None
    ]
    return {"Successful": successful, "Failed": failed}
