"""AWS Lambda's event, context and response shapes, built from eventyard's values (pure).

What it is: the translation that lets a handler written for AWS Lambda
(``def handler(event, context)``) run unchanged with ``style="lambda"``:

* `sqs_event` turns wire records (`eventyard.runtime.wire`) into the event an
  SQS event-source mapping delivers, and `batch_item_failures` reads the
  handler's partial batch response (``{"batchItemFailures": [...]}``) back;
* `sns_event` turns eventyard's SNS notification envelope into the event of
  a Lambda subscription (``SigningCertUrl``/``UnsubscribeUrl``, not ``URL``);
* `eventbridge_event` is the bus envelope itself, as Lambda gets it;
* `http_api_event` and `http_api_response` are API Gateway's HTTP API
  payload format 2.0, request and response;
* `LambdaContext` is the context object of the Python runtime.

Keys, casing and value types follow AWS's documented sample events ("Using
Lambda with Amazon SQS", "Using Lambda with Amazon SNS", "Create AWS Lambda
proxy integrations for HTTP APIs", "Lambda context object in Python"), so
Powertools' data classes and parser models read them unchanged.

What it is not: it invokes nothing, reads no database and serves no HTTP; it
does not sign SNS messages (the envelope's placeholders pass through), and it
has no API Gateway authorizers, stage variables, custom domains or payload
format 1.0.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final
from urllib.parse import parse_qsl

from eventyard.errors import EventyardError
from eventyard.model.arn import DEFAULT_ACCOUNT_ID, DEFAULT_REGION
from eventyard.model.names import shorten
from eventyard.model.sns import SIGNATURE_VERSION, SIGNING_CERT_URL, UNSIGNED, unsubscribe_url_json

FUNCTION_VERSION: Final = "$LATEST"
MEMORY_DEFAULT_MB: Final = 128  # Lambda's default memory setting
HTTP_API_ID: Final = "eventyard"
HTTP_STAGE: Final = "$default"

#: What API Gateway answers when the integration's response cannot be used.
INTERNAL_SERVER_ERROR: Final = (
    500,
    [("content-type", "application/json")],
    b'{"message":"Internal Server Error"}',
)


class MalformedLambdaResponse(EventyardError, ValueError):
    """A Lambda handler returned a value its caller (SQS mapping, API Gateway) cannot read."""

    code = "MalformedLambdaResponse"


class MalformedBatchResponse(MalformedLambdaResponse):
    """A partial batch response that is not ``{"batchItemFailures": [{"itemIdentifier"}]}``.

    Lambda treats such a response as the failure of the whole batch.
    """


class MalformedHttpResponse(MalformedLambdaResponse):
    """An HTTP API (format 2.0) response API Gateway would answer with a 500."""


# -- SQS ---------------------------------------------------------------------

_WHOLE_BATCH: Final = "; Lambda counts the whole batch as failed"

#: The order of the system attributes in AWS's sample events (standard, then FIFO).
_SYSTEM_ATTRIBUTE_ORDER: Final = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "SenderId",
    "MessageDeduplicationId",
    "ApproximateFirstReceiveTimestamp",
    "DeadLetterQueueSourceArn",
)


def sqs_event(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The event an SQS event-source mapping delivers: ``{"Records": [...]}``.

    ``records`` are wire records (`eventyard.runtime.wire.record_of`): bodies
    are text already (a bytes body arrives base64-encoded, as the ``body`` SQS
    would carry), binary attribute values are base64 and system attributes
    are strings, as in the Lambda event.
    """
    return {"Records": [_sqs_record(record) for record in records]}


def _sqs_record(record: Mapping[str, Any]) -> dict[str, Any]:
    system: Mapping[str, Any] = record["system_attributes"]
    attributes = {name: str(system[name]) for name in _SYSTEM_ATTRIBUTE_ORDER if name in system}
    for name, value in system.items():  # any other (e.g. AWSTraceHeader), after AWS's own
        attributes.setdefault(name, str(value))
    message_attributes: dict[str, dict[str, Any]] = {}
    for name, spec in record["attributes"].items():
        entry: dict[str, Any] = (
            {"binaryValue": spec["BinaryValue"]}
            if "BinaryValue" in spec
            else {"stringValue": spec["StringValue"]}
        )
        entry["stringListValues"] = []
        entry["binaryListValues"] = []
        entry["dataType"] = spec["DataType"]
        message_attributes[name] = entry
    return {
        "messageId": record["message_id"],
        "receiptHandle": record["receipt_handle"],
        "body": record["body"],
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": record.get("md5_of_body") or _md5(record["body"]),
        "eventSource": "aws:sqs",
        "eventSourceARN": record["queue_arn"],
        "awsRegion": record["region"],
    }


def batch_item_failures(result: object, message_ids: Sequence[str]) -> list[str]:
    """The message ids an SQS handler reported as failed (``ReportBatchItemFailures``).

    As Lambda reads it: ``None``, ``{}``, a missing or null ``batchItemFailures``
    or an empty list mean the whole batch succeeded; other keys are ignored.
    Anything else that is not a list of ``{"itemIdentifier": <id of a message
    of this batch>}`` raises `MalformedBatchResponse`, which the caller treats
    as the failure of the whole batch. Ids are returned once each, in order.
    """
    items = result.get("batchItemFailures") if isinstance(result, Mapping) else result
    if items is None:
        return []
    if not isinstance(result, Mapping) or not isinstance(items, list | tuple):
        raise MalformedBatchResponse(
            "an SQS handler must return None or {'batchItemFailures': [{'itemIdentifier': "
            f"messageId}}, ...]}}, got {shorten(result)}{_WHOLE_BATCH}"
        )
    batch = set(message_ids)
    failed: dict[str, None] = {}
    for position, item in enumerate(items):
        identifier = item.get("itemIdentifier") if isinstance(item, Mapping) else None
        if not isinstance(identifier, str) or identifier not in batch:
            raise MalformedBatchResponse(
                f"batchItemFailures[{position}] must be {{'itemIdentifier': messageId}} with the "
                f"messageId of a message in this batch, got {shorten(item)}{_WHOLE_BATCH}"
            )
        failed[identifier] = None
    return list(failed)


# -- SNS and EventBridge -----------------------------------------------------


def sns_event(
    notification: Mapping[str, Any], subscription_arn: str, region: str
) -> dict[str, Any]:
    """The event of a Lambda function subscribed to a topic: one record, one notification.

    ``notification`` is the envelope eventyard writes (`eventyard.model.sns`),
    with SNS's ``SigningCertURL``/``UnsubscribeURL``; the Lambda event spells
    them ``SigningCertUrl``/``UnsubscribeUrl`` and always has ``Subject`` (null
    when none) and ``MessageAttributes`` (``{}`` when none). ``region`` is the
    topic's Region: the SNS event has no field of its own for it (it is part
    of the ARNs), so it is accepted for symmetry with `sqs_event` only.
    """
    del region  # documented above: the SNS event carries its Region in the ARNs only
    sns: dict[str, Any] = {
        "Type": notification.get("Type", "Notification"),
        "MessageId": notification["MessageId"],
    }
    if notification.get("SequenceNumber") is not None:  # FIFO topics, as in the envelope
        sns["SequenceNumber"] = notification["SequenceNumber"]
    unsubscribe = _either(notification, "UnsubscribeURL", "UnsubscribeUrl")
    sns.update(
        {
            "TopicArn": notification["TopicArn"],
            "Subject": notification.get("Subject"),
            "Message": notification["Message"],
            "Timestamp": notification["Timestamp"],
            "SignatureVersion": notification.get("SignatureVersion", SIGNATURE_VERSION),
            "Signature": notification.get("Signature", UNSIGNED),
            "SigningCertUrl": _either(notification, "SigningCertURL", "SigningCertUrl")
            or SIGNING_CERT_URL,
            "UnsubscribeUrl": unsubscribe or json.loads(unsubscribe_url_json(subscription_arn)),
            "MessageAttributes": {
                name: {"Type": spec["Type"], "Value": spec["Value"]}
                for name, spec in (notification.get("MessageAttributes") or {}).items()
            },
        }
    )
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": sns,
            }
        ]
    }


def _either(mapping: Mapping[str, Any], first: str, second: str) -> Any:
    value = mapping.get(first)
    return mapping.get(second) if value is None else value


def eventbridge_event(event: dict[str, Any]) -> dict[str, Any]:
    """The event of a Lambda target of a rule: the bus envelope itself, unchanged.

    Lambda delivers EventBridge events exactly as they are on the bus
    (``version``, ``id``, ``detail-type``, ``source``, ``account``, ``time``,
    ``region``, ``resources``, ``detail``, plus ``replay-name`` when replayed),
    so this returns ``event`` itself, not a copy.
    """
    return event


# -- API Gateway HTTP API, payload format 2.0 ---------------------------------

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_BINARY_MEDIA: Final = re.compile(
    r"(image|audio|video|font)/.*|application/(octet-stream|zip|x?gzip|x-tar|pdf|wasm|"
    r"(x-)?protobuf|(x-)?msgpack|cbor)"
)


def http_api_event(
    method: str,
    raw_path: str,
    raw_query_string: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: bytes,
    path_parameters: Mapping[str, str],
    route_key: str,
    request_id: str,
    source_ip: str,
    now_ms: int,
    *,
    account_id: str = DEFAULT_ACCOUNT_ID,
    api_id: str = HTTP_API_ID,
    domain_name: str | None = None,
    protocol: str = "HTTP/1.1",
) -> dict[str, Any]:
    """The event API Gateway sends a Lambda proxy integration (HTTP API, format 2.0).

    ``headers`` may repeat a name (pairs, or a mapping whose ``items()`` repeats
    it, as Starlette's ``Headers``): names are lower-cased and the values of a
    repeated name joined with commas. ``cookie`` headers become ``cookies``
    (one entry per cookie) and leave ``headers``. Query parameters are decoded
    and repeated names joined with commas. The body is text, or base64 with
    ``isBase64Encoded`` true when it is not UTF-8, is compressed
    (``content-encoding``) or has a binary media type. ``cookies``,
    ``queryStringParameters``, ``pathParameters`` and ``body`` are absent when
    empty, as in AWS. ``domainName`` is the ``host`` header without its port.
    """
    header_values, cookies = _request_headers(headers)
    host = domain_name or _host_name(header_values.get("host", ""))
    moment = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query_string,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = header_values
    query = _query_parameters(raw_query_string)
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = {
        "accountId": account_id,
        "apiId": api_id,
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0],
        "http": {
            "method": method.upper(),
            "path": raw_path,
            "protocol": protocol,
            "sourceIp": source_ip,
            "userAgent": header_values.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": route_key,
        "stage": HTTP_STAGE,
        "time": (
            f"{moment.day:02d}/{_MONTHS[moment.month - 1]}/{moment.year}:{moment:%H:%M:%S} +0000"
        ),
        "timeEpoch": now_ms,
    }
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    encoded = False
    if body:
        text = None if _binary_body(header_values) else _utf8(body)
        encoded = text is None
        event["body"] = base64.b64encode(body).decode("ascii") if text is None else text
    event["isBase64Encoded"] = encoded
    return event


def _request_headers(
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
) -> tuple[dict[str, str], list[str]]:
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    values: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in pairs:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
        else:
            values[key] = f"{values[key]},{value}" if key in values else value
    return values, cookies


def _host_name(host: str) -> str:
    """The host of a ``host`` header without its port (``[::1]:8000`` gives ``[::1]``)."""
    if host.startswith("["):
        return host[: host.find("]") + 1] or "localhost"
    return host.split(":", 1)[0] or "localhost"


def _query_parameters(raw_query_string: str) -> dict[str, str]:
    parameters: dict[str, str] = {}
    for name, value in parse_qsl(raw_query_string, keep_blank_values=True):
        parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
    return parameters


def _binary_body(headers: Mapping[str, str]) -> bool:
    if headers.get("content-encoding", "identity").strip().lower() not in ("", "identity"):
        return True
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return _BINARY_MEDIA.fullmatch(media) is not None


def _utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def http_api_response(result: object) -> tuple[int, list[tuple[str, str]], bytes]:
    """``(status, headers, body)`` of a handler's return value, as API Gateway reads format 2.0.

    A dict with ``statusCode`` is a response: ``headers``, ``cookies`` (one
    ``set-cookie`` header each), ``body`` (text, or base64 when
    ``isBase64Encoded``); no content type is added. Any other value is the
    body of a 200 ``application/json`` response: a string as it is, anything
    else as JSON. A value API Gateway could not use
    raises `MalformedHttpResponse` (answer it with `INTERNAL_SERVER_ERROR`).
    """
    if isinstance(result, Mapping) and "statusCode" in result:
        return _structured_response(result)
    if isinstance(result, str):
        return 200, [("content-type", "application/json")], result.encode("utf-8")
    try:
        text = json.dumps(result, ensure_ascii=False, separators=(",", ":"), default=_decimal)
    except (TypeError, ValueError) as exc:
        raise MalformedHttpResponse(
            f"a route handler returned {shorten(result)}, which is not JSON: {exc}"
        ) from None
    return 200, [("content-type", "application/json")], text.encode("utf-8")


def _decimal(value: object) -> object:
    """Decimals as numbers, as the Lambda Python runtime writes them (DynamoDB items)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _structured_response(result: Mapping[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    status = result["statusCode"]
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise MalformedHttpResponse(
            f"statusCode must be an HTTP status from 100 to 599, got {shorten(status)}"
        )
    headers: list[tuple[str, str]] = []
    raw_headers = result.get("headers") or {}
    if not isinstance(raw_headers, Mapping):
        raise MalformedHttpResponse(f"headers must be a dict, got {shorten(raw_headers)}")
    for name, value in raw_headers.items():
        headers.append((_header_text(name, "header name"), _header_text(value, f"header {name!r}")))
    cookies = result.get("cookies") or []
    if not isinstance(cookies, list | tuple):
        raise MalformedHttpResponse(f"cookies must be a list of strings, got {shorten(cookies)}")
    for cookie in cookies:
        if not isinstance(cookie, str):
            raise MalformedHttpResponse(f"cookies must be strings, got {shorten(cookie)}")
        headers.append(("set-cookie", _header_text(cookie, "cookie")))
    body = result.get("body")
    encoded = result.get("isBase64Encoded", False)
    if not isinstance(encoded, bool):
        raise MalformedHttpResponse(f"isBase64Encoded must be a bool, got {shorten(encoded)}")
    if body is None:
        return status, headers, b""
    if not isinstance(body, str):
        raise MalformedHttpResponse(
            f"body must be a string (JSON-encode objects with json.dumps), got {shorten(body)}"
        )
    if not encoded:
        return status, headers, body.encode("utf-8")
    try:
        return status, headers, base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedHttpResponse(
            f"isBase64Encoded is true but body {shorten(body)} is not base64"
        ) from None


def _header_text(value: object, field: str) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str | int | float):
        text = str(value)
    else:
        raise MalformedHttpResponse(f"{field} must be a string or a number, got {shorten(value)}")
    if "\r" in text or "\n" in text:
        raise MalformedHttpResponse(f"{field} holds a line break: {shorten(text)}")
    return text


# -- the context object ---------------------------------------------------------


class CognitoIdentity:
    """``context.identity``: the Python runtime always sets it, with None unless from Cognito."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(
        self, cognito_identity_id: str | None = None, cognito_identity_pool_id: str | None = None
    ) -> None:
        self.cognito_identity_id = cognito_identity_id
        self.cognito_identity_pool_id = cognito_identity_pool_id


class LambdaContext:
    """The ``context`` of the Lambda Python runtime, for one invocation.

    ``deadline`` is the `time.monotonic` value at which the invocation times
    out (the time it started plus the function's timeout).
    ``memory_limit_in_mb`` is a string, as the runtime sets it (from
    ``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``); eventyard does not enforce it.
    ``client_context`` and ``tenant_id`` are None (no mobile SDK, no tenant
    isolation); ``identity`` is a `CognitoIdentity` of Nones, as in AWS.
    """

    __slots__ = (
        "_clock",
        "_deadline",
        "aws_request_id",
        "client_context",
        "function_name",
        "function_version",
        "identity",
        "invoked_function_arn",
        "log_group_name",
        "log_stream_name",
        "memory_limit_in_mb",
        "tenant_id",
    )

    def __init__(
        self,
        *,
        function_name: str,
        aws_request_id: str,
        deadline: float,
        region: str = DEFAULT_REGION,
        account_id: str = DEFAULT_ACCOUNT_ID,
        memory_limit_in_mb: int | None = None,
        function_version: str = FUNCTION_VERSION,
        log_stream_name: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account_id}:function:{function_name}"
        self.memory_limit_in_mb = str(
            MEMORY_DEFAULT_MB if memory_limit_in_mb is None else memory_limit_in_mb
        )
        self.aws_request_id = aws_request_id
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = log_stream_name or (
            f"{time.strftime('%Y/%m/%d', time.gmtime())}/[{function_version}]{uuid.uuid4().hex}"
        )
        self.identity = CognitoIdentity()
        self.client_context: object = None
        self.tenant_id: str | None = None
        self._deadline = deadline
        self._clock = clock

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the invocation times out (0 once it has)."""
        return max(0, int((self._deadline - self._clock()) * 1000))

    def __repr__(self) -> str:
        return (
            f"LambdaContext(function_name={self.function_name!r}, "
            f"aws_request_id={self.aws_request_id!r})"
        )


def _md5(text: str) -> str:
    """SQS's MD5 of the body (only Lambda-style handlers see it, so it is computed here)."""
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()
