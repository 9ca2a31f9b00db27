"""EventBridge rules: PutRule, DescribeRule, ListRules, DeleteRule, EnableRule, DisableRule.

Rules are eventyard's own (`EventBus.put_rule`): the pattern is compiled when
the rule is put, so an invalid one is refused there with
``InvalidEventPatternException``, and scheduled rules fire from a dispatcher
(``eventyard worker`` or `Client.dispatcher`), not from the endpoint.
"""

from __future__ import annotations

import json
from typing import Any, Final

from eventyard.aws.context import Call
from eventyard.aws.events_common import events_operation, invalid, page, rule_arn, the_bus
from eventyard.broker.rule import Rule
from eventyard.errors import ResourceInUse, RuleDoesNotExist

_STATES: Final = ("ENABLED", "DISABLED")


@events_operation("PutRule")
def put_rule(call: Call) -> dict[str, Any]:
    name = call.require("Name")
    state = call.params.get("State", "ENABLED")
    if state not in _STATES:
        raise invalid(f"State {state!r} is not supported by eventyard: use ENABLED or DISABLED")
    pattern = call.params.get("EventPattern")
    schedule = call.params.get("ScheduleExpression")
    if pattern is None and schedule is None:
        raise invalid("Parameter(s) EventPattern or ScheduleExpression must be specified.")
    rule = the_bus(call).put_rule(
        name,
        pattern=pattern,
        schedule=schedule,
        enabled=state == "ENABLED",
        description=call.params.get("Description"),
    )
    return {"RuleArn": rule_arn(call, rule.bus, rule.name)}


def _rule_entry(call: Call, rule: Rule) -> dict[str, Any]:
    pattern = rule.pattern
    return {
        "Name": rule.name,
        "Arn": rule_arn(call, rule.bus, rule.name),
        "EventPattern": None
        if pattern is None
        else json.dumps(pattern, separators=(",", ":"), ensure_ascii=False),
        "ScheduleExpression": rule.schedule,
        "State": "ENABLED" if rule.enabled else "DISABLED",
        "Description": rule.description,
        "EventBusName": rule.bus,
    }


@events_operation("DescribeRule")
def describe_rule(call: Call) -> dict[str, Any]:
    rule = the_bus(call).rule(call.require("Name"))
    return {**_rule_entry(call, rule), "CreatedBy": call.settings.account}


@events_operation("ListRules")
def list_rules(call: Call) -> dict[str, Any]:
    prefix = call.params.get("NamePrefix", "")
    rules = [rule for rule in the_bus(call).rules() if rule.name.startswith(prefix)]
    chunk, token = page(call, rules, lambda rule: rule.name)
    return {"Rules": [_rule_entry(call, rule) for rule in chunk], "NextToken": token}


@events_operation("DeleteRule")
def delete_rule(call: Call) -> dict[str, Any]:
    """Deleting a rule that is not there succeeds (as in EventBridge); its bus must exist.

    ``Force`` also removes the rule's targets (eventyard's meaning; EventBridge
    uses it for managed rules and always wants the targets removed first).
    """
    name = call.require("Name")
    bus = the_bus(call)
    try:
        bus.delete_rule(name, force=bool(call.params.get("Force", False)))
    except RuleDoesNotExist:
        pass
    except ResourceInUse as exc:
        raise invalid(f"Rule can't be deleted since it has targets: {exc}") from None
    return {}


@events_operation("EnableRule")
def enable_rule(call: Call) -> dict[str, Any]:
    the_bus(call).rule(call.require("Name")).enable()
    return {}


@events_operation("DisableRule")
def disable_rule(call: Call) -> dict[str, Any]:
    the_bus(call).rule(call.require("Name")).disable()
    return {}
