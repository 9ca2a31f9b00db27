"""SNS subscription filter policies, on message attributes or on the message body.

What it is: ``FilterPolicy`` and ``compile_filter_policy``. A policy uses the
event-pattern grammar without ``wildcard``, plus the SNS limits: at most 5 keys,
at most 150 value combinations, at most 256 KiB. With scope
``MessageAttributes`` (the default) the policy is flat and tests the
message attributes; with ``MessageBody`` it may nest and tests the JSON body.

What it is not: the operators or the walk (shared with event patterns, see
``_operators`` and ``_fields``), or delivery.

Attributes, as SNS reads them: ``String`` (and custom ``String.x`` types) are
strings, ``Number`` (and ``Number.x``) are numbers, ``String.Array`` is a JSON
array whose elements all count, and ``Binary`` attributes are ignored (for the
policy they do not exist, so only ``exists: false`` can match them).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, Final, Literal

from eventyard.errors import InvalidFilterPolicy
from eventyard.patterns._compiled import CompiledJson
from eventyard.patterns._fields import PathNode, branch_matches, build_trie, collect
from eventyard.patterns._syntax import Branch, compile_syntax, filter_policy_dialect

FilterPolicyScope = Literal["MessageAttributes", "MessageBody"]
SCOPES: Final = ("MessageAttributes", "MessageBody")

#: SNS: "A filter policy can have a maximum of five keys" -- counted here as the
#: leaf paths of the widest ``$or`` alternative (nesting keys do not count).
MAX_KEYS: Final = 5
#: SNS: the total combination of values must not exceed 150. Per ``$or``
#: alternative it is the product, over its keys, of (number of values x the
#: key's nesting level); alternatives add up.
MAX_COMBINATIONS: Final = 150

_NUMBER_TEXT: Final = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_INTEGER_TEXT: Final = re.compile(r"[+-]?\d+", re.ASCII)


class FilterPolicy(CompiledJson):
    """A validated, compiled SNS filter policy with its scope. Immutable and hashable."""

    __slots__ = ("_branches", "_scope", "_trie")

    _scope: FilterPolicyScope
    _branches: tuple[Branch, ...]
    _trie: PathNode

    def __init__(
        self,
        source: Mapping[str, Any] | str | bytes,
        scope: FilterPolicyScope = "MessageAttributes",
    ) -> None:
        if scope not in SCOPES:
            raise InvalidFilterPolicy(
                f"Filter policy scope must be MessageAttributes or MessageBody, got {scope!r}"
            )
        compiled = compile_syntax(source, filter_policy_dialect(nested=scope == "MessageBody"))
        _check_limits(compiled.branches)
        object.__setattr__(self, "_json", compiled.canonical_json)
        object.__setattr__(self, "_scope", scope)
        object.__setattr__(self, "_branches", compiled.branches)
        object.__setattr__(self, "_trie", build_trie(compiled.paths))

    @property
    def scope(self) -> FilterPolicyScope:
        return self._scope

    def matches(
        self,
        body: str | bytes | Mapping[str, Any] | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> bool:
        """Would a message with this body and these message attributes be delivered?

        ``attributes`` has the SNS/SQS shape ``{"name": {"DataType": "String",
        "StringValue": "..."}}`` (``Type``/``Value`` as in an SNS notification
        also work). With scope ``MessageBody``, a body that is not a JSON object
        matches nothing. Never raises for any body or attributes.
        """
        if self._scope == "MessageBody":
            document = _body_document(body)
        else:
            document = _attribute_document(attributes)
        if document is None:
            return False
        values, chains = collect(self._trie, document)
        return any(branch_matches(branch, values, chains) for branch in self._branches)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FilterPolicy):
            return NotImplemented
        return (self._scope, self._json) == (other._scope, other._json)

    def __hash__(self) -> int:
        return hash(("FilterPolicy", self._scope, self._json))

    def __repr__(self) -> str:
        return f"FilterPolicy({self._json}, scope={self._scope!r})"

    def __reduce__(self) -> tuple[type[FilterPolicy], tuple[str, FilterPolicyScope]]:
        return (FilterPolicy, (self._json, self._scope))


def compile_filter_policy(
    policy: Mapping[str, Any] | str | bytes | FilterPolicy,
    scope: FilterPolicyScope = "MessageAttributes",
) -> FilterPolicy:
    """Validate and compile an SNS filter policy (dict or JSON text) for ``scope``.

    Raises ``eventyard.errors.InvalidFilterPolicy`` naming the reason, the
    place and, for limits, the value and the limit.
    """
    if isinstance(policy, FilterPolicy):
        if policy.scope != scope:
            return FilterPolicy(policy.json, scope)
        return policy
    return FilterPolicy(policy, scope)


def _check_limits(branches: tuple[Branch, ...]) -> None:
    widest = max(branches, key=len)
    if len(widest) > MAX_KEYS:
        keys = ", ".join(test.path for test in widest)
        raise InvalidFilterPolicy(
            f"Filter policy is not valid: it has {len(widest)} keys ({keys}); "
            f"the limit is {MAX_KEYS}"
        )
    combinations = value_combinations(branches)
    if combinations > MAX_COMBINATIONS:
        raise InvalidFilterPolicy(
            f"Filter policy is not valid: it has {combinations} value combinations; the limit "
            f"is {MAX_COMBINATIONS} (per $or alternative, multiply the number of values of "
            "each key by its nesting level; alternatives add up)"
        )


def value_combinations(branches: tuple[Branch, ...]) -> int:
    """SNS's complexity: per ``$or`` alternative, the product over its keys of
    (number of values x nesting level); the alternatives add up."""
    total = 0
    for branch in branches:
        product = 1
        for test in branch:
            product *= test.condition.value_count * test.depth
        total += product
    return total


def _body_document(body: object) -> dict[str, Any] | None:
    if isinstance(body, Mapping):
        return dict(body)
    if isinstance(body, (str, bytes, bytearray)):
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            return None
        return document if isinstance(document, dict) else None
    return None


def _attribute_document(attributes: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The message attributes as a flat JSON object, as a filter policy sees them."""
    document: dict[str, Any] = {}
    if not attributes:
        return document
    for name, attribute in attributes.items():
        if not isinstance(name, str):
            continue
        value = _attribute_value(attribute)
        if value is not _IGNORED:
            document[name] = value
    return document


_IGNORED: Final = object()


def _attribute_value(attribute: object) -> object:
    if not isinstance(attribute, Mapping):
        # A bare value (a convenience for hand-written tests): take it as JSON.
        if attribute is None or isinstance(attribute, (str, int, float, bool, list)):
            return attribute
        return _IGNORED
    data_type = attribute.get("DataType", attribute.get("Type"))
    raw = attribute.get("StringValue", attribute.get("Value"))
    if not isinstance(data_type, str) or not isinstance(raw, str):
        return _IGNORED  # Binary attributes carry BinaryValue and no string
    if data_type == "String.Array":
        try:
            array = json.loads(raw)
        except (ValueError, RecursionError):
            return _IGNORED
        return array if isinstance(array, list) else _IGNORED
    base = data_type.split(".", 1)[0]
    if base == "String":
        return raw
    if base == "Number":
        return _number(raw)
    return _IGNORED


def _number(text: str) -> object:
    text = text.strip()
    if not _NUMBER_TEXT.fullmatch(text):
        return _IGNORED
    if _INTEGER_TEXT.fullmatch(text):
        try:
            return int(text)
        except ValueError:  # more digits than Python converts by default
            pass
    number = float(text)
    return number if math.isfinite(number) else _IGNORED
