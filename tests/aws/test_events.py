"""EventBridge over boto3: event buses and rules (create, describe, list, page, delete)."""

from __future__ import annotations

import json

import pytest
from aws_endpoint import AwsEndpoint
from botocore.exceptions import ClientError

ARN = "arn:aws:events:us-east-1:000000000000"
ORDERS = '{"source": ["shop.checkout"], "detail-type": ["OrderPlaced"]}'


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_event_buses_are_created_described_listed_and_deleted(aws: AwsEndpoint) -> None:
    events = aws.boto("events")
    created = events.create_event_bus(Name="orders", Description="ignored", Tags=[])
    assert created["EventBusArn"] == f"{ARN}:event-bus/orders"
    assert aws.client.bus("orders").name == "orders"
    with pytest.raises(events.exceptions.ResourceAlreadyExistsException):
        events.create_event_bus(Name="orders")
    with pytest.raises(events.exceptions.ResourceAlreadyExistsException):
        events.create_event_bus(Name="default")
    described = events.describe_event_bus(Name=f"{ARN}:event-bus/orders")
    assert (described["Name"], described["Arn"]) == ("orders", f"{ARN}:event-bus/orders")
    assert described["CreationTime"].year >= 2024
    assert events.describe_event_bus()["Name"] == "default"
    names = [bus["Name"] for bus in events.list_event_buses()["EventBuses"]]
    assert names == ["default", "orders"]
    assert [b["Name"] for b in events.list_event_buses(NamePrefix="ord")["EventBuses"]] == [
        "orders"
    ]
    events.delete_event_bus(Name="orders")
    events.delete_event_bus(Name="orders")  # a bus that is not there: nothing to do
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_event_bus(Name="orders")
    with pytest.raises(ClientError) as refused:
        events.delete_event_bus(Name="default")
    assert _code(refused) == "ValidationException"


def test_event_buses_page_with_limit_and_next_token(aws: AwsEndpoint) -> None:
    events = aws.boto("events")
    for i in range(5):
        events.create_event_bus(Name=f"bus-{i}")
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        answer = events.list_event_buses(
            NamePrefix="bus-", Limit=2, **({"NextToken": token} if token else {})
        )
        seen += [bus["Name"] for bus in answer["EventBuses"]]
        pages += 1
        token = answer.get("NextToken")
        if token is None:
            break
    assert (seen, pages) == ([f"bus-{i}" for i in range(5)], 3)
    with pytest.raises(ClientError) as bad:
        events.list_event_buses(Limit=1000)
    assert _code(bad) == "ValidationException"


def test_a_bus_with_rules_is_not_deleted(aws: AwsEndpoint) -> None:
    events = aws.boto("events")
    events.create_event_bus(Name="orders")
    events.put_rule(Name="r", EventBusName="orders", EventPattern=ORDERS)
    with pytest.raises(ClientError) as refused:
        events.delete_event_bus(Name="orders")
    assert _code(refused) == "ValidationException"
    events.delete_rule(Name="r", EventBusName="orders")
    events.delete_event_bus(Name="orders")
    assert aws.client.list_buses() == ["default"]


def test_rules_are_put_described_and_listed(aws: AwsEndpoint) -> None:
    events = aws.boto("events")
    events.create_event_bus(Name="orders")
    put = events.put_rule(Name="placed", EventPattern=ORDERS, Description="new orders")
    assert put["RuleArn"] == f"{ARN}:rule/placed"
    on_bus = events.put_rule(
        Name="placed", EventBusName=f"{ARN}:event-bus/orders", EventPattern=ORDERS, State="DISABLED"
    )
    assert on_bus["RuleArn"] == f"{ARN}:rule/orders/placed"
    events.put_rule(Name="nightly", ScheduleExpression="cron(0 3 * * ? *)")
    rule = events.describe_rule(Name="placed")
    assert rule["Arn"] == f"{ARN}:rule/placed"
    assert json.loads(rule["EventPattern"]) == json.loads(ORDERS)
    assert (rule["State"], rule["Description"], rule["EventBusName"]) == (
        "ENABLED",
        "new orders",
        "default",
    )
    assert rule["CreatedBy"] == "000000000000"
    assert events.describe_rule(Name="nightly")["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert "EventPattern" not in events.describe_rule(Name="nightly")
    other = events.describe_rule(Name="placed", EventBusName="orders")
    assert (other["State"], other["EventBusName"]) == ("DISABLED", "orders")
    assert [r["Name"] for r in events.list_rules()["Rules"]] == ["nightly", "placed"]
    assert [r["Name"] for r in events.list_rules(NamePrefix="pl")["Rules"]] == ["placed"]
    [listed] = events.list_rules(EventBusName="orders")["Rules"]
    assert (listed["Arn"], listed["State"]) == (f"{ARN}:rule/orders/placed", "DISABLED")
    # PutRule replaces the rule: what is not given again is gone
    events.put_rule(Name="placed", EventPattern='{"source": ["shop"]}')
    again = events.describe_rule(Name="placed")
    assert "Description" not in again
    assert json.loads(again["EventPattern"]) == {"source": ["shop"]}
    assert aws.client.bus().rule("placed").pattern == {"source": ["shop"]}


def test_rules_page_through_the_paginator(aws: AwsEndpoint) -> None:
    events = aws.boto("events")
    for i in range(7):
        events.put_rule(Name=f"rule-{i}", EventPattern=ORDERS)
    pages = list(events.get_paginator("list_rules").paginate(PaginationConfig={"PageSize": 3}))
    assert [len(page["Rules"]) for page in pages] == [3, 3, 1]
    assert [r["Name"] for page in pages for r in page["Rules"]] == [f"rule-{i}" for i in range(7)]
    with pytest.raises(ClientError) as bad:
        events.list_rules(NextToken="%%%")
    assert _code(bad) == "ValidationException"


def test_rule_errors_are_the_models_exceptions(aws: AwsEndpoint) -> None:
    events = aws.boto("events")
    with pytest.raises(events.exceptions.InvalidEventPatternException):
        events.put_rule(Name="bad", EventPattern='{"source": []}')
    with pytest.raises(events.exceptions.InvalidEventPatternException):
        events.put_rule(Name="bad", EventPattern="{not json")
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.put_rule(Name="r", EventBusName="nope", EventPattern=ORDERS)
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_rule(Name="nope")
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.list_rules(EventBusName="nope")
    for wrong in (
        {"Name": "r"},  # neither a pattern nor a schedule
        {"Name": "r", "ScheduleExpression": "every minute"},
        {"Name": "r", "EventPattern": ORDERS, "State": "PAUSED"},
        {"Name": "bad name!", "EventPattern": ORDERS},
    ):
        with pytest.raises(ClientError) as refused:
            events.put_rule(**wrong)
        assert _code(refused) == "ValidationException", wrong
    events.create_event_bus(Name="orders")
    with pytest.raises(ClientError) as scheduled:
        events.put_rule(Name="r", EventBusName="orders", ScheduleExpression="rate(1 minute)")
    assert _code(scheduled) == "ValidationException"
    assert events.list_rules()["Rules"] == []


def test_rules_are_disabled_enabled_and_deleted(aws: AwsEndpoint) -> None:
    events = aws.boto("events")
    queue = aws.client.create_queue("orders")
    events.put_rule(Name="placed", EventPattern=ORDERS)
    aws.client.bus().rule("placed").add_target(queue)
    order = {"source": "shop.checkout", "detail_type": "OrderPlaced", "detail": {"n": 1}}
    events.disable_rule(Name="placed")
    assert events.describe_rule(Name="placed")["State"] == "DISABLED"
    aws.client.put_events([order])
    assert queue.peek().messages == []
    events.enable_rule(Name="placed")
    assert events.describe_rule(Name="placed")["State"] == "ENABLED"
    aws.client.put_events([order])
    assert len(queue.peek().messages) == 1
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.enable_rule(Name="nope")
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.disable_rule(Name="placed", EventBusName="nope")
    with pytest.raises(ClientError) as has_targets:
        events.delete_rule(Name="placed")
    assert _code(has_targets) == "ValidationException"
    assert "has targets" in has_targets.value.response["Error"]["Message"]
    events.delete_rule(Name="placed", Force=True)  # eventyard: Force removes the targets
    events.delete_rule(Name="placed")  # a rule that is not there: nothing to do
    assert events.list_rules()["Rules"] == []
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.delete_rule(Name="placed", EventBusName="nope")
