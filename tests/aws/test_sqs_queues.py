"""SQS queue operations through boto3 (and the query protocol): create with attributes and
tags, attributes read and changed, list with paging, URLs in their usual shapes, delete,
purge, and the errors SQS answers for each."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_endpoint import AwsEndpoint
from botocore.exceptions import ClientError
from test_sqs_clients import query_models, sqs

__all__ = ["query_models", "sqs"]

ACCOUNT = "000000000000"
ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}"


def code_of(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_create_with_attributes_and_read_them_all(sqs: Any, aws: AwsEndpoint) -> None:
    dlq = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    attributes = {
        "VisibilityTimeout": "45",
        "DelaySeconds": "2",
        "MessageRetentionPeriod": "3600",
        "MaximumMessageSize": "2048",
        "ReceiveMessageWaitTimeSeconds": "1",
        "RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": f"{ARN}:orders-dlq", "maxReceiveCount": 4}
        ),
    }
    url = sqs.create_queue(QueueName="orders", Attributes=attributes)["QueueUrl"]
    assert url == f"{aws.url}/{ACCOUNT}/orders"
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert {name: got[name] for name in attributes if name != "RedrivePolicy"} == {
        name: value for name, value in attributes.items() if name != "RedrivePolicy"
    }
    assert json.loads(got["RedrivePolicy"]) == {
        "deadLetterTargetArn": f"{ARN}:orders-dlq",
        "maxReceiveCount": 4,
    }
    assert got["QueueArn"] == f"{ARN}:orders"
    assert got["ApproximateNumberOfMessages"] == "0"
    assert int(got["CreatedTimestamp"]) > 1_600_000_000
    assert "FifoQueue" not in got
    config = aws.client.get_queue("orders").attributes
    assert (config.visibility_timeout, config.dead_letter_queue, config.max_receive_count) == (
        45,
        "orders-dlq",
        4,
    )
    named = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn", "DelaySeconds"])
    assert named["Attributes"] == {"QueueArn": f"{ARN}:orders-dlq", "DelaySeconds": "0"}
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=dlq)


def test_fifo_queues_and_their_attributes(sqs: Any) -> None:
    url = sqs.create_queue(
        QueueName="jobs.fifo",
        Attributes={
            "FifoQueue": "true",
            "ContentBasedDeduplication": "true",
            "DeduplicationScope": "messageGroup",
            "FifoThroughputLimit": "perMessageGroupId",
        },
    )["QueueUrl"]
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (got["FifoQueue"], got["ContentBasedDeduplication"], got["DeduplicationScope"]) == (
        "true",
        "true",
        "messageGroup",
    )
    assert got["FifoThroughputLimit"] == "perMessageGroupId"
    with pytest.raises(ClientError) as error:
        sqs.create_queue(QueueName="plain", Attributes={"FifoQueue": "true"})
    assert code_of(error) == "InvalidParameterValue"
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.create_queue(QueueName="plain", Attributes={"ContentBasedDeduplication": "true"})


def test_the_computed_counts(aws: AwsEndpoint) -> None:
    sqs = aws.boto("sqs")
    url = sqs.create_queue(QueueName="counted")["QueueUrl"]
    for body in ("a", "b", "c"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    sqs.receive_message(QueueUrl=url)
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    assert [got[name] for name in names] == ["2", "1", "1"]


def test_create_is_idempotent_on_the_attributes_it_gives(aws: AwsEndpoint) -> None:
    sqs = aws.boto("sqs")
    url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    assert (
        sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "60"})["QueueUrl"] == url
    )
    assert sqs.create_queue(QueueName="q")["QueueUrl"] == url
    with pytest.raises(sqs.exceptions.QueueNameExists) as error:
        sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "61"})
    assert code_of(error) == "QueueAlreadyExists"


def test_invalid_attribute_names_and_values(aws: AwsEndpoint) -> None:
    sqs = aws.boto("sqs")
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.create_queue(QueueName="q", Attributes={"Colour": "blue"})
    for value in ("abc", "43201", "-1"):
        with pytest.raises(sqs.exceptions.InvalidAttributeValue):
            sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": value})
    assert aws.client.list_queues() == []
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Colour"])
    with pytest.raises(sqs.exceptions.InvalidAttributeValue):
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"MaximumMessageSize": "100"})
    with pytest.raises(ClientError) as error:
        sqs.create_queue(QueueName="bad name!")
    assert code_of(error) == "InvalidParameterValue"


def test_set_attributes_and_the_redrive_policies(aws: AwsEndpoint) -> None:
    sqs = aws.boto("sqs")
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    url = sqs.create_queue(QueueName="work")["QueueUrl"]
    policy = json.dumps({"deadLetterTargetArn": f"{ARN}:dlq", "maxReceiveCount": "2"})
    sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"RedrivePolicy": policy, "DelaySeconds": "3"}
    )
    assert aws.client.get_queue("work").attributes.max_receive_count == 2
    allow = {"redrivePermission": "byQueue", "sourceQueueArns": [f"{ARN}:work"]}
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps(allow)})
    got = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["RedriveAllowPolicy"])
    assert json.loads(got["Attributes"]["RedriveAllowPolicy"]) == allow
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": ""})
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert "RedrivePolicy" not in got
    assert got["DelaySeconds"] == "3"
    missing = json.dumps({"deadLetterTargetArn": f"{ARN}:nope", "maxReceiveCount": 2})
    for bad in (missing, "{not json", json.dumps({"deadLetterTargetArn": f"{ARN}:dlq"})):
        with pytest.raises(ClientError) as error:
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": bad})
        assert code_of(error) == "InvalidParameterValue", bad
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"DeduplicationScope": "queue"})


def test_list_queues_with_a_prefix_and_pages(sqs: Any) -> None:
    for name in ("b-2", "a-1", "b-1", "b-3", "c-1"):
        sqs.create_queue(QueueName=name)
    names = [url.rsplit("/", 1)[1] for url in sqs.list_queues()["QueueUrls"]]
    assert names == ["a-1", "b-1", "b-2", "b-3", "c-1"]
    first = sqs.list_queues(QueueNamePrefix="b-", MaxResults=2)
    second = sqs.list_queues(QueueNamePrefix="b-", MaxResults=2, NextToken=first["NextToken"])
    assert [url.rsplit("/", 1)[1] for url in first["QueueUrls"] + second["QueueUrls"]] == [
        "b-1",
        "b-2",
        "b-3",
    ]
    assert "NextToken" not in second
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix="zzz")
    with pytest.raises(ClientError) as error:
        sqs.list_queues(QueueNamePrefix="a", MaxResults=2, NextToken=first["NextToken"])
    assert code_of(error) == "InvalidParameterValue"


def test_queue_urls_in_their_usual_shapes(aws: AwsEndpoint) -> None:
    sqs = aws.boto("sqs")
    sqs.create_queue(QueueName="shapes")
    assert sqs.get_queue_url(QueueName="shapes")["QueueUrl"] == f"{aws.url}/{ACCOUNT}/shapes"
    for url in (
        f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/shapes",
        f"http://localhost:4566/{ACCOUNT}/shapes",
        "http://sqs.example/queue/shapes",
    ):
        sqs.send_message(QueueUrl=url, MessageBody="hi")
    assert aws.client.get_queue("shapes").stats().visible == 3
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=f"{aws.url}/111111111111/shapes", MessageBody="hi")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName="shapes", QueueOwnerAWSAccountId="111111111111")


def test_every_operation_on_a_queue_that_does_not_exist(aws: AwsEndpoint) -> None:
    sqs = aws.boto("sqs")
    url = f"{aws.url}/{ACCOUNT}/ghost"
    calls = {
        "get_queue_url": {"QueueName": "ghost"},
        "delete_queue": {"QueueUrl": url},
        "get_queue_attributes": {"QueueUrl": url, "AttributeNames": ["All"]},
        "set_queue_attributes": {"QueueUrl": url, "Attributes": {"DelaySeconds": "1"}},
        "send_message": {"QueueUrl": url, "MessageBody": "x"},
        "receive_message": {"QueueUrl": url},
        "delete_message": {"QueueUrl": url, "ReceiptHandle": "h"},
        "purge_queue": {"QueueUrl": url},
        "list_queue_tags": {"QueueUrl": url},
        "list_dead_letter_source_queues": {"QueueUrl": url},
    }
    for method, params in calls.items():
        with pytest.raises(sqs.exceptions.QueueDoesNotExist) as error:
            getattr(sqs, method)(**params)
        assert code_of(error) == "AWS.SimpleQueueService.NonExistentQueue", method


def test_delete_then_create_again_within_60_seconds(sqs: Any, aws: AwsEndpoint) -> None:
    url = sqs.create_queue(QueueName="brief")["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    assert aws.client.list_queues() == []
    with pytest.raises(sqs.exceptions.QueueDeletedRecently) as error:
        sqs.create_queue(QueueName="brief")
    assert code_of(error) == "AWS.SimpleQueueService.QueueDeletedRecently"
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.delete_queue(QueueUrl=url)


def test_purge_twice_within_60_seconds(sqs: Any, aws: AwsEndpoint) -> None:
    url = sqs.create_queue(QueueName="purged")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.purge_queue(QueueUrl=url)
    assert aws.client.get_queue("purged").stats().total == 0
    with pytest.raises(sqs.exceptions.PurgeQueueInProgress) as error:
        sqs.purge_queue(QueueUrl=url)
    assert code_of(error) == "AWS.SimpleQueueService.PurgeQueueInProgress"


def test_tags(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="tagged", tags={"team": "orders", "env": "dev"})["QueueUrl"]
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "orders", "env": "dev"}
    sqs.tag_queue(QueueUrl=url, Tags={"env": "prod", "cost": ""})
    sqs.untag_queue(QueueUrl=url, TagKeys=["team", "never-there"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "prod", "cost": ""}
    sqs.untag_queue(QueueUrl=url, TagKeys=["env", "cost"])
    assert "Tags" not in sqs.list_queue_tags(QueueUrl=url)
    with pytest.raises(ClientError) as error:
        sqs.tag_queue(QueueUrl=url, Tags={f"k{number}": "v" for number in range(51)})
    assert code_of(error) == "InvalidParameterValue"
    with pytest.raises(ClientError):
        sqs.tag_queue(QueueUrl=url, Tags={"aws:reserved": "v"})
