"""The names SQS's query protocol uses, which botocore's SQS model no longer carries.

SQS moved its model from the query protocol to JSON 1.0 in 2023; the JSON
model dropped the ``locationName``s of the query wire (``Attribute.1.Name``,
``MessageAttribute.1.Value.StringValue``, ``SendMessageBatchRequestEntry.1.Id``,
``<Message>`` ...) and the legacy error codes (``AWS.SimpleQueueService.
NonExistentQueue``). SQS still answers the query protocol with them, and
JSON answers still carry the legacy code in ``x-amzn-query-error`` (botocore
shows it as ``Error.Code`` and picks the exception class from ``__type``).

`with_query_names` puts them back into the raw model before botocore reads
it (`shapes.service_model` calls it); the JSON protocol is unaffected, as
it names members by their member names. (Each answer's ``<ActionResult>``
wrapper is put back too, for SDKs that read the model as a query one.)
The names follow the last query
model of SQS (botocore before 1.31.63) and the SQS API reference; the one
list added since (``MessageSystemAttributeNames``) is named as the
reference documents it (``MessageSystemAttributeName.N``).
"""

from __future__ import annotations

import copy
from typing import Any, Final

XML_NAMESPACE: Final = "http://queue.amazonaws.com/doc/2012-11-05/"

#: structure → member → the member's name on the query wire.
_MEMBERS: Final[dict[str, dict[str, str]]] = {
    "CreateQueueRequest": {"Attributes": "Attribute", "tags": "Tag"},
    "SetQueueAttributesRequest": {"Attributes": "Attribute"},
    "GetQueueAttributesResult": {"Attributes": "Attribute"},
    "SendMessageRequest": {
        "MessageAttributes": "MessageAttribute",
        "MessageSystemAttributes": "MessageSystemAttribute",
    },
    "SendMessageBatchRequestEntry": {
        "MessageAttributes": "MessageAttribute",
        "MessageSystemAttributes": "MessageSystemAttribute",
    },
    "Message": {"Attributes": "Attribute", "MessageAttributes": "MessageAttribute"},
    "MessageAttributeValue": {
        "StringListValues": "StringListValue",
        "BinaryListValues": "BinaryListValue",
    },
    "MessageSystemAttributeValue": {
        "StringListValues": "StringListValue",
        "BinaryListValues": "BinaryListValue",
    },
    "TagQueueRequest": {"Tags": "Tag"},
    "ListQueueTagsResult": {"Tags": "Tag"},
}

#: list → the name of each item.
_LIST_ITEMS: Final[dict[str, str]] = {
    "AWSAccountIdList": "AWSAccountId",
    "ActionNameList": "ActionName",
    "AttributeNameList": "AttributeName",
    "MessageSystemAttributeList": "MessageSystemAttributeName",
    "MessageAttributeNameList": "MessageAttributeName",
    "QueueUrlList": "QueueUrl",
    "TagKeyList": "TagKey",
    "StringList": "StringListValue",
    "BinaryList": "BinaryListValue",
    "MessageList": "Message",
    "SendMessageBatchRequestEntryList": "SendMessageBatchRequestEntry",
    "DeleteMessageBatchRequestEntryList": "DeleteMessageBatchRequestEntry",
    "ChangeMessageVisibilityBatchRequestEntryList": "ChangeMessageVisibilityBatchRequestEntry",
    "SendMessageBatchResultEntryList": "SendMessageBatchResultEntry",
    "DeleteMessageBatchResultEntryList": "DeleteMessageBatchResultEntry",
    "ChangeMessageVisibilityBatchResultEntryList": "ChangeMessageVisibilityBatchResultEntry",
    "BatchResultErrorEntryList": "BatchResultErrorEntry",
    "ListMessageMoveTasksResultEntryList": "ListMessageMoveTasksResultEntry",
}

#: map → (key name, value name).
_MAP_ENTRIES: Final[dict[str, tuple[str, str]]] = {
    "QueueAttributeMap": ("Name", "Value"),
    "MessageBodyAttributeMap": ("Name", "Value"),
    "MessageBodySystemAttributeMap": ("Name", "Value"),
    "MessageSystemAttributeMap": ("Name", "Value"),
    "TagMap": ("Key", "Value"),
}

#: error shape → (legacy code, HTTP status); the sender is at fault for all of them.
_ERRORS: Final[dict[str, tuple[str, int]]] = {
    "QueueDoesNotExist": ("AWS.SimpleQueueService.NonExistentQueue", 400),
    "QueueDeletedRecently": ("AWS.SimpleQueueService.QueueDeletedRecently", 400),
    "QueueNameExists": ("QueueAlreadyExists", 400),
    "PurgeQueueInProgress": ("AWS.SimpleQueueService.PurgeQueueInProgress", 403),
    "MessageNotInflight": ("AWS.SimpleQueueService.MessageNotInflight", 400),
    "TooManyEntriesInBatchRequest": ("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400),
    "EmptyBatchRequest": ("AWS.SimpleQueueService.EmptyBatchRequest", 400),
    "BatchEntryIdsNotDistinct": ("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400),
    "InvalidBatchEntryId": ("AWS.SimpleQueueService.InvalidBatchEntryId", 400),
    "BatchRequestTooLong": ("AWS.SimpleQueueService.BatchRequestTooLong", 400),
    "UnsupportedOperation": ("AWS.SimpleQueueService.UnsupportedOperation", 400),
    "OverLimit": ("OverLimit", 403),
    "ResourceNotFoundException": ("ResourceNotFoundException", 404),
}


def with_query_names(raw: dict[str, Any]) -> dict[str, Any]:
    """A copy of botocore's raw SQS model with the query names and legacy error codes."""
    model = copy.deepcopy(raw)
    shapes: dict[str, dict[str, Any]] = model["shapes"]
    model["metadata"].setdefault("xmlNamespace", XML_NAMESPACE)
    for name, operation in model["operations"].items():
        if "output" in operation:
            operation["output"].setdefault("resultWrapper", f"{name}Result")
    for structure, members in _MEMBERS.items():
        for member, name in members.items():
            shapes[structure]["members"][member]["locationName"] = name
    for list_name, item in _LIST_ITEMS.items():
        shapes[list_name]["member"]["locationName"] = item
    for map_name, (key, value) in _MAP_ENTRIES.items():
        shapes[map_name]["key"]["locationName"] = key
        shapes[map_name]["value"]["locationName"] = value
    for error, (code, status) in _ERRORS.items():
        shapes[error].setdefault(
            "error", {"code": code, "httpStatusCode": status, "senderFault": True}
        )
    return model
