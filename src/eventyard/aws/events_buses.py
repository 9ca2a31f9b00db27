"""EventBridge event buses: CreateEventBus, DescribeEventBus, ListEventBuses, DeleteEventBus.

Buses are eventyard's own (`Client.create_bus`); what EventBridge keeps on a
bus that eventyard does not (a description, a KMS key, a dead-letter config,
logging, tags, a resource policy) is accepted and not kept, so scripts that
set them run unchanged.
"""

from __future__ import annotations

import contextlib
from typing import Any

from eventyard.aws.context import Call
from eventyard.aws.errors import AwsError
from eventyard.aws.events_common import bus_arn, events_operation, invalid, page, seconds
from eventyard.errors import BusDoesNotExist
from eventyard.store.records import BusRecord


@events_operation("CreateEventBus")
def create_event_bus(call: Call) -> dict[str, Any]:
    name = call.require("Name")
    if call.params.get("EventSourceName"):
        raise invalid("partner event sources (EventSourceName) are not supported by eventyard")
    try:
        call.client.bus(name)
    except BusDoesNotExist:
        pass
    else:
        raise AwsError("ResourceAlreadyExistsException", f"Event bus {name} already exists.")
    bus = call.client.create_bus(name)
    return {"EventBusArn": bus_arn(call, bus.name)}


def _bus_entry(call: Call, record: BusRecord) -> dict[str, Any]:
    created = seconds(record.created_at_ms)
    return {
        "Name": record.name,
        "Arn": bus_arn(call, record.name),
        "CreationTime": created,
        "LastModifiedTime": created,
    }


@events_operation("DescribeEventBus")
def describe_event_bus(call: Call) -> dict[str, Any]:
    bus = call.client.bus(call.params.get("Name") or "default")
    return _bus_entry(call, call.client.store.get_bus(bus.name))


@events_operation("ListEventBuses")
def list_event_buses(call: Call) -> dict[str, Any]:
    prefix = call.params.get("NamePrefix", "")
    records = [r for r in call.client.store.list_buses() if r.name.startswith(prefix)]
    chunk, token = page(call, records, lambda record: record.name)
    return {"EventBuses": [_bus_entry(call, record) for record in chunk], "NextToken": token}


@events_operation("DeleteEventBus")
def delete_event_bus(call: Call) -> dict[str, Any]:
    name = call.require("Name")
    with contextlib.suppress(BusDoesNotExist):  # as in EventBridge: a missing bus is fine
        call.client.delete_bus(name)
    return {}
