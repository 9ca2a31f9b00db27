"""SQS queue operations: create, find, list, delete, attributes, purge, dead-letter sources.

Each is a thin handler on eventyard's `Client` and `Queue`; the SQS-shaped
attribute strings are translated by `sqs_attributes`. Where eventyard and
SQS differ the handler follows SQS: a CreateQueue for an existing queue
compares only the attributes it gives (eventyard's ``create_queue``
compares them all).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from eventyard.aws.context import Call, operation
from eventyard.aws.errors import AwsError
from eventyard.aws.sqs_attributes import (
    config_changes,
    is_fifo,
    needs_stats,
    queue_attributes,
    redrive_error,
    requested_names,
)
from eventyard.aws.sqs_common import page, queue_url, the_queue, the_record
from eventyard.aws.sqs_tags import add_tags, forget
from eventyard.errors import InvalidParameterValue, QueueDoesNotExist
from eventyard.model.queue_config import QueueConfig, queue_config_for


@contextmanager
def _checking_values() -> Iterator[None]:
    """eventyard's validation of attribute values, as SQS's InvalidAttributeValue."""
    try:
        yield
    except InvalidParameterValue as exc:
        raise AwsError("InvalidAttributeValue", str(exc)) from None


@contextmanager
def _checking_dead_letter_queue(attributes: Mapping[str, str]) -> Iterator[None]:
    """The store's checks of the dead-letter target, as SQS reports a bad RedrivePolicy."""
    policy = attributes.get("RedrivePolicy", "")
    try:
        yield
    except QueueDoesNotExist:
        raise redrive_error(policy, "Dead letter target does not exist") from None
    except InvalidParameterValue as exc:
        raise redrive_error(policy, str(exc)) from None


@operation("sqs", "CreateQueue")
def create_queue(call: Call) -> dict[str, Any]:
    name = call.require("QueueName")
    queue_config_for(name)  # the name's own errors stay InvalidParameterValue
    attributes: dict[str, str] = call.params.get("Attributes") or {}
    fifo = is_fifo(name, attributes)
    changes = config_changes(attributes, fifo=fifo)
    client = call.client
    try:
        existing = client.store.get_queue(name)
    except QueueDoesNotExist:
        existing = None
    if existing is not None:
        # SQS compares only the attributes the request gives.
        with _checking_values():
            wanted = existing.config.with_changes(**changes)
        if wanted != existing.config:
            raise AwsError(
                "QueueNameExists",
                f"A queue named {name!r} already exists with different attributes "
                f"({', '.join(existing.config.differences(wanted))}).",
            )
        return {"QueueUrl": queue_url(call, name)}
    with _checking_values():
        queue_config_for(name, fifo, **changes)
    with _checking_dead_letter_queue(attributes):
        client.create_queue(name, **changes)
    tags = call.params.get("tags")
    if tags:
        add_tags(client, client.store.get_queue(name).id, tags)
    return {"QueueUrl": queue_url(call, name)}


@operation("sqs", "GetQueueUrl")
def get_queue_url(call: Call) -> dict[str, Any]:
    name = call.require("QueueName")
    owner = call.params.get("QueueOwnerAWSAccountId")
    if owner is not None and owner != call.settings.account:
        raise AwsError("QueueDoesNotExist", f"The specified queue {name!r} does not exist.")
    return {"QueueUrl": queue_url(call, the_queue(call, "QueueName").name)}


@operation("sqs", "ListQueues")
def list_queues(call: Call) -> dict[str, Any]:
    prefix = call.params.get("QueueNamePrefix") or ""
    names, token = page(call, call.client.list_queues(prefix), f"ListQueues:{prefix}")
    result: dict[str, Any] = {}
    if names:
        result["QueueUrls"] = [queue_url(call, name) for name in names]
    if token:
        result["NextToken"] = token
    return result


@operation("sqs", "DeleteQueue")
def delete_queue(call: Call) -> dict[str, Any]:
    record = the_record(call)
    call.client.delete_queue(record.name)
    forget(call.client, record.id)
    return {}


@operation("sqs", "GetQueueAttributes")
def get_queue_attributes(call: Call) -> dict[str, Any]:
    record = the_record(call)
    names = requested_names(call.params.get("AttributeNames") or [])
    if not names:
        return {}
    stats = call.client.get_queue(record.name).stats() if needs_stats(names) else None
    return {"Attributes": queue_attributes(call, record, names, stats)}


@operation("sqs", "SetQueueAttributes")
def set_queue_attributes(call: Call) -> dict[str, Any]:
    record = the_record(call)
    attributes: dict[str, str] = call.require("Attributes")
    config: QueueConfig = record.config
    if "FifoQueue" in attributes:
        is_fifo(record.name, attributes)  # it cannot change, only be restated
    changes = config_changes(attributes, fifo=config.fifo)
    with _checking_values():
        config.with_changes(**changes)
    with _checking_dead_letter_queue(attributes):
        call.client.get_queue(record.name).set_attributes(**changes)
    return {}


@operation("sqs", "PurgeQueue")
def purge_queue(call: Call) -> dict[str, Any]:
    the_queue(call).purge()
    return {}


@operation("sqs", "ListDeadLetterSourceQueues")
def list_dead_letter_source_queues(call: Call) -> dict[str, Any]:
    record = the_record(call)
    sources = call.client.dead_letter_source_queues(record.name)
    names, token = page(call, sorted(sources), f"ListDeadLetterSourceQueues:{record.name}")
    result: dict[str, Any] = {"queueUrls": [queue_url(call, name) for name in names]}
    if token:
        result["NextToken"] = token
    return result
