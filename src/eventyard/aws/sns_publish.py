"""SNS Publish and PublishBatch: messages into a topic, fanned out by `Topic`.

Both go through `Topic.publish_batch`, whose results carry the FIFO sequence
number that `Topic.publish` does not return. Message attributes arrive in
SNS's shape (``DataType`` with ``StringValue`` or ``BinaryValue``), which
eventyard takes as they are.

``MessageStructure=json``: the message is a JSON object of texts by protocol
with a ``default``. SNS sends each subscription its protocol's text;
eventyard's fan-out sends one text to every subscription of a publish, so the
text is the one every current subscriber's protocol chooses (``sqs``,
``http``, ``https``, ``lambda``, else ``default``), and a publish whose
subscribers would get different texts is refused instead of delivering
something other than what SNS would.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from eventyard.aws import errors
from eventyard.aws.context import Call
from eventyard.aws.errors import AwsError
from eventyard.aws.sns_common import invalid, sns_error, sns_operation, the_topic, topic_name
from eventyard.broker.batch import check_batch_shape
from eventyard.broker.topic import PublishEntry, Topic

#: The key of each eventyard protocol's text in a MessageStructure=json message.
_STRUCTURE_KEYS: Final = {"sqs": "sqs", "http": "http", "https": "https", "function": "lambda"}


def _target(call: Call) -> Topic:
    """The topic of ``TopicArn`` or ``TargetArn`` (eventyard has no SMS or mobile endpoints)."""
    if call.params.get("PhoneNumber"):
        raise invalid("PhoneNumber: eventyard does not send SMS; publish to a topic")
    topic, target = call.params.get("TopicArn"), call.params.get("TargetArn")
    if topic and target:
        raise invalid("TopicArn or TargetArn Reason: give only one of them")
    if target:
        return call.client.get_topic(topic_name(target, "TargetArn"))
    if not topic:
        raise invalid("TopicArn or TargetArn Reason: no value for required parameter")
    return the_topic(call)


def _protocols(call: Call, topic: Topic) -> set[str]:
    records = call.client.store.list_subscriptions(topic.name)
    return {_STRUCTURE_KEYS.get(record.config.protocol, "default") for record in records}


def structured(message: str, structure: object, protocols: set[str]) -> str:
    """The text to publish for a message and its ``MessageStructure``."""
    if structure is None:
        return message
    if structure != "json":
        raise invalid(f"MessageStructure: {structure!r} is not json")
    try:
        texts = json.loads(message)
    except ValueError:
        raise invalid("Message Structure - JSON message body failed to parse") from None
    if not isinstance(texts, dict) or "default" not in texts:
        raise invalid("Message Structure - No default entry in JSON message body")
    chosen = {texts.get(protocol, texts["default"]) for protocol in protocols}
    chosen = chosen or {texts["default"]}
    if not all(isinstance(text, str) for text in chosen):
        raise invalid("Message Structure - the message of each protocol must be a string")
    if len(chosen) > 1:
        raise invalid(
            "Message Structure - the topic's subscriptions ("
            + ", ".join(sorted(protocols))
            + ") would get different messages; eventyard publishes one message to every "
            "subscription"
        )
    return str(chosen.pop())


def _entry(entry_id: str, params: Mapping[str, Any], protocols: set[str]) -> PublishEntry:
    message = params.get("Message")
    if not isinstance(message, str):
        raise AwsError("MissingParameter", "the request must contain the parameter Message")
    return PublishEntry(
        structured(message, params.get("MessageStructure"), protocols),
        entry_id,
        params.get("Subject"),
        params.get("MessageAttributes") or None,
        params.get("MessageGroupId"),
        params.get("MessageDeduplicationId"),
    )


@sns_operation("Publish")
def publish(call: Call) -> dict[str, Any]:
    topic = _target(call)
    protocols = _protocols(call, topic) if call.params.get("MessageStructure") else set()
    [result] = topic.publish_batch([_entry("0", call.params, protocols)])
    if result.error is not None:
        raise result.error
    return {"MessageId": result.message_id, "SequenceNumber": result.sequence_number}


def _failure(entry_id: str, error: AwsError) -> dict[str, Any]:
    return errors.batch_failure("sns", entry_id, error)


@sns_operation("PublishBatch")
def publish_batch(call: Call) -> dict[str, Any]:
    """Whole-batch mistakes fail the call; an entry's own mistakes fail only it."""
    topic = the_topic(call)
    items: list[dict[str, Any]] = call.params.get("PublishBatchRequestEntries") or []
    check_batch_shape([str(item.get("Id") or "") for item in items], "PublishBatch")
    structures = any(item.get("MessageStructure") for item in items)
    protocols = _protocols(call, topic) if structures else set()
    successful: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    entries: list[PublishEntry] = []
    for item in items:
        try:
            entries.append(_entry(item["Id"], item, protocols))
        except AwsError as error:
            failed.append(_failure(item["Id"], error))
    for result in topic.publish_batch(entries) if entries else []:
        if result.error is None:
            successful.append(
                {
                    "Id": result.id,
                    "MessageId": result.message_id,
                    "SequenceNumber": result.sequence_number,
                }
            )
        else:
            failed.append(_failure(result.id, sns_error(result.error)))
    return {"Successful": successful, "Failed": failed}
