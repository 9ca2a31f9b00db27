"""TagQueue, UntagQueue, ListQueueTags, and the tags CreateQueue gives.

STOPGAP: eventyard's store keeps no tags, so the endpoint keeps them in
memory, per client (one endpoint process), by the queue's stored id — a
queue deleted and created again starts without tags, as on AWS. They are
lost when the endpoint restarts and are not seen by other processes. Tags
need a place in the store (a table, or a field of the queue row) to be
durable; until then tools that only write tags and read them back within
one endpoint's life (Terraform, CDK) work.

SQS's rules are kept: at most 50 tags a queue, keys 1-128 characters and
values 0-256, keys starting with ``aws:`` reserved.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from typing import Any, Final

from eventyard.aws.context import Call, operation
from eventyard.aws.errors import AwsError
from eventyard.aws.sqs_common import the_record
from eventyard.broker.client import Client

MAX_TAGS: Final = 50
MAX_KEY_LENGTH: Final = 128
MAX_VALUE_LENGTH: Final = 256

_lock = threading.Lock()
#: client → stored queue id → tags.
_tags: weakref.WeakKeyDictionary[Client, dict[int, dict[str, str]]] = weakref.WeakKeyDictionary()


def _check(tags: Mapping[str, str]) -> None:
    for key, value in tags.items():
        if not 1 <= len(key) <= MAX_KEY_LENGTH:
            raise AwsError(
                "InvalidParameterValue",
                f"Tag key {key!r} must be 1 to {MAX_KEY_LENGTH} characters long.",
            )
        if key.lower().startswith("aws:"):
            raise AwsError(
                "InvalidParameterValue", f"Tag key {key!r}: the aws: prefix is reserved."
            )
        if len(value) > MAX_VALUE_LENGTH:
            raise AwsError(
                "InvalidParameterValue",
                f"The value of tag {key!r} is longer than {MAX_VALUE_LENGTH} characters.",
            )


def add_tags(client: Client, queue_id: int, tags: Mapping[str, str]) -> None:
    """Add or replace tags of a queue (all or none: the limit counts the result)."""
    _check(tags)
    with _lock:
        current = _tags.setdefault(client, {}).setdefault(queue_id, {})
        merged = {**current, **tags}
        if len(merged) > MAX_TAGS:
            raise AwsError(
                "InvalidParameterValue",
                f"Too many tags added for queue: it would have {len(merged)}, the limit is "
                f"{MAX_TAGS}.",
            )
        current.update(tags)


def queue_tags(client: Client, queue_id: int) -> dict[str, str]:
    with _lock:
        return dict(_tags.get(client, {}).get(queue_id, {}))


def forget(client: Client, queue_id: int) -> None:
    """Drop the tags of a deleted queue."""
    with _lock:
        _tags.get(client, {}).pop(queue_id, None)


@operation("sqs", "TagQueue")
def tag_queue(call: Call) -> dict[str, Any]:
    record = the_record(call)
    add_tags(call.client, record.id, call.require("Tags"))
    return {}


@operation("sqs", "UntagQueue")
def untag_queue(call: Call) -> dict[str, Any]:
    record = the_record(call)
    keys = call.require("TagKeys")
    with _lock:
        current = _tags.get(call.client, {}).get(record.id, {})
        for key in keys:
            current.pop(key, None)
    return {}


@operation("sqs", "ListQueueTags")
def list_queue_tags(call: Call) -> dict[str, Any]:
    tags = queue_tags(call.client, the_record(call).id)
    return {"Tags": tags} if tags else {}
