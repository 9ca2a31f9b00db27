"""EventBridge PutEvents and TestEventPattern.

PutEvents answers per entry, as EventBridge does: a failed entry (no source,
detail that is not a JSON object, a bus that does not exist) gets an error
code and message and the others go on. The codes are the ones EventBridge
documents (``InvalidArgument``, ``MalformedDetail``), except for a bus that
does not exist: ``ResourceNotFoundException`` where EventBridge answers
success and drops the event. Entries are grouped by bus and each
group is put with `EventBus.put_events`, so one group commits (or fails) as a
whole and rules route it exactly as the Python API would.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Final

from eventyard.aws.context import Call
from eventyard.aws.events_common import cached_bus, events_operation, forget_bus, invalid
from eventyard.broker.bus import PutEventsResult
from eventyard.errors import BusDoesNotExist
from eventyard.model import limits
from eventyard.patterns import compile_pattern

#: The envelope fields TestEventPattern requires of its event (as EventBridge).
_REQUIRED_EVENT_FIELDS: Final = (
    "id",
    "account",
    "source",
    "time",
    "region",
    "resources",
    "detail-type",
)
#: eventyard's per-entry codes → the ones EventBridge documents (MalformedDetail is both).
_ENTRY_CODES: Final = {
    "MissingSource": "InvalidArgument",
    "MissingDetailType": "InvalidArgument",
    "MissingDetail": "InvalidArgument",
    "EventTooLarge": "InvalidArgument",
}
_ENTRY_FIELDS: Final = {
    "Source": "source",
    "DetailType": "detail_type",
    "Detail": "detail",
    "Resources": "resources",
}


def _entry(item: dict[str, Any]) -> dict[str, Any]:
    """A PutEvents entry as `EventBus.put_events` takes it."""
    entry = {ours: item[theirs] for theirs, ours in _ENTRY_FIELDS.items() if theirs in item}
    if "Time" in item:
        entry["time"] = datetime.fromtimestamp(item["Time"], UTC)
    return entry


def _put(call: Call, bus_name: str, entries: list[dict[str, Any]]) -> list[PutEventsResult]:
    """Put on a cached handle of the bus; once more on a fresh one if that bus was deleted
    (and perhaps made again) since the handle was cached."""
    try:
        return cached_bus(call.client, bus_name).put_events(entries)
    except BusDoesNotExist:
        forget_bus(call.client, bus_name)
    return cached_bus(call.client, bus_name).put_events(entries)


@events_operation("PutEvents")
def put_events(call: Call) -> dict[str, Any]:
    items: list[dict[str, Any]] = call.require("Entries")
    if not 1 <= len(items) <= limits.PUT_EVENTS_MAX_ENTRIES:
        raise invalid(
            f"1 validation error detected: Value at 'entries' failed to satisfy constraint: "
            f"Member must have length between 1 and {limits.PUT_EVENTS_MAX_ENTRIES} "
            f"(got {len(items)} entries)"
        )
    by_bus: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        by_bus.setdefault(item.get("EventBusName") or "default", []).append(index)
    answers: list[dict[str, Any]] = [{} for _ in items]
    for bus_name, indexes in by_bus.items():
        try:
            results = _put(call, bus_name, [_entry(items[index]) for index in indexes])
        except BusDoesNotExist:
            for index in indexes:
                answers[index] = {
                    "ErrorCode": "ResourceNotFoundException",
                    "ErrorMessage": f"Event bus {bus_name} does not exist.",
                }
            continue
        for index, result in zip(indexes, results, strict=True):
            if result.ok:
                answers[index] = {"EventId": result.event_id}
            else:
                code = result.error_code or "InternalFailure"
                answers[index] = {
                    "ErrorCode": _ENTRY_CODES.get(code, code),
                    "ErrorMessage": result.error_message,
                }
    failed = sum(1 for answer in answers if "ErrorCode" in answer)
    return {"FailedEntryCount": failed, "Entries": answers}


@events_operation("TestEventPattern")
def test_event_pattern(call: Call) -> dict[str, Any]:
    pattern = compile_pattern(call.require("EventPattern"))
    text: str = call.require("Event")
    try:
        event = json.loads(text)
    except ValueError:
        raise invalid("Parameter Event is not valid: it is not JSON.") from None
    if not isinstance(event, dict):
        raise invalid("Parameter Event is not valid: it must be a JSON object.")
    missing = [name for name in _REQUIRED_EVENT_FIELDS if name not in event]
    if missing:
        raise invalid(
            f"Parameter Event is not valid: it lacks the field(s) {', '.join(missing)} "
            f"(an event needs {', '.join(_REQUIRED_EVENT_FIELDS)})"
        )
    return {"Result": pattern.matches(event)}
