"""SNS subscription operations: Subscribe, Unsubscribe, the two listings, Get/Set attributes.

Endpoints as SNS names them, and what eventyard subscribes:

* ``sqs``: a queue ARN (``arn:aws:sqs:<region>:<account>:<name>``) → the queue;
* ``http`` / ``https``: a URL → an eventyard webhook (posted by a dispatcher);
* ``lambda``: ``arn:aws:lambda:<region>:<account>:function:<name>`` → the
  eventyard function of that name (declared by an App).

Subscription attributes map onto eventyard's subscription options:
``FilterPolicy`` (``""`` or ``"{}"`` removes it), ``FilterPolicyScope``,
``RawMessageDelivery`` and ``RedrivePolicy`` (``{"deadLetterTargetArn": <queue
ARN>}``, ``""`` removes it). eventyard needs no confirmation: every
subscription is confirmed when it is made, so ``ReturnSubscriptionArn`` changes
nothing and ``SubscriptionsPending`` is always 0.
"""

from __future__ import annotations

import json
from typing import Any

from eventyard.aws.context import Call
from eventyard.aws.sns_common import (
    arn_resource,
    boolean,
    invalid,
    page,
    sns_operation,
    subscription_arn,
    subscription_id,
    text,
    the_topic,
    topic_arn,
    topic_name,
)
from eventyard.store.records import SubscriptionRecord


def _endpoint(protocol: str, endpoint: object) -> str:
    """What `Topic.subscribe` takes for an SNS protocol and endpoint."""
    if not isinstance(endpoint, str) or not endpoint:
        raise invalid(f"Endpoint: protocol {protocol} needs an endpoint")
    if protocol == "sqs":
        return arn_resource(endpoint, "sqs", "SQS endpoint ARN")[0]
    if protocol in ("http", "https"):
        if not endpoint.lower().startswith(f"{protocol}://"):
            raise invalid(f"Endpoint: {endpoint!r} is not an {protocol}:// URL")
        return endpoint
    if protocol == "lambda":
        fields = endpoint.split(":")
        if (
            len(fields) in (7, 8)
            and fields[:3] == ["arn", "aws", "lambda"]
            and fields[5] == "function"
        ):
            return f"function:{fields[6]}"
        raise invalid(f"Endpoint: {endpoint!r} is not a Lambda function ARN")
    raise invalid(
        f"Protocol: eventyard does not deliver to {protocol!r} endpoints (it delivers to sqs, "
        "http, https and lambda)"
    )


def _dead_letter_queue(value: str) -> str | None:
    if not value.strip():
        return None
    try:
        policy = json.loads(value)
    except ValueError:
        raise invalid(f"RedrivePolicy: {value!r} is not JSON") from None
    target = policy.get("deadLetterTargetArn") if isinstance(policy, dict) else None
    if not isinstance(target, str):
        raise invalid('RedrivePolicy: it must be {"deadLetterTargetArn": "<SQS queue ARN>"}')
    return arn_resource(target, "sqs", "RedrivePolicy: deadLetterTargetArn")[0]


def options(attributes: dict[str, str]) -> dict[str, Any]:
    """`Topic.subscribe` / `Subscription.set_attributes` keywords for SNS attributes."""
    found: dict[str, Any] = {}
    for name, value in attributes.items():
        if name == "FilterPolicy":
            found["filter_policy"] = None if value.strip() in ("", "{}") else value
        elif name == "FilterPolicyScope":
            found["filter_policy_scope"] = value
        elif name == "RawMessageDelivery":
            found["raw"] = boolean(name, value)
        elif name == "RedrivePolicy":
            found["dead_letter_queue"] = _dead_letter_queue(value)
        else:
            raise invalid(
                f"Attributes: eventyard does not support the subscription attribute {name} (it "
                "supports FilterPolicy, FilterPolicyScope, RawMessageDelivery, RedrivePolicy)"
            )
    return found


def _protocol_and_endpoint(call: Call, record: SubscriptionRecord) -> tuple[str, str]:
    config = record.config
    if config.protocol == "sqs":
        return "sqs", call.settings.arn("sqs", config.endpoint)
    if config.protocol == "function":
        return "lambda", call.settings.arn("lambda", f"function:{config.endpoint}")
    return config.protocol, config.endpoint


def _summary(call: Call, record: SubscriptionRecord) -> dict[str, str]:
    protocol, endpoint = _protocol_and_endpoint(call, record)
    return {
        "SubscriptionArn": subscription_arn(call, record.topic_name, record.id),
        "Owner": call.settings.account,
        "Protocol": protocol,
        "Endpoint": endpoint,
        "TopicArn": topic_arn(call, record.topic_name),
    }


@sns_operation("Subscribe")
def subscribe(call: Call) -> dict[str, Any]:
    topic = the_topic(call)
    protocol = str(call.require("Protocol"))
    target = _endpoint(protocol, call.params.get("Endpoint"))
    subscription = topic.subscribe(target, **options(call.params.get("Attributes") or {}))
    return {"SubscriptionArn": subscription_arn(call, topic.name, subscription.id)}


@sns_operation("Unsubscribe")
def unsubscribe(call: Call) -> dict[str, Any]:
    call.client.unsubscribe(subscription_id(call.require("SubscriptionArn")))
    return {}


@sns_operation("ListSubscriptions")
def list_subscriptions(call: Call) -> dict[str, Any]:
    records, token = page(
        call.client.store.list_subscriptions(None),
        lambda r: (r.topic_name, r.created_at_ms, r.id),
        call.params.get("NextToken"),
    )
    return {"Subscriptions": [_summary(call, r) for r in records], "NextToken": token}


@sns_operation("ListSubscriptionsByTopic")
def list_subscriptions_by_topic(call: Call) -> dict[str, Any]:
    name = topic_name(call.require("TopicArn"))
    records, token = page(
        call.client.store.list_subscriptions(name),
        lambda r: (r.created_at_ms, r.id),
        call.params.get("NextToken"),
    )
    return {"Subscriptions": [_summary(call, r) for r in records], "NextToken": token}


@sns_operation("GetSubscriptionAttributes")
def get_subscription_attributes(call: Call) -> dict[str, Any]:
    record = call.client.store.get_subscription(subscription_id(call.require("SubscriptionArn")))
    config = record.config
    attributes = _summary(call, record)
    attributes.update(
        ConfirmationWasAuthenticated="true",
        PendingConfirmation="false",
        RawMessageDelivery=text(config.raw_message_delivery),
    )
    if config.filter_policy is not None:
        attributes["FilterPolicy"] = config.filter_policy
        attributes["FilterPolicyScope"] = config.filter_policy_scope
    if config.dead_letter_queue is not None:
        target = call.settings.arn("sqs", config.dead_letter_queue)
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": target})
    return {"Attributes": attributes}


@sns_operation("SetSubscriptionAttributes")
def set_subscription_attributes(call: Call) -> dict[str, Any]:
    subscription = call.client.get_subscription(subscription_id(call.require("SubscriptionArn")))
    name = str(call.require("AttributeName"))
    subscription.set_attributes(**options({name: call.params.get("AttributeValue") or ""}))
    return {}
