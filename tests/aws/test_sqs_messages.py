"""SQS message operations over both protocols: send and receive with attributes and their
MD5 digests, system attributes, long polls, batches and their errors, visibility, and
messages crossing between boto3 and eventyard's Python API."""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

import pytest
from aws_endpoint import AwsEndpoint
from botocore.exceptions import ClientError
from test_sqs_clients import query_models, sqs

from eventyard.aws.sqs_common import md5_of_attributes

__all__ = ["query_models", "sqs"]


def code_of(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def number(value: str) -> dict[str, str]:
    return {"DataType": "Number", "StringValue": value}


# Digests AWS returns for these messages, as pinned by moto's SQS tests.
KNOWN_DIGESTS = [
    ({"timestamp": number("1493147359900")}, "235c5c510d26fb653d073faed50ae77c"),
    ({"timestamp": number("1493147359901")}, "994258b45346a2cc3f9cbb611aa7af30"),
    ({"SOME_Valid.attribute-Name": number("1493147359900")}, "36655e7e9d7c0e8479fa3f3f42247ae7"),
]


def test_the_digests_are_those_sqs_computes() -> None:
    mixed = {
        "ccc": {"StringValue": "testjunk", "DataType": "String"},
        "aaa": {"BinaryValue": b"\x02\x03\x04", "DataType": "Binary"},
        "zzz": {"DataType": "Number", "StringValue": "0230.01"},
        "öther_encodings": {"DataType": "String", "StringValue": "T\xfcst"},
    }
    assert md5_of_attributes(mixed) == "8ae21a7957029ef04146b42aeaa18a22"
    for attributes, digest in KNOWN_DIGESTS:
        assert md5_of_attributes(attributes) == digest


def test_send_and_receive_with_attributes_and_digests(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="digests")["QueueUrl"]
    for attributes, digest in KNOWN_DIGESTS:
        sent = sqs.send_message(QueueUrl=url, MessageBody="derp", MessageAttributes=attributes)
        assert sent["MD5OfMessageBody"] == "58fd9edd83341c29f1aebba81c31e257"
        assert sent["MD5OfMessageAttributes"] == digest
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    assert [m["MD5OfMessageAttributes"] for m in got["Messages"]] == [d for _, d in KNOWN_DIGESTS]
    assert all(m["MD5OfBody"] == "58fd9edd83341c29f1aebba81c31e257" for m in got["Messages"])
    binary = {"blob": {"DataType": "Binary", "BinaryValue": b"\x00\xff"}, "n": number("1.5")}
    body = "Grüße <&> 😀"
    sent = sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=binary)
    assert sent["MD5OfMessageBody"] == hashlib.md5(body.encode()).hexdigest()
    [message] = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert message["Body"] == body
    assert message["MessageAttributes"] == binary
    assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    trace = {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988-bd862e3fe"}}
    sent = sqs.send_message(QueueUrl=url, MessageBody="t", MessageSystemAttributes=trace)
    assert sent["MD5OfMessageSystemAttributes"] == md5_of_attributes(trace)


def test_only_the_asked_for_message_attributes_come_back(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="filters", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    attributes = {
        name: {"DataType": "String", "StringValue": name}
        for name in ("order.id", "order.total", "customer", "orderly")
    }
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=attributes)
    cases = {
        ("All",): set(attributes),
        (".*",): set(attributes),
        ("order.*",): {"order.id", "order.total"},
        ("customer", "nope"): {"customer"},
        ("order.*", "orderly"): {"order.id", "order.total", "orderly"},
    }
    for names, expected in cases.items():
        [message] = sqs.receive_message(QueueUrl=url, MessageAttributeNames=list(names))["Messages"]
        assert set(message["MessageAttributes"]) == expected, names
        shown = {name: attributes[name] for name in expected}
        assert message["MD5OfMessageAttributes"] == md5_of_attributes(shown)
    [message] = sqs.receive_message(QueueUrl=url)["Messages"]
    assert "MessageAttributes" not in message
    assert "MD5OfMessageAttributes" not in message


def test_system_attributes(sqs: Any, aws: AwsEndpoint) -> None:
    url = sqs.create_queue(QueueName="system", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    before = int(time.time() * 1000)
    sqs.send_message(QueueUrl=url, MessageBody="x")
    [first] = sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["All"])["Messages"]
    system = first["Attributes"]
    assert set(system) == {
        "SenderId",
        "SentTimestamp",
        "ApproximateReceiveCount",
        "ApproximateFirstReceiveTimestamp",
    }
    assert system["ApproximateReceiveCount"] == "1"
    assert before <= int(system["SentTimestamp"]) <= int(system["ApproximateFirstReceiveTimestamp"])
    assert system["SenderId"] == aws.client.sender_id
    [again] = sqs.receive_message(
        QueueUrl=url, AttributeNames=["ApproximateReceiveCount", "SentTimestamp"]
    )["Messages"]
    assert again["Attributes"] == {
        "ApproximateReceiveCount": "2",
        "SentTimestamp": system["SentTimestamp"],
    }
    [bare] = sqs.receive_message(QueueUrl=url)["Messages"]
    assert "Attributes" not in bare


def test_fifo_messages(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="jobs.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    first = sqs.send_message(
        QueueUrl=url, MessageBody="one", MessageGroupId="g", MessageDeduplicationId="d1"
    )
    duplicate = sqs.send_message(
        QueueUrl=url, MessageBody="one", MessageGroupId="g", MessageDeduplicationId="d1"
    )
    assert duplicate["MessageId"] == first["MessageId"]
    assert first["SequenceNumber"].isdigit()
    [message] = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
    )["Messages"]
    system = message["Attributes"]
    assert (system["MessageGroupId"], system["MessageDeduplicationId"]) == ("g", "d1")
    assert system["SequenceNumber"] == first["SequenceNumber"]
    with pytest.raises(ClientError) as error:
        sqs.send_message(QueueUrl=url, MessageBody="no group", MessageDeduplicationId="d2")
    assert code_of(error) == "MissingParameter"
    with pytest.raises(ClientError) as error:
        sqs.send_message(QueueUrl=url, MessageBody="no dedup", MessageGroupId="g")
    assert code_of(error) == "InvalidParameterValue"


def test_long_polls_return_when_a_message_arrives(sqs: Any, aws: AwsEndpoint) -> None:
    url = sqs.create_queue(QueueName="polled")["QueueUrl"]
    started = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    assert time.monotonic() - started >= 0.9
    sender = threading.Timer(0.3, lambda: aws.client.get_queue("polled").send("late"))
    sender.start()
    started = time.monotonic()
    [message] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
    assert message["Body"] == "late"
    assert time.monotonic() - started < 3
    sender.join()


def test_receive_parameters_out_of_range(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="ranges")["QueueUrl"]
    for params in (
        {"MaxNumberOfMessages": 11},
        {"MaxNumberOfMessages": 0},
        {"WaitTimeSeconds": 21},
    ):
        with pytest.raises(ClientError) as error:
            sqs.receive_message(QueueUrl=url, **params)
        assert code_of(error) == "InvalidParameterValue", params


def test_messages_cross_between_boto3_and_the_python_api(sqs: Any, aws: AwsEndpoint) -> None:
    url = sqs.create_queue(QueueName="shared")["QueueUrl"]
    queue = aws.client.get_queue("shared")
    sqs.send_message(QueueUrl=url, MessageBody="from boto3", MessageAttributes={"n": number("42")})
    [received] = queue.receive()
    assert (received.body, received.attributes) == ("from boto3", {"n": 42})
    queue.delete(received)
    queue.send({"order": 7}, attributes={"kind": "json", "blob": b"\x01"})
    [message] = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert message["Body"] == '{"order":7}'
    assert message["MessageAttributes"] == {
        "kind": {"DataType": "String", "StringValue": "json"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x01"},
    }
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert queue.stats().total == 0


def test_send_batch_with_an_entry_that_fails(sqs: Any, aws: AwsEndpoint) -> None:
    url = sqs.create_queue(QueueName="batch", Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    answer = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "ok", "MessageBody": "fine", "MessageAttributes": {"n": number("1")}},
            {"Id": "big", "MessageBody": "x" * 2000},
            {"Id": "late", "MessageBody": "later", "DelaySeconds": 5},
            {
                "Id": "bad_attribute",
                "MessageBody": "x",
                "MessageAttributes": {"AWS.x": number("1")},
            },
        ],
    )
    assert [entry["Id"] for entry in answer["Successful"]] == ["ok", "late"]
    ok = answer["Successful"][0]
    assert ok["MD5OfMessageBody"] == hashlib.md5(b"fine").hexdigest()
    assert ok["MD5OfMessageAttributes"] == md5_of_attributes({"n": number("1")})
    assert [(e["Id"], e["Code"], e["SenderFault"]) for e in answer["Failed"]] == [
        ("big", "InvalidParameterValue", True),
        ("bad_attribute", "InvalidParameterValue", True),
    ]
    assert aws.client.get_queue("batch").stats().total == 2


def test_whole_batch_errors(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="shape")["QueueUrl"]
    eleven = [f"m{n}" for n in range(11)]
    cases = [
        (eleven, sqs.exceptions.TooManyEntriesInBatchRequest),
        (["a", "a"], sqs.exceptions.BatchEntryIdsNotDistinct),
        ([], sqs.exceptions.EmptyBatchRequest),
        (["not valid!"], sqs.exceptions.InvalidBatchEntryId),
        (["x" * 81], sqs.exceptions.InvalidBatchEntryId),
    ]
    for ids, expected in cases:
        with pytest.raises(expected):
            sqs.send_message_batch(
                QueueUrl=url, Entries=[{"Id": i, "MessageBody": "x"} for i in ids]
            )
        with pytest.raises(expected):
            sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": i, "ReceiptHandle": "h"} for i in ids]
            )
        with pytest.raises(expected) as error:
            sqs.change_message_visibility_batch(
                QueueUrl=url,
                Entries=[{"Id": i, "ReceiptHandle": "h", "VisibilityTimeout": 1} for i in ids],
            )
        assert code_of(error).startswith("AWS.SimpleQueueService.")
    with pytest.raises(sqs.exceptions.BatchRequestTooLong):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": f"m{n}", "MessageBody": "x" * 600_000} for n in range(2)],
        )


def test_delete_and_change_visibility_batches(sqs: Any, aws: AwsEndpoint) -> None:
    url = sqs.create_queue(QueueName="handles")["QueueUrl"]
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": f"m{n}", "MessageBody": str(n)} for n in range(3)]
    )
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    handles = [message["ReceiptHandle"] for message in messages]
    changed = sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "zero", "ReceiptHandle": handles[0], "VisibilityTimeout": 0},
            {"Id": "junk", "ReceiptHandle": "junk", "VisibilityTimeout": 10},
            {"Id": "long", "ReceiptHandle": handles[1], "VisibilityTimeout": 99_999},
        ],
    )
    assert [entry["Id"] for entry in changed["Successful"]] == ["zero"]
    assert [(e["Id"], e["Code"]) for e in changed["Failed"]] == [
        ("junk", "ReceiptHandleIsInvalid"),
        ("long", "InvalidParameterValue"),
    ]
    assert aws.client.get_queue("handles").stats().visible == 1
    deleted = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "a", "ReceiptHandle": handles[1]},
            {"Id": "b", "ReceiptHandle": handles[2]},
            {"Id": "c", "ReceiptHandle": "garbage"},
        ],
    )
    assert [entry["Id"] for entry in deleted["Successful"]] == ["a", "b"]
    assert [(e["Id"], e["Code"], e["SenderFault"]) for e in deleted["Failed"]] == [
        ("c", "ReceiptHandleIsInvalid", True)
    ]
    assert aws.client.get_queue("handles").stats().total == 1


def test_visibility_and_receipt_handles(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="visible")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    [message] = sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)["Messages"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )
    [again] = sqs.receive_message(QueueUrl=url)["Messages"]
    assert again["MessageId"] == message["MessageId"]
    for call in (sqs.delete_message, sqs.change_message_visibility):
        extra = {"VisibilityTimeout": 5} if call == sqs.change_message_visibility else {}
        with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
            call(QueueUrl=url, ReceiptHandle="garbage", **extra)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])


def test_bad_messages(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="strict", Attributes={"MaximumMessageSize": "1024"})[
        "QueueUrl"
    ]
    bad = [
        {"MessageBody": "x" * 1025},
        {"MessageBody": "x", "MessageAttributes": {"AWS.reserved": number("1")}},
        {"MessageBody": "x", "MessageAttributes": {"n": number("not a number")}},
        {
            "MessageBody": "x",
            "MessageAttributes": {"s": {"DataType": "Colour", "StringValue": "x"}},
        },
        {"MessageBody": "x", "DelaySeconds": 901},
        {"MessageBody": "x", "MessageGroupId": "g"},
    ]
    for params in bad:
        with pytest.raises(ClientError) as error:
            sqs.send_message(QueueUrl=url, **params)
        assert code_of(error) == "InvalidParameterValue", params
    with pytest.raises(sqs.exceptions.InvalidMessageContents):
        sqs.send_message(QueueUrl=url, MessageBody="bell \x07")
