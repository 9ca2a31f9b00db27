"""What every EventBridge handler shares: error codes, ARNs, names and pages.

EventBridge names its errors after its model's shapes
(``ResourceNotFoundException``, ``InvalidEventPatternException``) and answers
every bad parameter with ``ValidationException``; eventyard's errors carry
SQS-style codes (``InvalidParameterValue``, ``InvalidEventPattern``,
``ResourceInUse``). `events_operation` registers a handler and translates
those codes on the way out, so the SDKs raise the exception classes an
application written against EventBridge catches.
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Callable, Sequence
from typing import Final, TypeVar

from eventyard.aws.context import Call, Handler, operation
from eventyard.aws.errors import AwsError
from eventyard.broker.bus import EventBus
from eventyard.broker.client import Client
from eventyard.errors import EventyardError

T = TypeVar("T")

#: eventyard's (and the framework's common) codes → the events model's.
_CODES: Final = {
    "InvalidParameterValue": "ValidationException",
    "InvalidParameter": "ValidationException",
    "MissingParameter": "ValidationException",
    "TooManyEntriesInBatchRequest": "ValidationException",
    "EmptyBatchRequest": "ValidationException",
    "ResourceInUse": "ValidationException",
    "InvalidEventPattern": "InvalidEventPatternException",
    "AWS.SimpleQueueService.NonExistentQueue": "ResourceNotFoundException",
    "NotFound": "ResourceNotFoundException",
}
PAGE_LIMIT_MAX: Final = 100
_CACHE_ATTRIBUTE: Final = "_eventyard_aws_event_buses"
_CACHE_LOCK: Final = threading.Lock()


def events_code(code: str) -> str:
    """The events model's name for an eventyard (or common) error code."""
    return _CODES.get(code, code)


def events_error(exc: EventyardError) -> AwsError:
    return AwsError(events_code(exc.code), str(exc))


def invalid(message: str) -> AwsError:
    return AwsError("ValidationException", message)


def events_operation(name: str) -> Callable[[Handler], Handler]:
    """Register an EventBridge handler whose errors are answered with the model's codes."""

    def translate(exc: Exception) -> AwsError | None:
        if isinstance(exc, EventyardError):
            return events_error(exc)
        if isinstance(exc, AwsError) and exc.code in _CODES:
            return AwsError(events_code(exc.code), exc.message, exc.status)
        return None

    return operation("events", name, translate)


# -- ARNs and names -----------------------------------------------------------------


def bus_arn(call: Call, bus: str) -> str:
    return call.settings.arn("events", f"event-bus/{bus}")


def rule_arn(call: Call, bus: str, rule: str) -> str:
    """``rule/<name>`` on the default bus, ``rule/<bus>/<name>`` on the others (as AWS)."""
    return call.settings.arn("events", f"rule/{rule}" if bus == "default" else f"rule/{bus}/{rule}")


def archive_arn(call: Call, archive: str) -> str:
    return call.settings.arn("events", f"archive/{archive}")


def replay_arn(call: Call, replay: str) -> str:
    return call.settings.arn("events", f"replay/{replay}")


def resource_name(value: str, kind: str, field: str) -> str:
    """The name in an ``arn:...:<kind>/<name>`` ARN, or ``value`` if it is a bare name."""
    if not value.startswith("arn:"):
        return value
    marker = f":{kind}/"
    if marker not in value:
        raise invalid(
            f"{field} {value!r} is not an ARN of the form arn:aws:events:<region>:<account>:"
            f"{kind}/<name>"
        )
    return value.split(marker, 1)[1]


def rule_of_arn(value: str) -> tuple[str, str]:
    """(bus, rule) of a rule ARN: ``rule/<name>`` is on the default bus."""
    path = resource_name(value, "rule", "rule ARN")
    bus, _, name = path.rpartition("/")
    return bus or "default", name


def _buses(client: Client) -> dict[str, EventBus]:
    """The bus handles cached for ``client``, kept on the client itself: a module-level
    map would keep every client alive (each handle refers to its client)."""
    with _CACHE_LOCK:
        buses: dict[str, EventBus] | None = vars(client).get(_CACHE_ATTRIBUTE)
        if buses is None:
            buses = {}
            setattr(client, _CACHE_ATTRIBUTE, buses)
        return buses


def cached_bus(client: Client, name: str) -> EventBus:
    """A bus handle kept between calls, so PutEvents does not re-read and recompile the
    bus's rules each time (the handle re-reads them when the bus changed)."""
    buses = _buses(client)
    bus = buses.get(name)
    if bus is None:
        bus = buses[name] = client.bus(name)
    return bus


def forget_bus(client: Client, name: str) -> None:
    """Drop a cached handle (its bus was deleted, perhaps made again under the same name)."""
    _buses(client).pop(name, None)


def the_bus(call: Call, field: str = "EventBusName") -> EventBus:
    """The bus a parameter names (a name or an ARN; ``default`` when absent)."""
    return call.client.bus(call.params.get(field) or "default")


def seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000


# -- pages ----------------------------------------------------------------------


def page(call: Call, items: Sequence[T], key: Callable[[T], str]) -> tuple[list[T], str | None]:
    """One page of ``items`` (sorted by ``key``) after ``NextToken``, at most ``Limit`` long.

    The token is the last key of the previous page, so an item created or
    deleted between pages neither shifts nor repeats the rest.
    """
    limit = call.params.get("Limit", PAGE_LIMIT_MAX)
    if not 1 <= limit <= PAGE_LIMIT_MAX:
        raise invalid(f"Limit must be from 1 to {PAGE_LIMIT_MAX}, got {limit}")
    token = call.params.get("NextToken")
    remaining = list(items)
    if token is not None:
        after = _decode_token(token)
        remaining = [item for item in remaining if key(item) > after]
    chunk = remaining[:limit]
    more = len(remaining) > limit
    return chunk, _encode_token(key(chunk[-1])) if more and chunk else None


def _encode_token(after: str) -> str:
    return base64.urlsafe_b64encode(after.encode()).decode("ascii")


def _decode_token(token: str) -> str:
    try:
        return base64.b64decode(token.encode("ascii"), altchars=b"-_", validate=True).decode()
    except (binascii.Error, ValueError):
        raise invalid(f"NextToken {token!r} is not one this endpoint gave") from None
