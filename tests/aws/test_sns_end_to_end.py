"""SNS → SQS end to end through boto3 only, and across boto3 and the Python API."""

from __future__ import annotations

import base64
import json
from typing import Any

from aws_endpoint import AwsEndpoint
from http_servers import HookServer, wait_for

QUEUES = "arn:aws:sqs:us-east-1:000000000000"


def _queue(sqs: Any, name: str) -> tuple[str, str]:
    """A queue made with boto3: (its URL, its ARN)."""
    return sqs.create_queue(QueueName=name)["QueueUrl"], f"{QUEUES}:{name}"


def _receive(sqs: Any, url: str, wait: int = 1) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait, MessageAttributeNames=["All"]
    ).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def test_topic_to_queues_in_the_envelope_and_raw(aws: AwsEndpoint) -> None:
    sns, sqs = aws.boto("sns"), aws.boto("sqs")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    wrapped_url, wrapped_arn = _queue(sqs, "wrapped")
    raw_url, raw_arn = _queue(sqs, "raw")
    subscription = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=wrapped_arn)[
        "SubscriptionArn"
    ]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=raw_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    attributes = {
        "kind": {"DataType": "String", "StringValue": "book"},
        "thumb": {"DataType": "Binary", "BinaryValue": b"\x89PNG"},
    }
    message_id = sns.publish(
        TopicArn=topic, Message='{"order_id": 7}', Subject="new order", MessageAttributes=attributes
    )["MessageId"]

    [wrapped] = _receive(sqs, wrapped_url)
    envelope = json.loads(wrapped["Body"])
    assert list(envelope) == [
        "Type",
        "MessageId",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
        "UnsubscribeURL",
        "MessageAttributes",
    ]
    assert envelope["Type"] == "Notification"
    assert (envelope["MessageId"], envelope["TopicArn"]) == (message_id, topic)
    assert json.loads(envelope["Message"]) == {"order_id": 7}
    assert envelope["UnsubscribeURL"].endswith(f"SubscriptionArn={subscription}")
    assert envelope["MessageAttributes"]["thumb"] == {
        "Type": "Binary",
        "Value": base64.b64encode(b"\x89PNG").decode(),
    }
    assert "MessageAttributes" not in wrapped  # in the envelope, not on the SQS message

    [raw] = _receive(sqs, raw_url)
    assert raw["Body"] == '{"order_id": 7}'
    assert raw["MessageAttributes"] == attributes


def test_a_filter_policy_keeps_out_what_it_does_not_match(aws: AwsEndpoint) -> None:
    sns, sqs = aws.boto("sns"), aws.boto("sqs")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    url, arn = _queue(sqs, "books")
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"FilterPolicy": json.dumps({"kind": ["book"]}), "RawMessageDelivery": "true"},
    )
    for kind in ("music", "book"):
        sns.publish(
            TopicArn=topic,
            Message=f"a {kind}",
            MessageAttributes={"kind": {"DataType": "String", "StringValue": kind}},
        )
    sns.publish(TopicArn=topic, Message="no attributes at all")
    assert [m["Body"] for m in _receive(sqs, url)] == ["a book"]


def test_a_body_filter_policy(aws: AwsEndpoint) -> None:
    sns, sqs = aws.boto("sns"), aws.boto("sqs")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    url, arn = _queue(sqs, "big")
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={
            "FilterPolicyScope": "MessageBody",
            "FilterPolicy": json.dumps({"total": [{"numeric": [">", 1000]}]}),
            "RawMessageDelivery": "true",
        },
    )
    for total in (5, 1500):
        sns.publish(TopicArn=topic, Message=json.dumps({"total": total}))
    assert [json.loads(m["Body"]) for m in _receive(sqs, url)] == [{"total": 1500}]


def test_boto3_and_the_python_api_see_each_others_messages(aws: AwsEndpoint) -> None:
    sns, sqs = aws.boto("sns"), aws.boto("sqs")
    topic_arn = sns.create_topic(Name="orders")["TopicArn"]
    url, arn = _queue(sqs, "q")
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)

    topic = aws.client.get_topic("orders")
    python_id = topic.publish({"order_id": 1}, subject="from python", attributes={"n": 3})
    [received] = _receive(sqs, url)
    envelope = json.loads(received["Body"])
    assert (envelope["MessageId"], envelope["Subject"]) == (python_id, "from python")
    assert json.loads(envelope["Message"]) == {"order_id": 1}
    assert envelope["MessageAttributes"] == {"n": {"Type": "Number", "Value": "3"}}

    boto_id = sns.publish(TopicArn=topic_arn, Message='{"order_id": 2}')["MessageId"]
    [message] = aws.client.get_queue("q").receive(wait_seconds=1)
    assert message.body["MessageId"] == boto_id
    assert json.loads(message.body["Message"]) == {"order_id": 2}
    assert message.body["TopicArn"] == topic.arn == topic_arn


def test_the_order_chapter_with_boto3_calls_only(aws: AwsEndpoint) -> None:
    """NewOrderEvent → InventoryQueue (the envelope) and ShippingQueue (raw), each with a DLQ."""
    sns, sqs = aws.boto("sns"), aws.boto("sqs")
    urls: dict[str, str] = {}
    arns: dict[str, str] = {}
    for name in ("Inventory", "Shipping"):
        dlq_url = sqs.create_queue(QueueName=f"{name}DLQ")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        redrive = {
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})
        }
        if name == "Inventory":  # the redrive policy given when the queue is created
            urls[name] = sqs.create_queue(QueueName=f"{name}Queue", Attributes=redrive)["QueueUrl"]
        else:  # or set afterwards
            urls[name] = sqs.create_queue(QueueName=f"{name}Queue")["QueueUrl"]
            sqs.set_queue_attributes(QueueUrl=urls[name], Attributes=redrive)
        arns[name] = sqs.get_queue_attributes(QueueUrl=urls[name], AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
    for name in ("Inventory", "Shipping"):
        config = aws.client.get_queue(f"{name}Queue").attributes
        assert (config.dead_letter_queue, config.max_receive_count) == (f"{name}DLQ", 3)
    topic = sns.create_topic(Name="NewOrderEvent")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arns["Inventory"])
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arns["Shipping"],
        Attributes={"RawMessageDelivery": "true"},
    )
    order = {"order_id": "o-7", "items": [{"sku": "B-1", "qty": 2}], "country": "NL"}
    message_id = sns.publish(
        TopicArn=topic,
        Message=json.dumps(order),
        MessageAttributes={"country": {"DataType": "String", "StringValue": "NL"}},
    )["MessageId"]

    [inventory] = _receive(sqs, urls["Inventory"])
    envelope = json.loads(inventory["Body"])
    assert envelope["MessageId"] == message_id
    assert json.loads(envelope["Message"]) == order
    [shipping] = _receive(sqs, urls["Shipping"])
    assert json.loads(shipping["Body"]) == order
    assert shipping["MessageAttributes"]["country"]["StringValue"] == "NL"

    # A poison order: received three times without being deleted, then in InventoryDLQ.
    sns.publish(TopicArn=topic, Message=json.dumps({"order_id": "poison"}))
    _receive(sqs, urls["Shipping"])
    for _ in range(3):
        [again] = sqs.receive_message(
            QueueUrl=urls["Inventory"], WaitTimeSeconds=1, VisibilityTimeout=0
        )["Messages"]
        assert json.loads(json.loads(again["Body"])["Message"]) == {"order_id": "poison"}
    assert "Messages" not in sqs.receive_message(QueueUrl=urls["Inventory"])
    dlq = sqs.get_queue_url(QueueName="InventoryDLQ")["QueueUrl"]
    [dead] = _receive(sqs, dlq)
    assert json.loads(json.loads(dead["Body"])["Message"]) == {"order_id": "poison"}


def test_an_http_subscription_is_an_eventyard_webhook(aws: AwsEndpoint) -> None:
    sns = aws.boto("sns")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    with HookServer() as hook:
        subscription = sns.subscribe(
            TopicArn=topic,
            Protocol="http",
            Endpoint=hook.url("/orders"),
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        message_id = sns.publish(TopicArn=topic, Message="hello", Subject="hi")["MessageId"]
        dispatcher = aws.client.dispatcher()  # the endpoint records; a dispatcher posts
        wait_for(lambda: dispatcher.run_once() and hook.count(), 10, lambda: "the POST")
        [request] = hook.requests
    assert request.headers["x-amz-sns-subscription-arn"] == subscription
    envelope = request.json()
    assert (envelope["MessageId"], envelope["Message"]) == (message_id, "hello")
