"""EventBridge replays: StartReplay, DescribeReplay, ListReplays, CancelReplay.

`EventBus.start_replay` records the replay; a dispatcher (``eventyard
worker``, or `Client.dispatcher` in a process of the application) carries it
out. The endpoint runs no dispatcher of its own, so a replay started through
it stays STARTING until one runs somewhere on the same database.
"""

from __future__ import annotations

from typing import Any, Final

from eventyard.aws.context import Call
from eventyard.aws.errors import AwsError
from eventyard.aws.events_common import (
    archive_arn,
    bus_arn,
    events_operation,
    invalid,
    page,
    replay_arn,
    resource_name,
    rule_arn,
    rule_of_arn,
    seconds,
)
from eventyard.broker.replay import Replay
from eventyard.store.records import ReplayRecord

_ENDED: Final = ("COMPLETED", "CANCELLED", "FAILED")


@events_operation("StartReplay")
def start_replay(call: Call) -> dict[str, Any]:
    name = call.require("ReplayName")
    archive = resource_name(call.require("EventSourceArn"), "archive", "EventSourceArn")
    destination: dict[str, Any] = call.require("Destination")
    bus_name = resource_name(destination["Arn"], "event-bus", "Destination Arn")
    rules: list[str] | None = None
    if destination.get("FilterArns"):
        rules = []
        for arn in destination["FilterArns"]:
            rule_bus, rule = rule_of_arn(arn)
            if rule_bus != bus_name:
                raise invalid(f"FilterArns: rule {arn!r} is not on the destination bus {bus_name}")
            rules.append(rule)
    replay = call.client.bus(bus_name).start_replay(
        name,
        archive=archive,
        start=call.require("EventStartTime"),
        end=call.require("EventEndTime"),
        rules=rules,
    )
    record = replay.progress()
    return {
        "ReplayArn": replay_arn(call, record.name),
        "State": record.status,
        "ReplayStartTime": seconds(record.started_at_ms),
    }


def _replay_entry(call: Call, record: ReplayRecord) -> dict[str, Any]:
    return {
        "ReplayName": record.name,
        "EventSourceArn": archive_arn(call, record.archive),
        "State": record.status,
        "StateReason": record.failure_reason,
        "EventStartTime": seconds(record.start_ms),
        "EventEndTime": seconds(record.end_ms),
        "EventLastReplayedTime": seconds(record.cursor_time_ms) if record.replayed else None,
        "ReplayStartTime": seconds(record.started_at_ms),
        "ReplayEndTime": seconds(record.updated_at_ms) if record.status in _ENDED else None,
    }


@events_operation("DescribeReplay")
def describe_replay(call: Call) -> dict[str, Any]:
    record = call.client.store.get_replay(call.require("ReplayName"))
    destination: dict[str, Any] = {"Arn": bus_arn(call, record.bus_name)}
    if record.rules is not None:
        destination["FilterArns"] = [rule_arn(call, record.bus_name, r) for r in record.rules]
    return {
        **_replay_entry(call, record),
        "ReplayArn": replay_arn(call, record.name),
        "Destination": destination,
    }


@events_operation("ListReplays")
def list_replays(call: Call) -> dict[str, Any]:
    prefix = call.params.get("NamePrefix", "")
    source = call.params.get("EventSourceArn")
    state = call.params.get("State")
    records = sorted(
        (
            record
            for record in call.client.store.list_replays()
            if record.name.startswith(prefix)
            and (source is None or archive_arn(call, record.archive) == source)
            and (state is None or record.status == state)
        ),
        key=lambda record: record.name,
    )
    chunk, token = page(call, records, lambda record: record.name)
    return {"Replays": [_replay_entry(call, record) for record in chunk], "NextToken": token}


@events_operation("CancelReplay")
def cancel_replay(call: Call) -> dict[str, Any]:
    name = call.require("ReplayName")
    replay = Replay(call.client, name)
    before = replay.progress()
    if before.status not in ("STARTING", "RUNNING"):
        raise AwsError(
            "IllegalStatusException", f"Replay {name} is {before.status}; it cannot be cancelled."
        )
    record = replay.cancel()
    return {"ReplayArn": replay_arn(call, record.name), "State": record.status}
