"""StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask: dead-letter redrive.

On eventyard's redrive (`Client.start_redrive`): a thread of the endpoint's
process moves the messages in the background, and the task's progress lives
in the store, so listing and cancelling work from any process. A task
handle is, as on AWS, an opaque token naming the task and its source queue
(base64 of JSON); only a running task has one.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from eventyard.aws.context import Call, operation
from eventyard.aws.errors import AwsError
from eventyard.aws.sqs_common import check_range, queue_arn, queue_name
from eventyard.errors import MoveTaskNotFound, QueueDoesNotExist
from eventyard.model import limits
from eventyard.store.records import MoveTaskRecord


def _queue_of_arn(call: Call, parameter: str) -> str:
    arn = call.require(parameter)
    name = queue_name(call, arn) if arn.startswith("arn:") else ""
    if not name:
        raise AwsError("InvalidParameterValue", f"{parameter} {arn!r} is not the ARN of a queue.")
    return name


def _missing(arn: str) -> AwsError:
    return AwsError(
        "ResourceNotFoundException", f"The resource that you specified for {arn} does not exist."
    )


def task_handle(call: Call, record: MoveTaskRecord) -> str:
    data = {"taskId": record.task_id, "sourceArn": queue_arn(call, record.source_queue)}
    return base64.b64encode(json.dumps(data, separators=(",", ":")).encode()).decode("ascii")


def _task_id(handle: str) -> str:
    try:
        data = json.loads(base64.b64decode(handle.encode("ascii"), validate=True))
        return str(data["taskId"])
    except (ValueError, KeyError, TypeError, UnicodeEncodeError, binascii.Error):
        raise AwsError(
            "ResourceNotFoundException", f"{handle!r} is not a message move task handle."
        ) from None


@operation("sqs", "StartMessageMoveTask")
def start_message_move_task(call: Call) -> dict[str, Any]:
    source = _queue_of_arn(call, "SourceArn")
    destination = (
        _queue_of_arn(call, "DestinationArn") if call.params.get("DestinationArn") else None
    )
    rate = call.params.get("MaxNumberOfMessagesPerSecond")
    check_range(rate, "MaxNumberOfMessagesPerSecond", 1, limits.MOVE_TASK_MAX_MESSAGES_PER_SECOND)
    client = call.client
    try:
        if not client.dead_letter_source_queues(source):
            raise AwsError(
                "InvalidParameterValue",
                "Source queue must be configured as a Dead Letter Queue.",
            )
        task = client.start_redrive(source, destination=destination, max_messages_per_second=rate)
    except QueueDoesNotExist:
        raise _missing(call.params.get("DestinationArn") or call.require("SourceArn")) from None
    return {"TaskHandle": task_handle(call, task.progress())}


@operation("sqs", "ListMessageMoveTasks")
def list_message_move_tasks(call: Call) -> dict[str, Any]:
    source = _queue_of_arn(call, "SourceArn")
    max_results = call.params.get("MaxResults", 1)
    check_range(max_results, "MaxResults", 1, 10)
    try:
        call.client.get_queue(source)
    except QueueDoesNotExist:
        raise _missing(call.require("SourceArn")) from None
    records = call.client.redrive_tasks(source)[:max_results]
    return {"Results": [_entry(call, record) for record in records]}


def _entry(call: Call, record: MoveTaskRecord) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Status": record.status,
        "SourceArn": queue_arn(call, record.source_queue),
        "ApproximateNumberOfMessagesMoved": record.moved,
        "ApproximateNumberOfMessagesToMove": record.to_move,
        "StartedTimestamp": record.started_at_ms,
    }
    if record.status == "RUNNING":
        entry["TaskHandle"] = task_handle(call, record)
    if record.destination_queue is not None:
        entry["DestinationArn"] = queue_arn(call, record.destination_queue)
    if record.max_messages_per_second is not None:
        entry["MaxNumberOfMessagesPerSecond"] = record.max_messages_per_second
    if record.failure_reason is not None and record.status == "FAILED":
        entry["FailureReason"] = record.failure_reason
    return entry


@operation("sqs", "CancelMessageMoveTask")
def cancel_message_move_task(call: Call) -> dict[str, Any]:
    handle = call.require("TaskHandle")
    store = call.client.store
    try:
        record = store.get_move_task(_task_id(handle))
    except MoveTaskNotFound:
        raise AwsError(
            "ResourceNotFoundException", f"No message move task has the handle {handle!r}."
        ) from None
    if record.status != "RUNNING":
        raise AwsError(
            "UnsupportedOperation",
            f"Only a RUNNING message move task can be cancelled; this one is {record.status}.",
        )
    # The moving thread (of whichever process) reads the status before each batch.
    store.set_move_task_status(record.task_id, "CANCELLING", call.client.now_ms())
    return {"ApproximateNumberOfMessagesMoved": store.get_move_task(record.task_id).moved}
