"""The endpoint's plumbing: routing by protocol, errors in the SDKs' shapes, size limits."""

from __future__ import annotations

import httpx
import pytest
from aws_endpoint import AwsEndpoint


def test_boto3_sends_and_receives_over_json(aws: AwsEndpoint) -> None:
    sqs = aws.boto("sqs")
    url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    assert url == f"{aws.url}/000000000000/orders"
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    [message] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert message["Body"] == "hello"
    assert [m.body for m in aws.client.get_queue("orders").peek().messages] == ["hello"]


def test_an_unknown_queue_is_the_sdks_queue_does_not_exist(aws: AwsEndpoint) -> None:
    sqs = aws.boto("sqs")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName="nope")


def test_an_unknown_target_and_an_oversized_body_are_refused(aws: AwsEndpoint) -> None:
    answer = httpx.post(aws.url, headers={"X-Amz-Target": "Nope.Thing"}, content=b"{}")
    assert answer.status_code == 400
    assert "InvalidAction" in answer.json()["__type"]
    big = httpx.post(aws.url, data={"Action": "ListQueues", "x": "y" * (5 * 1024 * 1024)})
    assert big.status_code == 413
    assert "<Code>RequestEntityTooLarge</Code>" in big.text


def test_a_form_with_too_many_fields_is_refused(aws: AwsEndpoint) -> None:
    fields = {f"Attribute.{n}.Name": "x" for n in range(1, 2_500)}
    answer = httpx.post(aws.url, data={"Action": "ListQueues", **fields})
    assert answer.status_code == 400
    assert "more than 2000 form fields" in answer.text
