"""SNS subscriptions through boto3: queues and webhooks, attributes, listings, unsubscribe."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_endpoint import AwsEndpoint

from eventyard import App
from eventyard.runtime.apply import apply_app

TOPICS = "arn:aws:sns:us-east-1:000000000000"
QUEUES = "arn:aws:sqs:us-east-1:000000000000"


def _topic_and_queue(aws: AwsEndpoint, topic: str = "orders", queue: str = "q") -> tuple[Any, str]:
    sns = aws.boto("sns")
    aws.boto("sqs").create_queue(QueueName=queue)
    return sns, sns.create_topic(Name=topic)["TopicArn"]


def test_subscribe_a_queue_with_attributes_and_read_them_back(aws: AwsEndpoint) -> None:
    sns, topic = _topic_and_queue(aws)
    aws.client.create_queue("dlq")
    policy = {"kind": ["book"], "price": [{"numeric": [">", 10]}]}
    arn = sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=f"{QUEUES}:q",
        Attributes={
            "FilterPolicy": json.dumps(policy),
            "RawMessageDelivery": "true",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": f"{QUEUES}:dlq"}),
        },
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    assert arn.startswith(f"{topic}:")
    [subscription] = aws.client.get_topic("orders").subscriptions()
    assert (subscription.protocol, subscription.endpoint) == ("sqs", "q")
    assert subscription.filter_policy == policy
    assert subscription.config.raw_message_delivery
    assert subscription.config.dead_letter_queue == "dlq"
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["SubscriptionArn"] == arn
    assert attributes["TopicArn"] == topic
    assert (attributes["Protocol"], attributes["Endpoint"]) == ("sqs", f"{QUEUES}:q")
    assert attributes["Owner"] == "000000000000"
    assert attributes["PendingConfirmation"] == "false"
    assert attributes["RawMessageDelivery"] == "true"
    assert json.loads(attributes["FilterPolicy"]) == policy
    assert attributes["FilterPolicyScope"] == "MessageAttributes"
    assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": f"{QUEUES}:dlq"}
    again = sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=f"{QUEUES}:q",
        Attributes={
            "FilterPolicy": json.dumps(policy),
            "RawMessageDelivery": "true",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": f"{QUEUES}:dlq"}),
        },
    )
    assert again["SubscriptionArn"] == arn  # the same subscription again is idempotent
    with pytest.raises(sns.exceptions.InvalidParameterException, match="already"):
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"{QUEUES}:q")


def test_set_subscription_attributes(aws: AwsEndpoint) -> None:
    sns, topic = _topic_and_queue(aws)
    aws.client.create_queue("dlq")
    arn = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"{QUEUES}:q")["SubscriptionArn"]

    def attributes() -> dict[str, str]:
        found: dict[str, str] = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
        return found

    assert attributes()["RawMessageDelivery"] == "false"
    assert "FilterPolicy" not in attributes()
    assert "RedrivePolicy" not in attributes()
    changes = {
        "RawMessageDelivery": "true",
        "FilterPolicyScope": "MessageBody",  # first: the policy below filters a JSON body
        "FilterPolicy": json.dumps({"order": {"total": [{"numeric": [">", 100]}]}}),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": f"{QUEUES}:dlq"}),
    }
    for name, value in changes.items():
        sns.set_subscription_attributes(
            SubscriptionArn=arn, AttributeName=name, AttributeValue=value
        )
    now = attributes()
    assert (now["RawMessageDelivery"], now["FilterPolicyScope"]) == ("true", "MessageBody")
    for name in ("FilterPolicy", "RedrivePolicy"):  # eventyard keeps them as canonical JSON
        assert json.loads(now[name]) == json.loads(changes[name])
    assert aws.client.get_subscription(arn).config.filter_policy_scope == "MessageBody"
    for name, empty in (("FilterPolicy", "{}"), ("RedrivePolicy", "")):
        sns.set_subscription_attributes(
            SubscriptionArn=arn, AttributeName=name, AttributeValue=empty
        )
        assert name not in attributes()
    bad = [
        ("FilterPolicy", '{"kind": "book"}'),  # values must be lists
        ("FilterPolicy", "{not json"),
        ("FilterPolicyScope", "Everything"),
        ("RawMessageDelivery", "maybe"),
        ("RedrivePolicy", json.dumps({"deadLetterTargetArn": "dlq"})),
        ("DeliveryPolicy", "{}"),
    ]
    for name, value in bad:
        with pytest.raises(sns.exceptions.InvalidParameterException):
            sns.set_subscription_attributes(
                SubscriptionArn=arn, AttributeName=name, AttributeValue=value
            )
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.set_subscription_attributes(
            SubscriptionArn=f"{topic}:0000",
            AttributeName="RawMessageDelivery",
            AttributeValue="true",
        )


def test_subscribe_a_webhook(aws: AwsEndpoint) -> None:
    sns = aws.boto("sns")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    arn = sns.subscribe(
        TopicArn=topic, Protocol="https", Endpoint="https://hooks.example.com/orders"
    )["SubscriptionArn"]
    [subscription] = aws.client.list_subscriptions("orders")
    assert (subscription.protocol, subscription.endpoint) == (
        "https",
        "https://hooks.example.com/orders",
    )
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert (attributes["Protocol"], attributes["Endpoint"]) == (
        "https",
        "https://hooks.example.com/orders",
    )
    wrong = [
        ("http", "https://hooks.example.com/x"),  # the scheme must be the protocol
        ("sqs", "https://sqs.us-east-1.amazonaws.com/000000000000/q"),  # SNS wants the ARN
        ("email", "someone@example.com"),
        ("lambda", "not-an-arn"),
    ]
    for protocol, endpoint in wrong:
        with pytest.raises(sns.exceptions.InvalidParameterException):
            sns.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=endpoint)


def test_listings_and_unsubscribe(aws: AwsEndpoint) -> None:
    sns, first = _topic_and_queue(aws, "a")
    second = sns.create_topic(Name="b")["TopicArn"]
    arns = [
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"{QUEUES}:q")["SubscriptionArn"]
        for topic in (first, second)
    ]
    listed = sns.list_subscriptions()["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == arns
    assert listed[0] == {
        "SubscriptionArn": arns[0],
        "Owner": "000000000000",
        "Protocol": "sqs",
        "Endpoint": f"{QUEUES}:q",
        "TopicArn": first,
    }
    by_topic = sns.list_subscriptions_by_topic(TopicArn=second)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in by_topic] == arns[1:]
    sns.unsubscribe(SubscriptionArn=arns[0])
    assert [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]] == arns[1:]
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.unsubscribe(SubscriptionArn=arns[0])
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.unsubscribe(SubscriptionArn="nope")
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.list_subscriptions_by_topic(TopicArn=f"{TOPICS}:nope")
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.get_subscription_attributes(SubscriptionArn=arns[0])


def test_list_subscriptions_pages_by_100(aws: AwsEndpoint) -> None:
    topic = aws.client.create_topic("orders")
    for number in range(150):
        topic.subscribe(f"http://127.0.0.1:9/{number}")
    sns = aws.boto("sns")
    pages = list(sns.get_paginator("list_subscriptions").paginate())
    assert [len(p["Subscriptions"]) for p in pages] == [100, 50]
    by_topic = sns.get_paginator("list_subscriptions_by_topic")
    pages = list(by_topic.paginate(TopicArn=f"{TOPICS}:orders"))
    endpoints = [s["Endpoint"] for p in pages for s in p["Subscriptions"]]
    assert sorted(endpoints) == sorted(f"http://127.0.0.1:9/{n}" for n in range(150))


def test_subscribe_errors(aws: AwsEndpoint) -> None:
    sns, topic = _topic_and_queue(aws)
    fifo = sns.create_topic(Name="f.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.subscribe(TopicArn=f"{TOPICS}:nope", Protocol="sqs", Endpoint=f"{QUEUES}:q")
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"{QUEUES}:missing")
    with pytest.raises(sns.exceptions.InvalidParameterException, match="FIFO"):
        sns.subscribe(TopicArn=fifo, Protocol="sqs", Endpoint=f"{QUEUES}:q")
    with pytest.raises(sns.exceptions.InvalidParameterException, match="FilterPolicy"):
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=f"{QUEUES}:q",
            Attributes={"FilterPolicy": json.dumps({"kind": [{"prefix": 3}]})},
        )
    lambda_arn = "arn:aws:lambda:us-east-1:000000000000:function:update_stock"
    with pytest.raises(sns.exceptions.InvalidParameterException, match="update_stock"):
        sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=lambda_arn)  # not declared
    assert aws.client.list_subscriptions() == []


def handler(event: object) -> None:
    return None


def test_eventyard_functions_are_lambda_subscriptions(aws: AwsEndpoint) -> None:
    app = App("shop")
    app.on_topic(app.topic("orders"))(handler)
    apply_app(app, aws.client)
    sns = aws.boto("sns")
    lambda_arn = "arn:aws:lambda:us-east-1:000000000000:function:handler"
    [listed] = sns.list_subscriptions_by_topic(TopicArn=f"{TOPICS}:orders")["Subscriptions"]
    assert (listed["Protocol"], listed["Endpoint"]) == ("lambda", lambda_arn)
    other = sns.create_topic(Name="returns")["TopicArn"]
    sns.subscribe(TopicArn=other, Protocol="lambda", Endpoint=lambda_arn)
    [subscription] = aws.client.list_subscriptions("returns")
    assert (subscription.protocol, subscription.endpoint) == ("function", "handler")
