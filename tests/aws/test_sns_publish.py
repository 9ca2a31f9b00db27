"""SNS Publish and PublishBatch through boto3: attributes, structures, FIFO, batches, errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_endpoint import AwsEndpoint

TOPICS = "arn:aws:sns:us-east-1:000000000000"


def _topic_into_queue(
    aws: AwsEndpoint, *, raw: bool = False, fifo: bool = False
) -> tuple[Any, str]:
    """A topic with one subscribed queue ``q`` (``q.fifo``), both made by the Python API."""
    suffix = ".fifo" if fifo else ""
    topic = aws.client.create_topic(f"orders{suffix}", content_based_deduplication=fifo or None)
    topic.subscribe(aws.client.create_queue(f"q{suffix}"), raw=raw)
    return aws.boto("sns"), f"{TOPICS}:orders{suffix}"


def _bodies(aws: AwsEndpoint, queue: str = "q") -> list[Any]:
    """What the queue holds: raw messages as text, SNS envelopes as dicts."""
    return [message.body for message in aws.client.get_queue(queue).peek().messages]


def test_publish_a_message_with_a_subject_and_attributes(aws: AwsEndpoint) -> None:
    sns, topic = _topic_into_queue(aws)
    answer = sns.publish(
        TopicArn=topic,
        Message="hello",
        Subject="greeting",
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "book"},
            "copies": {"DataType": "Number", "StringValue": "3"},
            "thumb": {"DataType": "Binary", "BinaryValue": b"\x00\xffpng"},
            "tags": {"DataType": "String.Array", "StringValue": '["a", 1]'},
        },
    )
    assert "SequenceNumber" not in answer
    [envelope] = _bodies(aws)
    assert envelope["MessageId"] == answer["MessageId"]
    assert (envelope["Subject"], envelope["Message"]) == ("greeting", "hello")
    assert envelope["MessageAttributes"] == {
        "kind": {"Type": "String", "Value": "book"},
        "copies": {"Type": "Number", "Value": "3"},
        "thumb": {"Type": "Binary", "Value": "AP9wbmc="},
        "tags": {"Type": "String.Array", "Value": '["a", 1]'},
    }


def test_target_arn_is_a_topic_arn_too(aws: AwsEndpoint) -> None:
    sns, topic = _topic_into_queue(aws, raw=True)
    sns.publish(TargetArn=topic, Message="by target")
    assert _bodies(aws) == ["by target"]
    with pytest.raises(sns.exceptions.InvalidParameterException, match="SMS"):
        sns.publish(PhoneNumber="+15555550100", Message="hi")
    with pytest.raises(sns.exceptions.InvalidParameterException, match="only one"):
        sns.publish(TopicArn=topic, TargetArn=topic, Message="hi")


def test_message_structure_json(aws: AwsEndpoint) -> None:
    sns, topic = _topic_into_queue(aws, raw=True)
    structure = {"default": "for everyone", "sqs": "for queues", "email": "for people"}
    sns.publish(TopicArn=topic, Message=json.dumps(structure), MessageStructure="json")
    sns.publish(TopicArn=topic, Message=json.dumps({"default": "only"}), MessageStructure="json")
    assert _bodies(aws) == ["for queues", "only"]
    for bad in ("not json", json.dumps({"sqs": "no default"}), json.dumps(["default"])):
        with pytest.raises(sns.exceptions.InvalidParameterException, match="Message Structure"):
            sns.publish(TopicArn=topic, Message=bad, MessageStructure="json")
    aws.client.get_topic("orders").subscribe("http://127.0.0.1:9/hook")
    with pytest.raises(sns.exceptions.InvalidParameterException, match="different messages"):
        sns.publish(TopicArn=topic, Message=json.dumps(structure), MessageStructure="json")
    sns.publish(TopicArn=topic, Message=json.dumps({"default": "same"}), MessageStructure="json")
    assert _bodies(aws)[-1] == "same"


def test_fifo_publish_numbers_and_deduplicates(aws: AwsEndpoint) -> None:
    sns, topic = _topic_into_queue(aws, raw=True, fifo=True)
    first = sns.publish(TopicArn=topic, Message="a", MessageGroupId="g")
    second = sns.publish(TopicArn=topic, Message="b", MessageGroupId="g")
    assert int(second["SequenceNumber"]) > int(first["SequenceNumber"])
    again = sns.publish(TopicArn=topic, Message="a", MessageGroupId="g")  # content-based
    assert again["MessageId"] == first["MessageId"]
    explicit = sns.publish(
        TopicArn=topic, Message="a", MessageGroupId="g", MessageDeduplicationId="other"
    )
    assert explicit["MessageId"] != first["MessageId"]
    assert _bodies(aws, "q.fifo") == ["a", "b", "a"]
    with pytest.raises(sns.exceptions.InvalidParameterException, match="MessageGroupId"):
        sns.publish(TopicArn=topic, Message="c")


def test_publish_errors(aws: AwsEndpoint) -> None:
    sns, topic = _topic_into_queue(aws)
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.publish(TopicArn=f"{TOPICS}:nope", Message="hi")
    with pytest.raises(sns.exceptions.InvalidParameterException, match="256 KiB"):
        sns.publish(TopicArn=topic, Message="x" * (256 * 1024 + 1))
    sns.publish(TopicArn=topic, Message="x" * (256 * 1024))  # 256 KiB itself is accepted
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.publish(TopicArn=topic, Message="")
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.publish(TopicArn=topic, Message="hi", Subject="line\nbreak")
    with pytest.raises(sns.exceptions.InvalidParameterException, match="FIFO"):
        sns.publish(TopicArn=topic, Message="hi", MessageGroupId="g")
    with pytest.raises(sns.exceptions.InvalidParameterValueException):
        sns.publish(
            TopicArn=topic,
            Message="hi",
            MessageAttributes={"n": {"DataType": "Number", "StringValue": "many"}},
        )
    with pytest.raises(sns.exceptions.InvalidParameterValueException):
        sns.publish(
            TopicArn=topic,
            Message="hi",
            MessageAttributes={"a": {"DataType": "String.Array", "StringValue": "[{}]"}},
        )


def test_publish_batch_reports_each_entry(aws: AwsEndpoint) -> None:
    sns, topic = _topic_into_queue(aws, raw=True)
    answer = sns.publish_batch(
        TopicArn=topic,
        PublishBatchRequestEntries=[
            {"Id": "one", "Message": "first"},
            {
                "Id": "two",
                "Message": "second",
                "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "x"}},
            },
            {
                "Id": "three",
                "Message": json.dumps({"sqs": "no default"}),
                "MessageStructure": "json",
            },
            {"Id": "four", "Message": "fourth", "Subject": "s"},
        ],
    )
    assert [entry["Id"] for entry in answer["Successful"]] == ["one", "four"]
    failed = {entry["Id"]: entry for entry in answer["Failed"]}
    assert failed["two"]["Code"] == "ParameterValueInvalid"
    assert failed["three"]["Code"] == "InvalidParameter"
    assert all(entry["SenderFault"] for entry in failed.values())
    assert _bodies(aws) == ["first", "fourth"]


def test_fifo_publish_batch_has_sequence_numbers(aws: AwsEndpoint) -> None:
    sns, topic = _topic_into_queue(aws, raw=True, fifo=True)
    answer = sns.publish_batch(
        TopicArn=topic,
        PublishBatchRequestEntries=[
            {"Id": f"m{n}", "Message": f"m{n}", "MessageGroupId": "g"} for n in range(3)
        ],
    )
    numbers = [int(entry["SequenceNumber"]) for entry in answer["Successful"]]
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == 3
    assert _bodies(aws, "q.fifo") == ["m0", "m1", "m2"]


def test_publish_batch_errors(aws: AwsEndpoint) -> None:
    sns, topic = _topic_into_queue(aws)

    def batch(entries: list[dict[str, Any]]) -> Any:
        return sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)

    eleven = [{"Id": f"m{n}", "Message": "hi"} for n in range(11)]
    with pytest.raises(sns.exceptions.TooManyEntriesInBatchRequestException):
        batch(eleven)
    with pytest.raises(sns.exceptions.EmptyBatchRequestException):
        batch([])
    with pytest.raises(sns.exceptions.BatchEntryIdsNotDistinctException):
        batch([{"Id": "same", "Message": "a"}, {"Id": "same", "Message": "b"}])
    with pytest.raises(sns.exceptions.InvalidBatchEntryIdException):
        batch([{"Id": "not ok!", "Message": "a"}])
    with pytest.raises(sns.exceptions.BatchRequestTooLongException):
        batch([{"Id": f"m{n}", "Message": "x" * 100_000} for n in range(3)])
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.publish_batch(
            TopicArn=f"{TOPICS}:nope", PublishBatchRequestEntries=[{"Id": "a", "Message": "a"}]
        )
    assert _bodies(aws) == []
