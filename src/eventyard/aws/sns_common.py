"""What the SNS handlers share: SNS's error codes, ARNs, attribute values and paging.

Error codes. eventyard's errors carry SQS-style codes (``InvalidParameterValue``,
``MessageTooLong``, ``AWS.SimpleQueueService.NonExistentQueue`` ...), which
are not codes of the SNS model: boto3 would raise a bare ``ClientError`` for
them instead of ``InvalidParameterException``. SNS answers almost every bad
input with ``InvalidParameter`` ("Invalid parameter: ..."), bad message
attributes with ``ParameterValueInvalid`` and unknown resources with
``NotFound``; `sns_operation` registers a handler and translates its errors
so, and `sns_error` does the same for one entry of a batch.

ARNs. Responses are built on the endpoint's account and region
(`AwsSettings.arn`); ARNs coming in are read for their resource name only,
whatever account and region they name (as `eventyard.aws.sqs.queue_name`
does for queues).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any, Final

from eventyard.aws.context import Call, Handler, operation
from eventyard.aws.errors import AwsError
from eventyard.broker.topic import Topic
from eventyard.errors import (
    EventyardError,
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidFilterPolicy,
    InvalidParameterValue,
    QueueDoesNotExist,
    ResourceInUse,
)

#: Codes of eventyard errors that are SNS codes already (model error shapes' codes).
_SNS_CODES: Final = frozenset(
    {
        "NotFound",
        "EmptyBatchRequest",
        "TooManyEntriesInBatchRequest",
        "BatchEntryIdsNotDistinct",
        "InvalidBatchEntryId",
        "BatchRequestTooLong",
    }
)
PAGE_SIZE: Final = 100


def invalid(message: str) -> AwsError:
    """SNS's ``InvalidParameter``, worded as SNS words it."""
    return AwsError("InvalidParameter", f"Invalid parameter: {message}")


def sns_error(exc: EventyardError) -> AwsError:
    """An eventyard error with the code SNS gives that mistake."""
    if exc.code in _SNS_CODES:
        return AwsError(exc.code, str(exc))
    if isinstance(exc, QueueDoesNotExist):
        return AwsError("NotFound", str(exc))
    if isinstance(exc, InvalidAttributeName | InvalidAttributeValue):
        return AwsError("ParameterValueInvalid", str(exc))
    if isinstance(exc, InvalidFilterPolicy):
        return invalid(f"FilterPolicy: {exc}")
    if isinstance(exc, InvalidParameterValue) or exc.code == "InvalidParameter":
        return invalid(str(exc))
    if isinstance(exc, ResourceInUse):
        return AwsError("InvalidState", str(exc))
    return AwsError.of(exc)


def sns_operation(name: str) -> Callable[[Handler], Handler]:
    """`operation("sns", name)`, with eventyard's errors in SNS's codes."""

    def translate(exc: Exception) -> AwsError | None:
        return sns_error(exc) if isinstance(exc, EventyardError) else None

    return operation("sns", name, translate)


# -- ARNs -----------------------------------------------------------------------------------


def arn_resource(arn: object, service: str, what: str, parts: int = 6) -> list[str]:
    """The resource fields of an ``arn:aws:<service>:region:account:...`` ARN."""
    fields = arn.split(":") if isinstance(arn, str) else []
    if len(fields) != parts or fields[0] != "arn" or fields[2] != service or not all(fields[5:]):
        raise invalid(f"{what}: {arn!r} is not an {service} ARN")
    return fields[5:]


def topic_name(arn: object, what: str = "TopicArn") -> str:
    return arn_resource(arn, "sns", what)[0]


def the_topic(call: Call, member: str = "TopicArn") -> Topic:
    """The topic a parameter's ARN names (`TopicDoesNotExist` → ``NotFound``)."""
    return call.client.get_topic(topic_name(call.require(member), member))


def topic_arn(call: Call, name: str) -> str:
    return call.settings.arn("sns", name)


def subscription_id(arn: object) -> str:
    """The id in ``arn:aws:sns:region:account:topic:id``."""
    return arn_resource(arn, "sns", "SubscriptionArn", parts=7)[1]


def subscription_arn(call: Call, topic: str, subscription: str) -> str:
    return f"{topic_arn(call, topic)}:{subscription}"


# -- attribute values -----------------------------------------------------------------------


def boolean(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise invalid(f"{name}: {value!r} is not true or false")
    return lowered == "true"


def text(value: bool | int) -> str:
    """An attribute value as SNS writes it ("true"/"false", digits)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- paging ---------------------------------------------------------------------------------


def page(items: list[Any], key: Any, token: str | None) -> tuple[list[Any], str | None]:
    """One page of ``items`` (sorted by ``key``) after ``token``, and the next token.

    The token is the key of the last item returned (opaque: base64 of JSON), so a
    page stays right when items before it are deleted meanwhile.
    """
    ordered = sorted(items, key=key)
    if token:
        try:
            after = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        except (ValueError, binascii.Error, UnicodeError):
            raise invalid(f"NextToken {token!r} was not given by this endpoint") from None
        if not isinstance(after, list):
            raise invalid(f"NextToken {token!r} was not given by this endpoint")
        try:
            ordered = [item for item in ordered if list(key(item)) > after]
        except TypeError:
            raise invalid(f"NextToken {token!r} was not given by this endpoint") from None
    chosen = ordered[:PAGE_SIZE]
    if len(ordered) <= PAGE_SIZE:
        return chosen, None
    last = json.dumps(list(key(chosen[-1])), separators=(",", ":")).encode()
    return chosen, base64.urlsafe_b64encode(last).decode("ascii")
