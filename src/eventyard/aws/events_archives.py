"""EventBridge archives: CreateArchive, DescribeArchive, ListArchives, DeleteArchive.

An archive keeps a bus's events (all, or those matching its pattern) in the
database, committed with each put (`EventBus.create_archive`); it is ENABLED
from the start, as there is nothing to set up. Its size in bytes is not
tracked, so ``SizeBytes`` is left out.
"""

from __future__ import annotations

from typing import Any

from eventyard.aws.context import Call
from eventyard.aws.events_common import (
    archive_arn,
    bus_arn,
    events_operation,
    page,
    resource_name,
    seconds,
)
from eventyard.store.records import ArchiveRecord


@events_operation("CreateArchive")
def create_archive(call: Call) -> dict[str, Any]:
    name = call.require("ArchiveName")
    source = resource_name(call.require("EventSourceArn"), "event-bus", "EventSourceArn")
    bus = call.client.bus(source)
    record = bus.create_archive(
        name,
        pattern=call.params.get("EventPattern"),
        retention_days=call.params.get("RetentionDays", 0),
        description=call.params.get("Description"),
    )
    return {
        "ArchiveArn": archive_arn(call, record.name),
        "State": "ENABLED",
        "CreationTime": seconds(record.created_at_ms),
    }


def _archive_entry(call: Call, record: ArchiveRecord) -> dict[str, Any]:
    return {
        "ArchiveName": record.name,
        "EventSourceArn": bus_arn(call, record.bus_name),
        "State": "ENABLED",
        "RetentionDays": record.retention_days,
        "EventCount": record.event_count,
        "CreationTime": seconds(record.created_at_ms),
    }


@events_operation("DescribeArchive")
def describe_archive(call: Call) -> dict[str, Any]:
    record = call.client.store.get_archive(call.require("ArchiveName"))
    return {
        **_archive_entry(call, record),
        "ArchiveArn": archive_arn(call, record.name),
        "Description": record.description,
        "EventPattern": record.pattern,  # compact JSON
    }


@events_operation("ListArchives")
def list_archives(call: Call) -> dict[str, Any]:
    prefix = call.params.get("NamePrefix", "")
    source = call.params.get("EventSourceArn")
    state = call.params.get("State")
    records = [
        record
        for record in call.client.store.list_archives()
        if record.name.startswith(prefix)
        and (source is None or bus_arn(call, record.bus_name) == source)
        and state in (None, "ENABLED")
    ]
    chunk, token = page(call, records, lambda record: record.name)
    store = call.client.store
    return {
        "Archives": [_archive_entry(call, store.get_archive(record.name)) for record in chunk],
        "NextToken": token,
    }


@events_operation("DeleteArchive")
def delete_archive(call: Call) -> dict[str, Any]:
    call.client.store.delete_archive(call.require("ArchiveName"))
    return {}
