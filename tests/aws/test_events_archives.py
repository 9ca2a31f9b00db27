"""EventBridge over boto3: archives and replays (carried out by a dispatcher)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from aws_endpoint import AwsEndpoint
from botocore.exceptions import ClientError

import eventyard

ARN = "arn:aws:events:us-east-1:000000000000"
BIG = '{"detail": {"total": [{"numeric": [">", 100]}]}}'


def _order(total: int, at: float) -> dict[str, object]:
    return {
        "Source": "shop.checkout",
        "DetailType": "OrderPlaced",
        "Detail": json.dumps({"total": total}),
        "Time": datetime.fromtimestamp(at, UTC),
    }


def _run_until_ended(client: eventyard.Client, name: str) -> None:
    dispatcher = client.dispatcher()
    try:
        deadline = time.monotonic() + 10
        while client.store.get_replay(name).status not in ("COMPLETED", "FAILED"):
            assert time.monotonic() < deadline, "the replay did not end"
            dispatcher.run_once()
    finally:
        dispatcher.stop()


def test_archives_are_created_described_listed_and_deleted(aws: AwsEndpoint) -> None:
    events = aws.boto("events")
    created = events.create_archive(
        ArchiveName="big",
        EventSourceArn=f"{ARN}:event-bus/default",
        EventPattern=BIG,
        Description="orders over 100",
        RetentionDays=7,
    )
    assert (created["ArchiveArn"], created["State"]) == (f"{ARN}:archive/big", "ENABLED")
    events.create_archive(ArchiveName="all", EventSourceArn=f"{ARN}:event-bus/default")
    now = time.time()
    events.put_events(Entries=[_order(5, now), _order(500, now)])
    big = events.describe_archive(ArchiveName="big")
    assert (big["EventCount"], big["RetentionDays"], big["Description"]) == (
        1,
        7,
        "orders over 100",
    )
    assert json.loads(big["EventPattern"]) == json.loads(BIG)
    assert big["EventSourceArn"] == f"{ARN}:event-bus/default"
    listed = events.list_archives()["Archives"]
    assert [(a["ArchiveName"], a["EventCount"]) for a in listed] == [("all", 2), ("big", 1)]
    assert [a["ArchiveName"] for a in events.list_archives(NamePrefix="b")["Archives"]] == ["big"]
    assert events.list_archives(EventSourceArn=f"{ARN}:event-bus/other")["Archives"] == []
    with pytest.raises(events.exceptions.ResourceAlreadyExistsException):
        events.create_archive(ArchiveName="big", EventSourceArn=f"{ARN}:event-bus/default")
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.create_archive(ArchiveName="x", EventSourceArn=f"{ARN}:event-bus/nope")
    with pytest.raises(events.exceptions.InvalidEventPatternException):
        events.create_archive(
            ArchiveName="x", EventSourceArn=f"{ARN}:event-bus/default", EventPattern="{}}"
        )
    with pytest.raises(ClientError) as not_a_bus:
        events.create_archive(ArchiveName="x", EventSourceArn="arn:aws:sqs:us-east-1:0:q")
    assert not_a_bus.value.response["Error"]["Code"] == "ValidationException"
    events.delete_archive(ArchiveName="big")
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_archive(ArchiveName="big")
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.delete_archive(ArchiveName="big")


def test_a_replay_puts_archived_events_back_through_chosen_rules(aws: AwsEndpoint) -> None:
    events, client = aws.boto("events"), aws.client
    events.create_archive(ArchiveName="all", EventSourceArn=f"{ARN}:event-bus/default")
    now = time.time()
    events.put_events(Entries=[_order(1, now - 50), _order(2, now - 30), _order(3, now - 10)])
    replayed, skipped = client.create_queue("replayed"), client.create_queue("skipped")
    events.put_rule(Name="again", EventPattern='{"source": ["shop.checkout"]}')
    events.put_rule(Name="other", EventPattern='{"source": ["shop.checkout"]}')
    client.bus().rule("again").add_target(replayed)
    client.bus().rule("other").add_target(skipped)
    started = events.start_replay(
        ReplayName="window",
        EventSourceArn=f"{ARN}:archive/all",
        EventStartTime=datetime.fromtimestamp(now - 40, UTC),
        EventEndTime=datetime.fromtimestamp(now - 5, UTC),
        Destination={"Arn": f"{ARN}:event-bus/default", "FilterArns": [f"{ARN}:rule/again"]},
    )
    assert (started["ReplayArn"], started["State"]) == (f"{ARN}:replay/window", "STARTING")
    assert events.describe_replay(ReplayName="window")["State"] == "STARTING"
    _run_until_ended(client, "window")
    described = events.describe_replay(ReplayName="window")
    assert described["State"] == "COMPLETED"
    assert described["EventSourceArn"] == f"{ARN}:archive/all"
    assert described["Destination"] == {
        "Arn": f"{ARN}:event-bus/default",
        "FilterArns": [f"{ARN}:rule/again"],
    }
    assert described["ReplayEndTime"] >= described["ReplayStartTime"]
    assert "EventLastReplayedTime" in described
    bodies = [m.body for m in replayed.peek().messages]
    assert [b["detail"]["total"] for b in bodies] == [2, 3]
    assert all(b["replay-name"] == "window" for b in bodies)
    assert skipped.peek().messages == []
    [listed] = events.list_replays(EventSourceArn=f"{ARN}:archive/all")["Replays"]
    assert (listed["ReplayName"], listed["State"]) == ("window", "COMPLETED")
    assert events.list_replays(State="RUNNING")["Replays"] == []
    with pytest.raises(events.exceptions.IllegalStatusException):
        events.cancel_replay(ReplayName="window")


def test_replay_errors_and_cancelling(aws: AwsEndpoint) -> None:
    events = aws.boto("events")
    events.create_event_bus(Name="other")
    events.create_archive(ArchiveName="all", EventSourceArn=f"{ARN}:event-bus/default")
    now = time.time()
    window = {
        "EventSourceArn": f"{ARN}:archive/all",
        "EventStartTime": datetime.fromtimestamp(now - 60, UTC),
        "EventEndTime": datetime.fromtimestamp(now - 1, UTC),
        "Destination": {"Arn": f"{ARN}:event-bus/default"},
    }
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.start_replay(ReplayName="r", **{**window, "EventSourceArn": f"{ARN}:archive/nope"})
    for wrong in (
        {"EventEndTime": datetime.fromtimestamp(now + 3600, UTC)},  # in the future
        {"EventStartTime": datetime.fromtimestamp(now, UTC)},  # after the end
        {"Destination": {"Arn": f"{ARN}:event-bus/other"}},  # not the archive's bus
        {"Destination": {"Arn": f"{ARN}:event-bus/default", "FilterArns": [f"{ARN}:rule/other/r"]}},
    ):
        with pytest.raises(ClientError) as refused:
            events.start_replay(ReplayName="r", **{**window, **wrong})
        assert refused.value.response["Error"]["Code"] == "ValidationException", wrong
    events.start_replay(ReplayName="r", **window)
    with pytest.raises(events.exceptions.ResourceAlreadyExistsException):
        events.start_replay(ReplayName="r", **window)
    cancelled = events.cancel_replay(ReplayName="r")
    assert (cancelled["ReplayArn"], cancelled["State"]) == (f"{ARN}:replay/r", "CANCELLING")
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_replay(ReplayName="nope")
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.cancel_replay(ReplayName="nope")
