"""EventBridge over boto3: targets (queues, topics, buses, functions), their input and limits."""

from __future__ import annotations

from typing import Any

import pytest
from aws_endpoint import AwsEndpoint
from botocore.exceptions import ClientError

import eventyard
from eventyard.broker.queue import Queue
from eventyard.runtime.apply import apply_app

ACCOUNT = "us-east-1:000000000000"
ORDERS = '{"source": ["shop.checkout"]}'
ORDER = {"source": "shop.checkout", "detail_type": "OrderPlaced", "detail": {"id": "o-1"}}


def _sqs(name: str) -> str:
    return f"arn:aws:sqs:{ACCOUNT}:{name}"


def _bodies(queue: Queue) -> list[Any]:
    return [message.body for message in queue.peek().messages]


def notify(event: dict[str, Any]) -> None:
    """An eventyard function (declared below) that Lambda ARNs name."""


def test_targets_of_every_kind_are_put_listed_and_reached(aws: AwsEndpoint) -> None:
    events = aws.boto("events")
    client = aws.client
    direct = client.create_queue("direct")
    via_topic = client.create_queue("via-topic")
    client.create_topic("orders").subscribe(via_topic, raw=True)
    client.create_bus("audit")
    audited = client.create_queue("audited")
    client.bus("audit").put_rule("all", pattern={"source": ["shop.checkout"]}).add_target(audited)
    app = eventyard.App("shop")
    app.on_topic(app.topic("unused"))(notify)
    apply_app(app, client)
    events.put_rule(Name="placed", EventPattern=ORDERS)
    targets = [
        {"Id": "queue", "Arn": _sqs("direct")},
        {"Id": "topic", "Arn": f"arn:aws:sns:{ACCOUNT}:orders"},
        {"Id": "bus", "Arn": f"arn:aws:events:{ACCOUNT}:event-bus/audit"},
        {"Id": "function", "Arn": f"arn:aws:lambda:{ACCOUNT}:function:notify:live"},
    ]
    answer = events.put_targets(Rule="placed", Targets=targets)
    assert (answer["FailedEntryCount"], answer["FailedEntries"]) == (0, [])
    listed = events.list_targets_by_rule(Rule="placed")["Targets"]
    assert [(t["Id"], t["Arn"]) for t in listed] == [
        ("bus", f"arn:aws:events:{ACCOUNT}:event-bus/audit"),
        ("function", f"arn:aws:lambda:{ACCOUNT}:function:notify"),
        ("queue", _sqs("direct")),
        ("topic", f"arn:aws:sns:{ACCOUNT}:orders"),
    ]
    assert events.list_rule_names_by_target(TargetArn=_sqs("direct"))["RuleNames"] == ["placed"]
    assert events.list_rule_names_by_target(TargetArn=_sqs("other"))["RuleNames"] == []
    [event_id] = [r.event_id for r in client.put_events([ORDER])]
    for queue in (direct, via_topic, audited):
        [body] = _bodies(queue)
        assert (body["id"], body["detail"]) == (event_id, {"id": "o-1"})
    [invocation] = _bodies(Queue(client, client.store.get_queue("eventyard:fn:notify")))
    assert invocation["input"]["id"] == event_id
    assert invocation["rule_arn"] == f"arn:aws:events:{ACCOUNT}:rule/placed"


def test_input_input_path_and_transformer_shape_what_targets_get(aws: AwsEndpoint) -> None:
    events = aws.boto("events")
    queues = {name: aws.client.create_queue(name) for name in ("constant", "part", "template")}
    events.put_rule(Name="placed", EventPattern=ORDERS)
    transformer = {
        "InputPathsMap": {"order": "$.detail.id", "kind": "$.detail-type"},
        "InputTemplate": '{"order": <order>, "kind": <kind>, "rule": <aws.events.rule-name>}',
    }
    events.put_targets(
        Rule="placed",
        Targets=[
            {"Id": "constant", "Arn": _sqs("constant"), "Input": '{"fixed": true}'},
            {"Id": "part", "Arn": _sqs("part"), "InputPath": "$.detail"},
            {"Id": "template", "Arn": _sqs("template"), "InputTransformer": transformer},
        ],
    )
    listed = {t["Id"]: t for t in events.list_targets_by_rule(Rule="placed")["Targets"]}
    assert listed["constant"]["Input"] == '{"fixed": true}'
    assert listed["part"]["InputPath"] == "$.detail"
    assert listed["template"]["InputTransformer"] == transformer
    events.put_events(
        Entries=[{"Source": "shop.checkout", "DetailType": "OrderPlaced", "Detail": '{"id": 7}'}]
    )
    assert _bodies(queues["constant"]) == [{"fixed": True}]
    assert _bodies(queues["part"]) == [{"id": 7}]
    assert _bodies(queues["template"]) == [{"order": 7, "kind": "OrderPlaced", "rule": "placed"}]


def test_retry_policy_dead_letter_queue_and_group_id_round_trip(aws: AwsEndpoint) -> None:
    events = aws.boto("events")
    aws.client.create_queue("orders.fifo")
    aws.client.create_queue("dlq")
    events.put_rule(Name="placed", EventPattern=ORDERS)
    target = {
        "Id": "fifo",
        "Arn": _sqs("orders.fifo"),
        "SqsParameters": {"MessageGroupId": "orders"},
        "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600},
        "DeadLetterConfig": {"Arn": _sqs("dlq")},
    }
    assert events.put_targets(Rule="placed", Targets=[target])["FailedEntryCount"] == 0
    assert events.list_targets_by_rule(Rule="placed")["Targets"] == [target]
    aws.client.put_events([ORDER])
    [message] = aws.client.get_queue("orders.fifo").peek().messages
    assert message.group_id == "orders"


def test_bad_targets_fail_alone_in_failed_entries(aws: AwsEndpoint) -> None:
    events = aws.boto("events")
    aws.client.create_queue("good")
    events.put_rule(Name="placed", EventPattern=ORDERS)
    answer = events.put_targets(
        Rule="placed",
        Targets=[
            {"Id": "good", "Arn": _sqs("good")},
            {"Id": "missing", "Arn": _sqs("missing")},
            {"Id": "kinesis", "Arn": f"arn:aws:kinesis:{ACCOUNT}:stream/s"},
            {"Id": "both", "Arn": _sqs("good"), "Input": "{}", "InputPath": "$.detail"},
            {"Id": "undefined", "Arn": _sqs("good"), "InputTransformer": {"InputTemplate": "<x>"}},
        ],
    )
    assert answer["FailedEntryCount"] == 4
    assert [(e["TargetId"], e["ErrorCode"]) for e in answer["FailedEntries"]] == [
        ("missing", "ResourceNotFoundException"),
        ("kinesis", "ValidationException"),
        ("both", "ValidationException"),
        ("undefined", "ValidationException"),
    ]
    assert all(e["ErrorMessage"] for e in answer["FailedEntries"])
    assert [t["Id"] for t in events.list_targets_by_rule(Rule="placed")["Targets"]] == ["good"]


def test_a_sixth_target_is_limit_exceeded_and_nothing_is_added(aws: AwsEndpoint) -> None:
    events = aws.boto("events")
    aws.client.create_queue("q")
    events.put_rule(Name="placed", EventPattern=ORDERS)
    five = [{"Id": f"t{i}", "Arn": _sqs("q")} for i in range(5)]
    assert events.put_targets(Rule="placed", Targets=five)["FailedEntryCount"] == 0
    assert events.put_targets(Rule="placed", Targets=five[:2])["FailedEntryCount"] == 0  # replaced
    with pytest.raises(events.exceptions.LimitExceededException):
        events.put_targets(Rule="placed", Targets=[{"Id": "t5", "Arn": _sqs("q")}])
    assert len(events.list_targets_by_rule(Rule="placed")["Targets"]) == 5


def test_targets_are_removed_and_paged_and_unknown_rules_are_not_found(aws: AwsEndpoint) -> None:
    events = aws.boto("events")
    aws.client.create_queue("q")
    events.put_rule(Name="placed", EventPattern=ORDERS)
    events.put_targets(Rule="placed", Targets=[{"Id": f"t{i}", "Arn": _sqs("q")} for i in range(4)])
    pages = list(
        events.get_paginator("list_targets_by_rule").paginate(
            Rule="placed", PaginationConfig={"PageSize": 3}
        )
    )
    assert [[t["Id"] for t in page["Targets"]] for page in pages] == [["t0", "t1", "t2"], ["t3"]]
    removed = events.remove_targets(Rule="placed", Ids=["t0", "t2", "never"])
    assert removed["FailedEntryCount"] == 0
    listed = events.list_targets_by_rule(Rule="placed")["Targets"]
    assert [t["Id"] for t in listed] == ["t1", "t3"]
    for call in (
        lambda: events.put_targets(Rule="nope", Targets=[{"Id": "t", "Arn": _sqs("q")}]),
        lambda: events.remove_targets(Rule="nope", Ids=["t"]),
        lambda: events.list_targets_by_rule(Rule="nope"),
        lambda: events.list_targets_by_rule(Rule="placed", EventBusName="nope"),
    ):
        with pytest.raises(ClientError) as missing:
            call()
        assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
