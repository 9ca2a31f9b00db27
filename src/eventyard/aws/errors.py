"""AWS errors, in the shapes the SDKs parse.

An `AwsError` names its code as the service model does: either an error
shape (``QueueDoesNotExist``), whose model entry gives the query code
(``AWS.SimpleQueueService.NonExistentQueue``), status and fault side, or a
common code (``InvalidParameterValue``, ``MissingParameter``,
``InvalidAction``, ``SignatureDoesNotMatch`` ...). eventyard's own errors
carry AWS codes already (`EventyardError.code`) and become `AwsError`s as
they are.

Rendered three ways:

* query protocol (SNS, SQS query): ``<ErrorResponse><Error><Type>Sender</Type>
  <Code>…</Code><Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>``;
* JSON 1.0 (SQS): ``{"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": …}``
  plus ``x-amzn-query-error: AWS.SimpleQueueService.NonExistentQueue;Sender``, from
  which botocore takes the error code (SQS is "query compatible");
* JSON 1.1 (EventBridge): ``{"__type": "ResourceNotFoundException", "message": …}``.
"""

from __future__ import annotations

import functools
from typing import Any, Final
from xml.sax.saxutils import escape

from eventyard.errors import EventyardError

#: Common codes that are not error shapes of a model: (HTTP status, sender's fault).
_COMMON: Final[dict[str, tuple[int, bool]]] = {
    "InvalidParameterValue": (400, True),
    "InvalidParameter": (400, True),
    "MissingParameter": (400, True),
    "InvalidAction": (400, True),
    "ValidationException": (400, True),
    "InvalidClientTokenId": (403, True),
    "SignatureDoesNotMatch": (403, True),
    "IncompleteSignature": (400, True),
    "AccessDenied": (403, True),
    "NotFound": (404, True),
    "ServiceUnavailable": (503, False),
    "InternalError": (500, False),
    "InternalFailure": (500, False),
    "RequestEntityTooLarge": (413, True),
}


class AwsError(Exception):
    """An error answered to an AWS SDK."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    @classmethod
    def of(cls, exc: EventyardError) -> AwsError:
        return cls(exc.code, str(exc))


class ErrorShape:
    """How one service names and answers a code."""

    __slots__ = ("json_type", "query_code", "sender", "status")

    def __init__(self, json_type: str, query_code: str, status: int, sender: bool) -> None:
        self.json_type = json_type
        self.query_code = query_code
        self.status = status
        self.sender = sender


@functools.cache
def _error_shapes(service: str) -> dict[str, ErrorShape]:
    """Each error shape of the model, by its shape name and by its query code."""
    from eventyard.aws.shapes import service_model

    model = service_model(service)
    found: dict[str, ErrorShape] = {}
    for name in model.shape_names:
        shape = model.shape_for(name)
        if not shape.metadata.get("exception"):
            continue
        error: dict[str, Any] = shape.metadata.get("error", {})
        entry = ErrorShape(
            name,
            error.get("code", name),
            int(error.get("httpStatusCode", 400)),
            bool(error.get("senderFault", True)),
        )
        found[name] = entry
        found.setdefault(entry.query_code, entry)
    return found


def resolve(service: str, error: AwsError) -> ErrorShape:
    shape = _error_shapes(service).get(error.code)
    if shape is None:
        status, sender = _COMMON.get(error.code, (400, True))
        shape = ErrorShape(error.code, error.code, status, sender)
    if error.status is not None:
        shape = ErrorShape(shape.json_type, shape.query_code, error.status, shape.sender)
    return shape


def batch_failure(service: str, entry_id: str, error: AwsError) -> dict[str, Any]:
    """A failed entry of a batch call (``BatchResultErrorEntry``): the code as the query
    protocol names it, and whose fault it was."""
    shape = resolve(service, error)
    return {
        "Id": entry_id,
        "Code": shape.query_code,
        "Message": error.message,
        "SenderFault": shape.sender,
    }


def xml_error(service: str, error: AwsError, request_id: str) -> tuple[int, str]:
    shape = resolve(service, error)
    side = "Sender" if shape.sender else "Receiver"
    body = (
        f'<?xml version="1.0"?><ErrorResponse><Error><Type>{side}</Type>'
        f"<Code>{escape(shape.query_code)}</Code><Message>{escape(error.message)}</Message>"
        f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return shape.status, body


def json_error(
    service: str, error: AwsError, *, namespace: str | None
) -> tuple[int, dict[str, str], dict[str, str]]:
    """(status, body, extra headers); ``namespace`` prefixes ``__type`` (JSON 1.0)."""
    shape = resolve(service, error)
    json_type = f"{namespace}#{shape.json_type}" if namespace else shape.json_type
    headers: dict[str, str] = {}
    if namespace:
        side = "Sender" if shape.sender else "Receiver"
        headers["x-amzn-query-error"] = f"{shape.query_code};{side}"
    return shape.status, {"__type": json_type, "message": error.message}, headers
