"""EventBridge event patterns and SNS filter policies: validate, compile once, match fast.

Usage::

    from eventyard.patterns import compile_pattern, matches, compile_filter_policy, RuleIndex

    pattern = compile_pattern({"detail-type": ["OrderPlaced"],
                               "detail": {"total": [{"numeric": [">", 1000]}]}})
    pattern.matches(event)                      # dict or JSON text -> bool

    policy = compile_filter_policy({"store": ["example_corp"]})   # scope MessageAttributes
    policy.matches(body, {"store": {"DataType": "String", "StringValue": "example_corp"}})

    rules: RuleIndex[str] = RuleIndex()
    rules.add("big-orders", pattern)
    rules.match(event)                          # -> ["big-orders"]

Malformed patterns raise ``eventyard.errors.InvalidEventPattern`` and malformed
policies ``InvalidFilterPolicy``, at compile time, never while matching.
The module is pure: no I/O, no global state. Semantics and limits: docs/patterns.md.
"""

from eventyard.patterns._event_pattern import EventPattern, compile_pattern, matches
from eventyard.patterns._filter_policy import FilterPolicy, FilterPolicyScope, compile_filter_policy
from eventyard.patterns._rule_index import RuleIndex

__all__ = [
    "EventPattern",
    "FilterPolicy",
    "FilterPolicyScope",
    "RuleIndex",
    "compile_filter_policy",
    "compile_pattern",
    "matches",
]
