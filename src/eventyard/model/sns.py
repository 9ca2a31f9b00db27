"""SNS message rules and the notification envelope (pure).

What a topic accepts (text or JSON bodies, a subject, message attributes with
SNS's ``String.Array`` type, 256 KiB in all) and the JSON envelope a
subscribed queue receives without raw delivery, field for field as SNS writes
it, so that code written for SNS → SQS parses it unchanged. eventyard does
not sign notifications: ``Signature`` and ``SigningCertURL`` are fixed
placeholders (see docs/semantics.md).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Final

from eventyard.errors import InvalidAttributeValue, InvalidParameterValue, MessageTooLong
from eventyard.model import limits
from eventyard.model.attributes import encode_attributes, typed_attributes
from eventyard.model.body import BODY_BYTES, encode_body
from eventyard.model.names import shorten

SIGNATURE_VERSION: Final = "1"
UNSIGNED: Final = "EVENTYARD-UNSIGNED"
SIGNING_CERT_URL: Final = "https://eventyard.invalid/SimpleNotificationService-unsigned.pem"

#: JSON text of a string (quotes included), as json.dumps(..., ensure_ascii=False) writes it.
_json_string: Final = json.encoder.encode_basestring


def check_subject(subject: object) -> str | None:
    """Subjects: UTF-8 text without line breaks or control characters, under 100 characters."""
    if subject is None:
        return None
    if not isinstance(subject, str) or not subject:
        raise InvalidParameterValue(f"subject must be a non-empty string, got {shorten(subject)}")
    if len(subject) > limits.SUBJECT_MAX_LENGTH:
        raise InvalidParameterValue(
            f"subject has {len(subject)} characters; it must be less than 100"
        )
    if not subject.isprintable():
        raise InvalidParameterValue(
            f"subject {shorten(subject)} holds a line break or control character"
        )
    return subject


def encode_topic_message(
    message: object, attributes: dict[str, object] | None
) -> tuple[str, int, str | None, int]:
    """Validate a topic message; return (text, body kind, stored attributes, size in bytes)."""
    stored, kind, body_bytes = encode_body(message)
    if kind == BODY_BYTES or not isinstance(stored, str):
        raise InvalidParameterValue(
            "topic messages are text or JSON (SNS has no binary messages); encode bytes, "
            "e.g. as base64"
        )
    stored_attributes, attribute_bytes = encode_attributes(attributes)
    if stored_attributes is not None:
        for name, spec in typed_attributes(stored_attributes).items():
            if spec["DataType"] == "String.Array":
                _check_string_array(name, spec.get("StringValue"))
    size = body_bytes + attribute_bytes
    if size > limits.TOPIC_MESSAGE_MAX_BYTES:
        raise MessageTooLong(
            f"the message is {size} bytes (body {body_bytes} + attributes {attribute_bytes}); "
            f"a topic accepts at most {limits.TOPIC_MESSAGE_MAX_BYTES} (256 KiB)"
        )
    return stored, kind, stored_attributes, size


def _check_string_array(name: str, value: object) -> None:
    try:
        parsed = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if not isinstance(parsed, list) or any(isinstance(item, dict | list) for item in parsed):
        raise InvalidAttributeValue(
            f"message attribute {name!r} of type String.Array must be a JSON array of strings, "
            f"numbers, booleans or nulls, got {shorten(value)}"
        )


def sns_timestamp(now_ms: int) -> str:
    """SNS's timestamp format: ISO 8601 UTC with milliseconds, e.g. 2026-11-26T22:00:00.000Z."""
    moment = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now_ms % 1000:03d}Z"


def envelope_attributes(stored_attributes: str | None) -> dict[str, dict[str, str]]:
    """Attributes as SNS puts them in a notification: ``{"name": {"Type", "Value"}}``."""
    result: dict[str, dict[str, str]] = {}
    for name, spec in typed_attributes(stored_attributes).items():
        data_type = str(spec["DataType"])
        if "BinaryValue" in spec:
            raw = spec["BinaryValue"]
            assert isinstance(raw, bytes)
            result[name] = {"Type": data_type, "Value": base64.b64encode(raw).decode("ascii")}
        else:
            result[name] = {"Type": data_type, "Value": str(spec["StringValue"])}
    return result


def unsubscribe_url_json(subscription_arn: str, base_url: str = "http://localhost:4566/") -> str:
    """The JSON text of a subscription's ``UnsubscribeURL`` (computed once per subscription)."""
    return json.dumps(
        f"{base_url}?Action=Unsubscribe&SubscriptionArn={subscription_arn}", ensure_ascii=False
    )


class NotificationText:
    """A notification's JSON text, encoded once per message and shared by its subscriptions.

    The envelopes of one message differ only in ``UnsubscribeURL``, so the text
    is kept as the part before it and the part after it; `for_subscription`
    splices in one subscription's URL. The keys are SNS's, in SNS's order.
    """

    __slots__ = ("_head", "_tail")

    def __init__(
        self,
        *,
        message_id: str,
        topic_arn: str,
        message: str,
        subject: str | None,
        timestamp: str,
        stored_attributes: str | None,
        sequence_number: str | None = None,
    ) -> None:
        # Written out rather than json.dumps of a dict: this runs once per published
        # message. Ids, sequence numbers and timestamps are plain ASCII; text is escaped.
        head = [f'{{"Type":"Notification","MessageId":"{message_id}"']
        if sequence_number is not None:
            head.append(f',"SequenceNumber":"{sequence_number}"')
        head.append(f',"TopicArn":{_json_string(topic_arn)}')
        if subject is not None:
            head.append(f',"Subject":{_json_string(subject)}')
        head.append(
            f',"Message":{_json_string(message)},"Timestamp":"{timestamp}",'
            f'"SignatureVersion":"{SIGNATURE_VERSION}","Signature":"{UNSIGNED}",'
            f'"SigningCertURL":"{SIGNING_CERT_URL}","UnsubscribeURL":'
        )
        self._head = "".join(head)
        attributes = envelope_attributes(stored_attributes)
        self._tail = (
            ',"MessageAttributes":'
            + json.dumps(attributes, separators=(",", ":"), ensure_ascii=False)
            + "}"
            if attributes
            else "}"
        )

    def for_subscription(self, unsubscribe_url_json: str) -> str:
        return self._head + unsubscribe_url_json + self._tail
