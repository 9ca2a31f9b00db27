"""EventBridge targets: PutTargets, RemoveTargets, ListTargetsByRule, ListRuleNamesByTarget.

A target ``Arn`` names what eventyard can deliver to: an SQS queue, an SNS
topic, another event bus, or a function declared in an eventyard App (as a
Lambda function ARN); an http(s) URL is a webhook (eventyard's stand-in for
API destinations). Each target is put on its own (`Rule.add_target`), so a
bad one (an unknown queue, an invalid input transformer) is reported in
``FailedEntries`` while the others are kept; the limit of five targets is
checked for the whole request first, as EventBridge refuses it outright.
"""

from __future__ import annotations

import json
from typing import Any

from eventyard.aws.context import Call
from eventyard.aws.errors import AwsError
from eventyard.aws.events_common import (
    bus_arn,
    events_error,
    events_operation,
    invalid,
    page,
    the_bus,
)
from eventyard.broker.rule import Rule
from eventyard.errors import EventyardError
from eventyard.model import limits
from eventyard.model.bus_config import TargetConfig

_PREFIXES = ("arn:aws:sqs:", "arn:aws:sns:")


def _endpoint(arn: str) -> str:
    """The target as `Rule.add_target` takes it (ARNs of queues, topics and buses as they are)."""
    if arn.startswith(_PREFIXES) or arn.lower().startswith(("http://", "https://")):
        return arn
    if arn.startswith("arn:aws:events:") and ":event-bus/" in arn:
        return arn
    if arn.startswith("arn:aws:lambda:") and ":function:" in arn:
        name = arn.split(":function:", 1)[1].split(":", 1)[0]  # without a version or alias
        return f"function:{name}"
    raise invalid(
        f"target Arn {arn!r} is not supported by eventyard: use an SQS queue, an SNS topic, an "
        "event bus, a Lambda function (an eventyard function) or an http(s) URL"
    )


def _put_one(rule: Rule, target: dict[str, Any]) -> None:
    retry = target.get("RetryPolicy") or {}
    dead_letter = (target.get("DeadLetterConfig") or {}).get("Arn")
    if dead_letter is not None and not dead_letter.startswith("arn:aws:sqs:"):
        raise invalid(f"DeadLetterConfig Arn {dead_letter!r} must be an SQS queue ARN")
    rule.add_target(
        _endpoint(target["Arn"]),
        id=target["Id"],
        input=target.get("Input"),
        input_path=target.get("InputPath"),
        input_transformer=target.get("InputTransformer"),
        max_attempts=retry.get("MaximumRetryAttempts"),
        max_event_age_seconds=retry.get("MaximumEventAgeInSeconds"),
        dead_letter_queue=dead_letter,
        group_id=(target.get("SqsParameters") or {}).get("MessageGroupId"),
    )


@events_operation("PutTargets")
def put_targets(call: Call) -> dict[str, Any]:
    rule = the_bus(call).rule(call.require("Rule"))
    targets: list[dict[str, Any]] = call.require("Targets")
    ids = {target["Id"] for target in targets} | {t.target_id for t in rule.targets()}
    if len(ids) > limits.RULE_TARGETS_MAX:
        raise AwsError(
            "LimitExceededException",
            f"The requested resource exceeds the maximum number allowed: rule {rule.name} "
            f"would have {len(ids)} targets; a rule may have at most {limits.RULE_TARGETS_MAX}",
        )
    failed: list[dict[str, Any]] = []
    for target in targets:
        try:
            _put_one(rule, target)
        except (EventyardError, AwsError) as exc:
            error = events_error(exc) if isinstance(exc, EventyardError) else exc
            failed.append(
                {"TargetId": target["Id"], "ErrorCode": error.code, "ErrorMessage": error.message}
            )
    return {"FailedEntryCount": len(failed), "FailedEntries": failed}


@events_operation("RemoveTargets")
def remove_targets(call: Call) -> dict[str, Any]:
    rule = the_bus(call).rule(call.require("Rule"))
    for target_id in call.require("Ids"):
        rule.remove_target(target_id)
    return {"FailedEntryCount": 0, "FailedEntries": []}


def target_arn(call: Call, config: TargetConfig) -> str:
    """The ARN a target is listed with (a webhook's URL as it is)."""
    if config.kind == "queue":
        return call.settings.arn("sqs", config.endpoint)
    if config.kind == "topic":
        return call.settings.arn("sns", config.endpoint)
    if config.kind == "bus":
        return bus_arn(call, config.endpoint)
    if config.kind == "function":
        return call.settings.arn("lambda", f"function:{config.endpoint}")
    return config.endpoint


def _target_entry(call: Call, config: TargetConfig) -> dict[str, Any]:
    entry: dict[str, Any] = {"Id": config.target_id, "Arn": target_arn(call, config)}
    shape: dict[str, Any] = json.loads(config.input_shape)
    if "input" in shape:
        entry["Input"] = shape["input"]
    if "input_path" in shape:
        entry["InputPath"] = shape["input_path"]
    if "input_transformer" in shape:
        transformer = shape["input_transformer"]
        entry["InputTransformer"] = {
            "InputPathsMap": transformer["input_paths_map"],
            "InputTemplate": transformer["input_template"],
        }
    if (config.max_attempts, config.max_event_age_seconds) != (
        limits.TARGET_RETRY_ATTEMPTS_DEFAULT,
        limits.TARGET_EVENT_AGE_DEFAULT_SECONDS,
    ):
        entry["RetryPolicy"] = {
            "MaximumRetryAttempts": config.max_attempts,
            "MaximumEventAgeInSeconds": config.max_event_age_seconds,
        }
    if config.dead_letter_queue is not None:
        entry["DeadLetterConfig"] = {"Arn": call.settings.arn("sqs", config.dead_letter_queue)}
    if config.group_id is not None:
        entry["SqsParameters"] = {"MessageGroupId": config.group_id}
    return entry


@events_operation("ListTargetsByRule")
def list_targets_by_rule(call: Call) -> dict[str, Any]:
    rule = the_bus(call).rule(call.require("Rule"))
    chunk, token = page(call, rule.targets(), lambda config: config.target_id)
    return {"Targets": [_target_entry(call, config) for config in chunk], "NextToken": token}


@events_operation("ListRuleNamesByTarget")
def list_rule_names_by_target(call: Call) -> dict[str, Any]:
    wanted: str = call.require("TargetArn")
    names = [
        rule.name
        for rule in the_bus(call).rules()
        if any(target_arn(call, config) == wanted for config in rule.targets())
    ]
    chunk, token = page(call, names, lambda name: name)
    return {"RuleNames": chunk, "NextToken": token}
