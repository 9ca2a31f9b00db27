"""SQS's query protocol as the SQS API reference writes it: hand-made forms
(``Attribute.1.Name``, ``MessageAttribute.1.Value.StringValue``,
``SendMessageBatchRequestEntry.1.Id`` ...) posted with httpx, answers read with
ElementTree. Independent of the botocore model the other tests use for the query
protocol, so a wrong name on both sides cannot go unnoticed."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
from aws_endpoint import AwsEndpoint

NS = "{http://queue.amazonaws.com/doc/2012-11-05/}"


def post(aws: AwsEndpoint, form: dict[str, str], url: str | None = None) -> ET.Element:
    answer = httpx.post(url or aws.url, data=form)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(answer.text)
    assert root.tag == f"{NS}{form['Action']}Response"
    assert root.find(f"{NS}ResponseMetadata/{NS}RequestId") is not None
    return root


def error(aws: AwsEndpoint, form: dict[str, str]) -> tuple[int, str, str]:
    answer = httpx.post(aws.url, data=form)
    root = ET.fromstring(answer.text)
    assert root.tag == "ErrorResponse"
    return answer.status_code, root.findtext("Error/Code", ""), root.findtext("Error/Type", "")


def pairs(element: ET.Element, tag: str, key: str = "Name") -> dict[str, str]:
    return {
        item.findtext(f"{NS}{key}", ""): item.findtext(f"{NS}Value", "")
        for item in element.iter(f"{NS}{tag}")
    }


def test_create_with_attributes_and_tags_then_read_them(aws: AwsEndpoint) -> None:
    created = post(
        aws,
        {
            "Action": "CreateQueue",
            "QueueName": "orders",
            "Attribute.1.Name": "VisibilityTimeout",
            "Attribute.1.Value": "40",
            "Attribute.2.Name": "DelaySeconds",
            "Attribute.2.Value": "1",
            "Tag.1.Key": "team",
            "Tag.1.Value": "checkout",
        },
    )
    url = created.findtext(f"{NS}CreateQueueResult/{NS}QueueUrl")
    assert url == f"{aws.url}/000000000000/orders"
    attributes = post(
        aws,
        {
            "Action": "GetQueueAttributes",
            "QueueUrl": url,
            "AttributeName.1": "VisibilityTimeout",
            "AttributeName.2": "DelaySeconds",
            "AttributeName.3": "QueueArn",
        },
    )
    assert pairs(attributes, "Attribute") == {
        "VisibilityTimeout": "40",
        "DelaySeconds": "1",
        "QueueArn": "arn:aws:sqs:us-east-1:000000000000:orders",
    }
    tags = post(aws, {"Action": "ListQueueTags", "QueueUrl": url})
    assert pairs(tags, "Tag", key="Key") == {"team": "checkout"}
    post(
        aws,
        {
            "Action": "SetQueueAttributes",
            "QueueUrl": url,
            "Attribute.1.Name": "VisibilityTimeout",
            "Attribute.1.Value": "7",
        },
    )
    assert aws.client.get_queue("orders").attributes.visibility_timeout == 7
    listed = post(aws, {"Action": "ListQueues", "QueueNamePrefix": "ord"})
    assert [e.text for e in listed.iter(f"{NS}QueueUrl")] == [url]


def test_send_and_receive_with_message_attributes(aws: AwsEndpoint) -> None:
    aws.client.create_queue("inbox")
    url = f"{aws.url}/000000000000/inbox"
    sent = post(
        aws,
        {
            "Action": "SendMessage",
            "MessageBody": "derp",
            "MessageAttribute.1.Name": "timestamp",
            "MessageAttribute.1.Value.DataType": "Number",
            "MessageAttribute.1.Value.StringValue": "1493147359900",
        },
        url=url,  # the queue's URL as the endpoint, QueueUrl left out: SQS accepts both
    )
    result = sent.find(f"{NS}SendMessageResult")
    assert result is not None
    assert result.findtext(f"{NS}MD5OfMessageBody") == "58fd9edd83341c29f1aebba81c31e257"
    assert result.findtext(f"{NS}MD5OfMessageAttributes") == "235c5c510d26fb653d073faed50ae77c"
    post(
        aws,
        {
            "Action": "SendMessage",
            "QueueUrl": url,
            "MessageBody": "<b>&</b>",
            "MessageAttribute.1.Name": "blob",
            "MessageAttribute.1.Value.DataType": "Binary",
            "MessageAttribute.1.Value.BinaryValue": "AAEC",
        },
    )
    received = post(
        aws,
        {
            "Action": "ReceiveMessage",
            "QueueUrl": url,
            "MaxNumberOfMessages": "10",
            "AttributeName.1": "SentTimestamp",
            "MessageSystemAttributeName.1": "ApproximateReceiveCount",
            "MessageAttributeName.1": "All",
        },
    )
    messages = list(received.iter(f"{NS}Message"))
    assert [m.findtext(f"{NS}Body") for m in messages] == ["derp", "<b>&</b>"]
    assert set(pairs(messages[0], "Attribute")) == {"SentTimestamp", "ApproximateReceiveCount"}
    attribute = messages[1].find(f"{NS}MessageAttribute")
    assert attribute is not None
    assert attribute.findtext(f"{NS}Name") == "blob"
    assert attribute.findtext(f"{NS}Value/{NS}DataType") == "Binary"
    assert attribute.findtext(f"{NS}Value/{NS}BinaryValue") == "AAEC"
    handle = messages[0].findtext(f"{NS}ReceiptHandle", "")
    post(aws, {"Action": "DeleteMessage", "QueueUrl": url, "ReceiptHandle": handle})
    assert aws.client.get_queue("inbox").stats().total == 1


def test_batches(aws: AwsEndpoint) -> None:
    aws.client.create_queue("batch")
    url = f"{aws.url}/000000000000/batch"
    sent = post(
        aws,
        {
            "Action": "SendMessageBatch",
            "QueueUrl": url,
            "SendMessageBatchRequestEntry.1.Id": "one",
            "SendMessageBatchRequestEntry.1.MessageBody": "1",
            "SendMessageBatchRequestEntry.1.MessageAttribute.1.Name": "n",
            "SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType": "Number",
            "SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue": "1",
            "SendMessageBatchRequestEntry.2.Id": "two",
            "SendMessageBatchRequestEntry.2.MessageBody": "2",
            "SendMessageBatchRequestEntry.2.DelaySeconds": "901",
        },
    )
    [ok] = sent.iter(f"{NS}SendMessageBatchResultEntry")
    assert ok.findtext(f"{NS}Id") == "one"
    assert ok.findtext(f"{NS}MD5OfMessageAttributes")
    [failed] = sent.iter(f"{NS}BatchResultErrorEntry")
    assert [failed.findtext(f"{NS}{tag}") for tag in ("Id", "Code", "SenderFault")] == [
        "two",
        "InvalidParameterValue",
        "true",
    ]
    received = post(aws, {"Action": "ReceiveMessage", "QueueUrl": url})
    handle = received.findtext(f"{NS}ReceiveMessageResult/{NS}Message/{NS}ReceiptHandle", "")
    changed = post(
        aws,
        {
            "Action": "ChangeMessageVisibilityBatch",
            "QueueUrl": url,
            "ChangeMessageVisibilityBatchRequestEntry.1.Id": "c",
            "ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle": handle,
            "ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout": "60",
        },
    )
    assert [
        e.findtext(f"{NS}Id") for e in changed.iter(f"{NS}ChangeMessageVisibilityBatchResultEntry")
    ] == ["c"]
    deleted = post(
        aws,
        {
            "Action": "DeleteMessageBatch",
            "QueueUrl": url,
            "DeleteMessageBatchRequestEntry.1.Id": "d",
            "DeleteMessageBatchRequestEntry.1.ReceiptHandle": handle,
            "DeleteMessageBatchRequestEntry.2.Id": "e",
            "DeleteMessageBatchRequestEntry.2.ReceiptHandle": "junk",
        },
    )
    assert [e.findtext(f"{NS}Id") for e in deleted.iter(f"{NS}DeleteMessageBatchResultEntry")] == [
        "d"
    ]
    assert [e.findtext(f"{NS}Code") for e in deleted.iter(f"{NS}BatchResultErrorEntry")] == [
        "ReceiptHandleIsInvalid"
    ]
    eleven = {"Action": "SendMessageBatch", "QueueUrl": url}
    for n in range(1, 12):
        eleven[f"SendMessageBatchRequestEntry.{n}.Id"] = f"m{n}"
        eleven[f"SendMessageBatchRequestEntry.{n}.MessageBody"] = "x"
    assert error(aws, eleven) == (
        400,
        "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        "Sender",
    )


def test_errors_and_a_get_request(aws: AwsEndpoint) -> None:
    assert error(aws, {"Action": "GetQueueUrl", "QueueName": "ghost"}) == (
        400,
        "AWS.SimpleQueueService.NonExistentQueue",
        "Sender",
    )
    aws.client.create_queue("q")
    url = f"{aws.url}/000000000000/q"
    assert error(aws, {"Action": "DeleteMessage", "QueueUrl": url, "ReceiptHandle": "x"})[1] == (
        "ReceiptHandleIsInvalid"
    )
    post(aws, {"Action": "PurgeQueue", "QueueUrl": url})
    assert error(aws, {"Action": "PurgeQueue", "QueueUrl": url}) == (
        403,
        "AWS.SimpleQueueService.PurgeQueueInProgress",
        "Sender",
    )
    assert error(aws, {"Action": "AddPermission", "QueueUrl": url})[1] == "InvalidAction"
    answer = httpx.get(aws.url, params={"Action": "GetQueueUrl", "QueueName": "q"})
    assert ET.fromstring(answer.text).findtext(f"{NS}GetQueueUrlResult/{NS}QueueUrl") == url
