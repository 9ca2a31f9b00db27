"""Dead-letter queues through the SQS API, over both protocols: a RedrivePolicy moves a
message after its receives, ListDeadLetterSourceQueues finds the sources, and message move
tasks bring the messages back (listed, and cancelled by their TaskHandle)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from aws_endpoint import AwsEndpoint
from botocore.exceptions import ClientError
from test_sqs_clients import query_models, sqs

__all__ = ["query_models", "sqs"]

ARN = "arn:aws:sqs:us-east-1:000000000000"


def _queue_with_dlq(sqs: Any, name: str, receives: int = 3) -> tuple[str, str]:
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    policy = {"deadLetterTargetArn": f"{ARN}:{name}-dlq", "maxReceiveCount": receives}
    url = sqs.create_queue(
        QueueName=name,
        Attributes={"VisibilityTimeout": "0", "RedrivePolicy": json.dumps(policy)},
    )["QueueUrl"]
    return url, dlq


def _wait_for(sqs: Any, source_arn: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        [task] = sqs.list_message_move_tasks(SourceArn=source_arn)["Results"]
        if task["Status"] == status or time.monotonic() > deadline:
            return dict(task)
        time.sleep(0.05)


def test_three_receives_then_the_dlq_then_back(sqs: Any, aws: AwsEndpoint) -> None:
    url, dlq = _queue_with_dlq(sqs, "orders")
    sent = sqs.send_message(QueueUrl=url, MessageBody="poison")["MessageId"]
    for attempt in range(1, 4):
        [message] = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
        assert message["Attributes"]["ApproximateReceiveCount"] == str(attempt)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    [dead] = sqs.receive_message(
        QueueUrl=dlq, MessageSystemAttributeNames=["All"], VisibilityTimeout=0
    )["Messages"]
    assert dead["MessageId"] == sent
    assert dead["Attributes"]["DeadLetterQueueSourceArn"] == f"{ARN}:orders"
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [url]
    # (An empty list is no element at all in XML: the query protocol leaves the key out.)
    assert sqs.list_dead_letter_source_queues(QueueUrl=url).get("queueUrls", []) == []

    handle = sqs.start_message_move_task(SourceArn=f"{ARN}:orders-dlq")["TaskHandle"]
    assert handle
    task = _wait_for(sqs, f"{ARN}:orders-dlq", "COMPLETED")
    assert task["ApproximateNumberOfMessagesMoved"] == 1
    assert task["ApproximateNumberOfMessagesToMove"] == 1
    assert task["SourceArn"] == f"{ARN}:orders-dlq"
    assert "TaskHandle" not in task
    [back] = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])[
        "Messages"
    ]
    assert (back["MessageId"], back["Body"]) == (sent, "poison")
    assert aws.client.get_queue("orders-dlq").stats().total == 0


def test_a_move_task_to_another_queue_is_cancelled_by_its_handle(sqs: Any) -> None:
    url, dlq = _queue_with_dlq(sqs, "slow", receives=1)
    elsewhere = sqs.create_queue(QueueName="elsewhere")["QueueUrl"]
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": f"m{n}", "MessageBody": str(n)} for n in range(5)]
    )
    for _ in range(2):  # the first receive delivers, the second dead-letters
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    assert (
        sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"
        ]["ApproximateNumberOfMessages"]
        == "5"
    )
    handle = sqs.start_message_move_task(
        SourceArn=f"{ARN}:slow-dlq",
        DestinationArn=f"{ARN}:elsewhere",
        MaxNumberOfMessagesPerSecond=1,
    )["TaskHandle"]
    running = sqs.list_message_move_tasks(SourceArn=f"{ARN}:slow-dlq", MaxResults=10)["Results"]
    assert [(t["Status"], t["TaskHandle"]) for t in running] == [("RUNNING", handle)]
    assert running[0]["DestinationArn"] == f"{ARN}:elsewhere"
    assert running[0]["MaxNumberOfMessagesPerSecond"] == 1
    with pytest.raises(ClientError) as error:
        sqs.start_message_move_task(SourceArn=f"{ARN}:slow-dlq")
    assert "UnsupportedOperation" in error.value.response["Error"]["Code"]
    moved = sqs.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"]
    task = _wait_for(sqs, f"{ARN}:slow-dlq", "CANCELLED")
    assert task["Status"] == "CANCELLED"
    assert moved <= task["ApproximateNumberOfMessagesMoved"] < 5
    moved_count = sqs.get_queue_attributes(
        QueueUrl=elsewhere, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]["ApproximateNumberOfMessages"]
    assert moved_count == str(task["ApproximateNumberOfMessagesMoved"])
    with pytest.raises(ClientError) as error:
        sqs.cancel_message_move_task(TaskHandle=handle)
    assert "UnsupportedOperation" in error.value.response["Error"]["Code"]


def test_move_task_errors(sqs: Any) -> None:
    sqs.create_queue(QueueName="plain")
    with pytest.raises(sqs.exceptions.ResourceNotFoundException):
        sqs.start_message_move_task(SourceArn=f"{ARN}:nowhere")
    with pytest.raises(sqs.exceptions.ResourceNotFoundException):
        sqs.list_message_move_tasks(SourceArn=f"{ARN}:nowhere")
    with pytest.raises(sqs.exceptions.ResourceNotFoundException):
        sqs.cancel_message_move_task(TaskHandle="not-a-handle")
    for bad in ({"SourceArn": f"{ARN}:plain"}, {"SourceArn": "plain"}):
        with pytest.raises(ClientError) as error:
            sqs.start_message_move_task(**bad)
        assert error.value.response["Error"]["Code"] == "InvalidParameterValue", bad
    assert sqs.list_message_move_tasks(SourceArn=f"{ARN}:plain").get("Results", []) == []
