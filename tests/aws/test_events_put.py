"""EventBridge over boto3: PutEvents and TestEventPattern, end to end with the Python API."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from aws_endpoint import AwsEndpoint
from botocore.exceptions import ClientError

ACCOUNT = "us-east-1:000000000000"
#: The chapter's routing of orders over $1000.
BIG_ORDERS = json.dumps(
    {
        "source": ["shop.checkout"],
        "detail-type": ["OrderPlaced"],
        "detail": {"total": [{"numeric": [">", 1000]}]},
    }
)


def _order(total: float, **more: object) -> dict[str, object]:
    return {
        "Source": "shop.checkout",
        "DetailType": "OrderPlaced",
        "Detail": json.dumps({"order_id": f"o-{total}", "total": total}),
        **more,
    }


def _envelope(total: float) -> str:
    return json.dumps(
        {
            "version": "0",
            "id": "e-1",
            "detail-type": "OrderPlaced",
            "source": "shop.checkout",
            "account": "000000000000",
            "time": "2026-11-26T22:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": {"total": total},
        }
    )


def test_big_orders_are_routed_to_an_sqs_queue_end_to_end(aws: AwsEndpoint) -> None:
    events, sqs = aws.boto("events"), aws.boto("sqs")
    assert events.test_event_pattern(EventPattern=BIG_ORDERS, Event=_envelope(1000.01))["Result"]
    assert not events.test_event_pattern(EventPattern=BIG_ORDERS, Event=_envelope(1000))["Result"]
    url = sqs.create_queue(QueueName="big-orders")["QueueUrl"]
    events.put_rule(Name="big-orders", EventPattern=BIG_ORDERS)
    answer = events.put_targets(
        Rule="big-orders", Targets=[{"Id": "q", "Arn": f"arn:aws:sqs:{ACCOUNT}:big-orders"}]
    )
    assert answer["FailedEntryCount"] == 0
    when = datetime(2026, 11, 26, 22, 0, 0, tzinfo=UTC)
    put = events.put_events(
        Entries=[
            _order(1000.01, Time=when, Resources=["arn:aws:shop:order/1"]),
            _order(1000),
        ]
    )
    assert put["FailedEntryCount"] == 0
    big_id = put["Entries"][0]["EventId"]
    assert all("EventId" in entry and "ErrorCode" not in entry for entry in put["Entries"])
    [message] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    event = json.loads(message["Body"])
    assert event == {
        "version": "0",
        "id": big_id,
        "detail-type": "OrderPlaced",
        "source": "shop.checkout",
        "account": "000000000000",
        "time": "2026-11-26T22:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:shop:order/1"],
        "detail": {"order_id": "o-1000.01", "total": 1000.01},
    }
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_the_python_api_and_boto3_reach_each_others_rules(aws: AwsEndpoint) -> None:
    events = aws.boto("events")
    from_boto = aws.client.create_queue("from-boto-rule")
    events.put_rule(Name="boto-rule", EventPattern=BIG_ORDERS)
    events.put_targets(
        Rule="boto-rule", Targets=[{"Id": "q", "Arn": f"arn:aws:sqs:{ACCOUNT}:from-boto-rule"}]
    )
    aws.client.put_events(
        [{"source": "shop.checkout", "detail_type": "OrderPlaced", "detail": {"total": 2500}}]
    )
    assert [m.body["detail"] for m in from_boto.peek().messages] == [{"total": 2500}]

    aws.client.create_bus("shop")
    python_queue = aws.client.create_queue("from-python-rule")
    rule = aws.client.bus("shop").put_rule("python-rule", pattern=json.loads(BIG_ORDERS))
    rule.add_target(python_queue)
    put = events.put_events(
        Entries=[_order(5000, EventBusName=f"arn:aws:events:{ACCOUNT}:event-bus/shop")]
    )
    assert put["FailedEntryCount"] == 0
    [message] = python_queue.peek().messages
    assert message.body["id"] == put["Entries"][0]["EventId"]
    assert len(from_boto.peek().messages) == 1  # the default bus's rule did not see it


def test_failed_entries_fail_alone(aws: AwsEndpoint) -> None:
    events = aws.boto("events")
    queue = aws.client.create_queue("all")
    aws.client.bus().put_rule("all", pattern={"source": ["shop.checkout"]}).add_target(queue)
    put = events.put_events(
        Entries=[
            _order(1),
            _order(2, Detail="[not json"),
            _order(3, EventBusName="nope"),
            {"DetailType": "OrderPlaced", "Detail": "{}"},
            _order(5),
        ]
    )
    assert put["FailedEntryCount"] == 3
    codes = [entry.get("ErrorCode") for entry in put["Entries"]]
    assert codes == [None, "MalformedDetail", "ResourceNotFoundException", "InvalidArgument", None]
    assert all(
        ("EventId" in entry) != ("ErrorCode" in entry)
        and ("ErrorMessage" in entry) == ("ErrorCode" in entry)
        for entry in put["Entries"]
    )
    assert [m.body["detail"]["total"] for m in queue.peek().messages] == [1, 5]


def test_more_than_ten_entries_are_refused_whole(aws: AwsEndpoint) -> None:
    events = aws.boto("events")
    queue = aws.client.create_queue("all")
    aws.client.bus().put_rule("all", pattern={"source": ["shop.checkout"]}).add_target(queue)
    with pytest.raises(ClientError) as refused:
        events.put_events(Entries=[_order(i) for i in range(11)])
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert queue.peek().messages == []
    assert events.put_events(Entries=[_order(i) for i in range(10)])["FailedEntryCount"] == 0


def test_test_event_pattern_refuses_bad_patterns_and_events(aws: AwsEndpoint) -> None:
    events = aws.boto("events")
    with pytest.raises(events.exceptions.InvalidEventPatternException):
        events.test_event_pattern(EventPattern='{"detail": {"total": []}}', Event=_envelope(1))
    with pytest.raises(events.exceptions.InvalidEventPatternException):
        events.test_event_pattern(EventPattern="nope", Event=_envelope(1))
    for event in ("nope", "[1]", json.dumps({"source": "shop.checkout"})):
        with pytest.raises(ClientError) as refused:
            events.test_event_pattern(EventPattern=BIG_ORDERS, Event=event)
        assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_puts_follow_a_bus_deleted_and_made_again(aws: AwsEndpoint) -> None:
    events = aws.boto("events")
    first, second = aws.client.create_queue("first"), aws.client.create_queue("second")
    for queue in (first, second):  # the endpoint's handle of "shop" outlives the first bus
        events.create_event_bus(Name="shop")
        events.put_rule(Name="all", EventBusName="shop", EventPattern=BIG_ORDERS)
        target = {"Id": "q", "Arn": f"arn:aws:sqs:{ACCOUNT}:{queue.name}"}
        events.put_targets(Rule="all", EventBusName="shop", Targets=[target])
        assert (
            events.put_events(Entries=[_order(2000, EventBusName="shop")])["FailedEntryCount"] == 0
        )
        events.delete_rule(Name="all", EventBusName="shop", Force=True)
        events.delete_event_bus(Name="shop")
    assert (len(first.peek().messages), len(second.peek().messages)) == (1, 1)
    [entry] = events.put_events(Entries=[_order(2000, EventBusName="shop")])["Entries"]
    assert entry["ErrorCode"] == "ResourceNotFoundException"
