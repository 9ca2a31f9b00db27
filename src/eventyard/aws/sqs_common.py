"""What every SQS handler shares: queue URLs and ARNs, finding the queue a request
names, SQS's MD5 digests, eventyard errors in SQS's words, and batch entries.

Kept apart from the handlers so each handler module reads as the operations
it implements, and so the digests can be checked on their own against the
values AWS is known to return.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from eventyard.aws import errors
from eventyard.aws.context import Call
from eventyard.aws.errors import AwsError
from eventyard.broker.queue import Queue
from eventyard.errors import (
    EventyardError,
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidParameterValue,
    MessageTooLong,
    QueueDoesNotExist,
)
from eventyard.model.names import check_queue_name
from eventyard.store.records import QueueRecord

#: eventyard codes that SQS reports as another code (message attributes and sizes are
#: plain InvalidParameterValue on SQS; InvalidAttributeName/Value are about queue attributes).
_SQS_CODES: Final[dict[type[EventyardError], str]] = {
    MessageTooLong: "InvalidParameterValue",
    InvalidAttributeName: "InvalidParameterValue",
    InvalidAttributeValue: "InvalidParameterValue",
}


# -- queues -------------------------------------------------------------------------------


def queue_url(call: Call, name: str) -> str:
    return f"{call.base_url}/{call.settings.account}/{name}"


def queue_arn(call: Call, name: str) -> str:
    return call.settings.arn("sqs", name)


def queue_name(call: Call, url_or_name: str) -> str:
    """The queue a QueueUrl (any host), an ARN or a bare name designates.

    A URL (``/<account>/<name>``) or ARN of another account names no queue here
    (empty name)."""
    account = call.settings.account
    if url_or_name.startswith("arn:"):
        parts = url_or_name.split(":")
        if len(parts) != 6 or parts[2] != "sqs" or parts[4] not in ("", account):
            return ""
        return parts[5]
    if "://" in url_or_name:
        segments = urlsplit(url_or_name).path.strip("/").split("/")
        owner = segments[0] if len(segments) == 2 else ""
        if len(owner) == 12 and owner.isdigit() and owner != account:
            return ""
        return segments[-1]
    return url_or_name


def _not_found(designation: str) -> AwsError:
    return AwsError(
        "QueueDoesNotExist",
        f"The specified queue does not exist: {designation} (or it was deleted)",
    )


def the_queue(call: Call, parameter: str = "QueueUrl") -> Queue:
    """The queue named by ``parameter`` (a QueueUrl), or QueueDoesNotExist."""
    designation = call.require(parameter)
    try:
        return call.client.get_queue(_valid_name(call, designation))
    except QueueDoesNotExist:
        raise _not_found(designation) from None


def the_record(call: Call, parameter: str = "QueueUrl") -> QueueRecord:
    """The stored queue (attributes, creation time, id) named by ``parameter``."""
    designation = call.require(parameter)
    try:
        return call.client.store.get_queue(_valid_name(call, designation))
    except QueueDoesNotExist:
        raise _not_found(designation) from None


def _valid_name(call: Call, designation: str) -> str:
    """The queue name, or QueueDoesNotExist for what cannot name a user's queue."""
    name = queue_name(call, designation)
    try:
        return check_queue_name(name)
    except InvalidParameterValue:
        raise QueueDoesNotExist(designation) from None


# -- errors -------------------------------------------------------------------------------


def sqs_error(exc: EventyardError) -> AwsError:
    """An eventyard error of a message operation as SQS reports it."""
    for kind, code in _SQS_CODES.items():
        if isinstance(exc, kind):
            return AwsError(code, str(exc))
    return AwsError.of(exc)


def failed_entry(entry_id: str, error: AwsError) -> dict[str, Any]:
    """A ``BatchResultErrorEntry`` of SQS."""
    return errors.batch_failure("sqs", entry_id, error)


def check_range(value: int | None, parameter: str, low: int, high: int) -> None:
    if value is not None and not low <= value <= high:
        raise AwsError(
            "InvalidParameterValue",
            f"Value {value} for parameter {parameter} is invalid. "
            f"Reason: must be between {low} and {high}.",
        )


# -- paging -------------------------------------------------------------------------------


def page(
    call: Call, items: list[str], scope: str, *, default_max: int = 1000
) -> tuple[list[str], str | None]:
    """One page of sorted ``items`` after the request's NextToken (bound to ``scope``).

    Without MaxResults SQS answers up to 1,000 items and no token."""
    max_results = call.params.get("MaxResults")
    check_range(max_results, "MaxResults", 1, 1000)
    token = call.params.get("NextToken")
    after = _token_position(token, scope) if token else None
    if after is not None:
        items = [item for item in items if item > after]
    limit = max_results or default_max
    shown = items[:limit]
    more = max_results is not None and len(items) > limit
    next_token = _make_token(scope, shown[-1]) if more and shown else None
    return shown, next_token


def _make_token(scope: str, after: str) -> str:
    data = json.dumps({"scope": scope, "after": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).decode("ascii")


def _token_position(token: str, scope: str) -> str:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        if data["scope"] == scope and isinstance(data["after"], str):
            return str(data["after"])
    except (ValueError, KeyError, TypeError, UnicodeEncodeError, binascii.Error):
        pass
    raise AwsError("InvalidParameterValue", f"Invalid NextToken value {token!r}.")


# -- digests ------------------------------------------------------------------------------


def md5_of_body(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def md5_of_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> str | None:
    """SQS's MD5OfMessageAttributes (and MD5OfMessageSystemAttributes): names sorted;
    name, data type and value each length-prefixed (4 bytes, big-endian), the value
    after a transport byte (1: string or number, 2: binary)."""
    if not attributes:
        return None
    digest = hashlib.md5()
    for name in sorted(attributes):
        attribute = attributes[name]
        data_type = str(attribute["DataType"])
        for part in (name.encode(), data_type.encode()):
            digest.update(len(part).to_bytes(4, "big") + part)
        if attribute.get("BinaryValue") is not None:
            value = attribute["BinaryValue"]
            data = value if isinstance(value, bytes) else str(value).encode()
            digest.update(b"\x02" + len(data).to_bytes(4, "big") + data)
        else:
            data = str(attribute.get("StringValue", "")).encode()
            digest.update(b"\x01" + len(data).to_bytes(4, "big") + data)
    return digest.hexdigest()
