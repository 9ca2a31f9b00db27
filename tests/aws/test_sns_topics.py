"""SNS topics through boto3: create (standard and FIFO), list with paging, attributes, delete."""

from __future__ import annotations

import json

import pytest
from aws_endpoint import AwsEndpoint

ARN = "arn:aws:sns:us-east-1:000000000000"


def test_create_is_idempotent_and_lists_and_deletes(aws: AwsEndpoint) -> None:
    sns = aws.boto("sns")
    arn = sns.create_topic(Name="orders")["TopicArn"]
    assert arn == f"{ARN}:orders"
    assert sns.create_topic(Name="orders")["TopicArn"] == arn
    assert aws.client.list_topics() == ["orders"]
    assert sns.list_topics()["Topics"] == [{"TopicArn": arn}]
    sns.delete_topic(TopicArn=arn)
    sns.delete_topic(TopicArn=arn)  # deleting what is gone succeeds, as in SNS
    assert sns.list_topics()["Topics"] == []


def test_list_topics_pages_by_100(aws: AwsEndpoint) -> None:
    for number in range(205):
        aws.client.create_topic(f"t{number:03d}")
    sns = aws.boto("sns")
    first = sns.list_topics()
    assert len(first["Topics"]) == 100
    aws.client.delete_topic("t050")  # a page stays right when earlier topics go
    second = sns.list_topics(NextToken=first["NextToken"])
    third = sns.list_topics(NextToken=second["NextToken"])
    assert "NextToken" not in third
    names = [t["TopicArn"].rsplit(":", 1)[1] for p in (first, second, third) for t in p["Topics"]]
    assert names == [f"t{number:03d}" for number in range(205)]
    paginated = sns.get_paginator("list_topics").paginate()
    assert sum(len(p["Topics"]) for p in paginated) == 204
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.list_topics(NextToken="not-a-token")


def test_attributes_of_a_standard_topic(aws: AwsEndpoint) -> None:
    sns = aws.boto("sns")
    arn = sns.create_topic(Name="orders")["TopicArn"]
    aws.client.create_queue("q")
    aws.client.get_topic("orders").subscribe("q")
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["TopicArn"] == arn
    assert attributes["Owner"] == "000000000000"
    assert attributes["DisplayName"] == ""
    assert (attributes["SubscriptionsConfirmed"], attributes["SubscriptionsPending"]) == ("1", "0")
    assert attributes["SubscriptionsDeleted"] == "0"
    assert json.loads(attributes["Policy"])["Statement"][0]["Resource"] == arn
    retry = json.loads(attributes["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]
    assert (retry["numRetries"], retry["minDelayTarget"]) == (3, 20)
    assert "FifoTopic" not in attributes


def test_fifo_topics(aws: AwsEndpoint) -> None:
    sns = aws.boto("sns")
    arn = sns.create_topic(
        Name="orders.fifo",
        Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"},
    )["TopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (attributes["FifoTopic"], attributes["ContentBasedDeduplication"]) == ("true", "true")
    assert aws.client.get_topic("orders.fifo").fifo
    for name, fifo in (("plain.fifo", None), ("plain", "true")):
        extra = {"Attributes": {"FifoTopic": fifo}} if fifo else {}
        with pytest.raises(sns.exceptions.InvalidParameterException):
            sns.create_topic(Name=name, **extra)
    with pytest.raises(sns.exceptions.InvalidParameterException, match="already exists"):
        sns.create_topic(
            Name="orders.fifo",
            Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "false"},
        )


def test_set_topic_attributes_keeps_what_eventyard_stores(aws: AwsEndpoint) -> None:
    sns = aws.boto("sns")
    arn = sns.create_topic(Name="o.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    sns.set_topic_attributes(
        TopicArn=arn, AttributeName="ContentBasedDeduplication", AttributeValue="false"
    )
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="")
    refused = [
        ("ContentBasedDeduplication", "true"),  # fixed at creation in eventyard
        ("DisplayName", "Orders"),
        ("Policy", "{}"),
        ("Nonsense", "1"),
    ]
    for name, value in refused:
        with pytest.raises(sns.exceptions.InvalidParameterException, match=name):
            sns.set_topic_attributes(TopicArn=arn, AttributeName=name, AttributeValue=value)
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.set_topic_attributes(
            TopicArn=f"{ARN}:nope", AttributeName="DisplayName", AttributeValue=""
        )


def test_topic_errors(aws: AwsEndpoint) -> None:
    sns = aws.boto("sns")
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.get_topic_attributes(TopicArn=f"{ARN}:nope")
    with pytest.raises(sns.exceptions.InvalidParameterException, match="TopicArn"):
        sns.get_topic_attributes(TopicArn="orders")
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.create_topic(Name="bad name!")
    with pytest.raises(sns.exceptions.InvalidParameterException, match="tags"):
        sns.create_topic(Name="tagged", Tags=[{"Key": "team", "Value": "shop"}])
    with pytest.raises(sns.exceptions.InvalidParameterException, match="KmsMasterKeyId"):
        sns.create_topic(Name="secret", Attributes={"KmsMasterKeyId": "alias/aws/sns"})
    assert aws.client.list_topics() == []


def test_a_topic_that_a_rule_targets_is_not_deleted(aws: AwsEndpoint) -> None:
    sns = aws.boto("sns")
    arn = sns.create_topic(Name="orders")["TopicArn"]
    rule = aws.client.bus().put_rule("all", pattern={"source": ["shop"]})
    rule.add_target(aws.client.get_topic("orders"))
    with pytest.raises(sns.exceptions.InvalidStateException):  # eventyard's ResourceInUse
        sns.delete_topic(TopicArn=arn)
    assert aws.client.list_topics() == ["orders"]
