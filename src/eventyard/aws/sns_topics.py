"""SNS topic operations: CreateTopic, ListTopics, DeleteTopic, Get/SetTopicAttributes.

A topic's stored attributes are what eventyard keeps of a topic: FIFO or
not, and content-based deduplication (fixed when the topic is created; the
store has no update of a topic). The attributes SNS reports about access,
encryption and delivery are answered with SNS's defaults, which are also
what eventyard does (every caller may do everything; webhooks are retried 3
times 20 s apart); attributes that would change them, or that eventyard
does not keep (a display name, tags), are refused rather than dropped, so
nothing is set that reads back differently.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any, Final

from eventyard.aws.context import Call
from eventyard.aws.errors import AwsError
from eventyard.aws.sns_common import (
    boolean,
    invalid,
    page,
    sns_operation,
    text,
    topic_arn,
    topic_name,
)
from eventyard.errors import TopicDoesNotExist
from eventyard.model import limits
from eventyard.store.records import TopicRecord

_STORED: Final = ("FifoTopic", "ContentBasedDeduplication")


def _unsupported(name: str) -> AwsError:
    return invalid(
        f"Attributes: eventyard does not support the topic attribute {name} (it keeps "
        f"{' and '.join(_STORED)})"
    )


def default_policy(arn: str, account: str) -> str:
    """The access policy SNS gives a new topic: the owner may do everything."""
    actions = [
        "SNS:GetTopicAttributes",
        "SNS:SetTopicAttributes",
        "SNS:AddPermission",
        "SNS:RemovePermission",
        "SNS:DeleteTopic",
        "SNS:Subscribe",
        "SNS:ListSubscriptionsByTopic",
        "SNS:Publish",
    ]
    policy = {
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [
            {
                "Sid": "__default_statement_ID",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": actions,
                "Resource": arn,
                "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
            }
        ],
    }
    return json.dumps(policy, separators=(",", ":"))


def effective_delivery_policy(retries: int, delay_seconds: int) -> str:
    """SNS's delivery policy for eventyard's webhook retries (a fixed delay, linear)."""
    policy = {
        "http": {
            "defaultHealthyRetryPolicy": {
                "minDelayTarget": delay_seconds,
                "maxDelayTarget": delay_seconds,
                "numRetries": retries,
                "numMaxDelayRetries": 0,
                "numNoDelayRetries": 0,
                "numMinDelayRetries": 0,
                "backoffFunction": "linear",
            },
            "disableSubscriptionOverrides": False,
            "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"},
        }
    }
    return json.dumps(policy, separators=(",", ":"))


@sns_operation("CreateTopic")
def create_topic(call: Call) -> dict[str, Any]:
    name = call.require("Name")
    attributes: dict[str, str] = call.params.get("Attributes") or {}
    if call.params.get("Tags"):
        raise invalid("Tags: eventyard does not store tags")
    if call.params.get("DataProtectionPolicy"):
        raise invalid("DataProtectionPolicy: eventyard does not support data protection")
    for key, value in attributes.items():
        if key not in _STORED and not (key == "DisplayName" and value == ""):
            raise _unsupported(key)
    fifo = boolean("FifoTopic", attributes["FifoTopic"]) if "FifoTopic" in attributes else False
    if isinstance(name, str) and name.endswith(limits.FIFO_SUFFIX) != fifo:
        raise invalid(
            "Topic Name: a FIFO topic's name ends in .fifo and it is created with the "
            "FifoTopic attribute true; other topics' names do not end in .fifo"
        )
    deduplication = attributes.get("ContentBasedDeduplication")
    topic = call.client.create_topic(
        name,
        fifo=fifo,
        content_based_deduplication=(
            None if deduplication is None else boolean("ContentBasedDeduplication", deduplication)
        ),
    )
    return {"TopicArn": topic_arn(call, topic.name)}


@sns_operation("ListTopics")
def list_topics(call: Call) -> dict[str, Any]:
    names, token = page(
        call.client.list_topics(), lambda name: (name,), call.params.get("NextToken")
    )
    return {"Topics": [{"TopicArn": topic_arn(call, name)} for name in names], "NextToken": token}


@sns_operation("DeleteTopic")
def delete_topic(call: Call) -> dict[str, Any]:
    """Deleting a topic that does not exist succeeds, as in SNS."""
    with contextlib.suppress(TopicDoesNotExist):
        call.client.delete_topic(topic_name(call.require("TopicArn")))
    return {}


def _attributes(call: Call, record: TopicRecord, subscriptions: int) -> dict[str, str]:
    arn = topic_arn(call, record.name)
    account = call.settings.account
    attributes = {
        "TopicArn": arn,
        "Owner": account,
        "DisplayName": "",
        "Policy": default_policy(arn, account),
        "EffectiveDeliveryPolicy": effective_delivery_policy(
            limits.WEBHOOK_RETRIES_DEFAULT, limits.WEBHOOK_RETRY_DELAY_DEFAULT_SECONDS
        ),
        "SubscriptionsConfirmed": text(subscriptions),
        "SubscriptionsPending": "0",
        "SubscriptionsDeleted": "0",
    }
    if record.fifo:
        attributes["FifoTopic"] = "true"
        attributes["ContentBasedDeduplication"] = text(record.config.content_based_deduplication)
    return attributes


@sns_operation("GetTopicAttributes")
def get_topic_attributes(call: Call) -> dict[str, Any]:
    name = topic_name(call.require("TopicArn"))
    record = call.client.store.get_topic(name)
    subscriptions = call.client.store.list_subscriptions(name)
    return {"Attributes": _attributes(call, record, len(subscriptions))}


@sns_operation("SetTopicAttributes")
def set_topic_attributes(call: Call) -> dict[str, Any]:
    """Setting an attribute to the value it has succeeds; changing one is refused.

    eventyard fixes a topic's FIFO-ness and content-based deduplication when it
    is created (SNS lets the latter change).
    """
    name = topic_name(call.require("TopicArn"))
    attribute = call.require("AttributeName")
    value = call.params.get("AttributeValue") or ""
    record = call.client.store.get_topic(name)
    current = _attributes(call, record, 0)
    if attribute in _STORED:
        if boolean(attribute, value) != (current.get(attribute) == "true"):
            raise invalid(
                f"{attribute}: eventyard cannot change it after the topic is created; delete "
                "and create the topic again"
            )
        return {}
    if attribute == "DisplayName" and value == "":
        return {}
    raise _unsupported(attribute)
