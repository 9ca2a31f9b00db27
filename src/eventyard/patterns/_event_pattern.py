"""EventBridge event patterns: compile once, match many events.

What it is: ``EventPattern`` (an immutable compiled pattern), ``compile_pattern``
and the ``matches`` convenience function.

What it is not: the grammar (``_syntax``), the operators (``_operators``), or
matching many patterns at once (``_rule_index``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from eventyard.errors import InvalidParameterValue
from eventyard.patterns._compiled import CompiledJson
from eventyard.patterns._fields import PathNode, branch_matches, build_trie, collect
from eventyard.patterns._syntax import EVENT_PATTERN, Branch, compile_syntax

#: What ``compile_pattern`` accepts: the pattern as a dict or as JSON text.
PatternSource = Mapping[str, Any] | str | bytes


class EventPattern(CompiledJson):
    """A validated, compiled EventBridge event pattern. Immutable and hashable.

    Two patterns are equal when their compact JSON is equal (key order counts:
    in EventBridge a later duplicate path overrides an earlier one).
    """

    __slots__ = ("_branches", "_paths", "_trie")

    _branches: tuple[Branch, ...]
    _paths: frozenset[str]
    _trie: PathNode

    def __init__(self, source: PatternSource) -> None:
        compiled = compile_syntax(source, EVENT_PATTERN)
        object.__setattr__(self, "_json", compiled.canonical_json)
        object.__setattr__(self, "_branches", compiled.branches)
        object.__setattr__(self, "_paths", compiled.paths)
        object.__setattr__(self, "_trie", build_trie(compiled.paths))

    @property
    def branches(self) -> tuple[Branch, ...]:
        """The ``$or``-expanded alternatives (used by ``RuleIndex``)."""
        return self._branches

    @property
    def paths(self) -> frozenset[str]:
        """Every dotted field path the pattern tests."""
        return self._paths

    def matches(self, event: Mapping[str, Any] | str | bytes) -> bool:
        """Does ``event`` (a dict or JSON text) match? Never raises on a JSON object.

        JSON text that does not parse raises ``InvalidParameterValue``; a JSON
        value that is not an object (a list, a number...) matches nothing.
        """
        document = load_event(event)
        if document is None:
            return False
        values, chains = collect(self._trie, document)
        return any(branch_matches(branch, values, chains) for branch in self._branches)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EventPattern):
            return NotImplemented
        return self._json == other._json

    def __hash__(self) -> int:
        return hash(("EventPattern", self._json))

    def __repr__(self) -> str:
        return f"EventPattern({self._json})"

    def __reduce__(self) -> tuple[type[EventPattern], tuple[str]]:
        return (EventPattern, (self._json,))


_PARSE_LIMIT_CHARS: Final = 64 * 1024 * 1024


def load_event(event: object) -> dict[str, Any] | None:
    """The event as a dict, or None if it is JSON but not an object."""
    if isinstance(event, dict):
        return event
    if isinstance(event, (str, bytes, bytearray)):
        if len(event) > _PARSE_LIMIT_CHARS:
            raise InvalidParameterValue(
                f"event is {len(event)} characters long; the limit is {_PARSE_LIMIT_CHARS}"
            )
        try:
            document = json.loads(event)
        except (ValueError, RecursionError) as error:
            raise InvalidParameterValue(f"event is not valid JSON: {error}") from None
        return document if isinstance(document, dict) else None
    if isinstance(event, Mapping):
        return dict(event)
    return None


def compile_pattern(pattern: PatternSource | EventPattern) -> EventPattern:
    """Validate and compile an EventBridge event pattern (dict or JSON text).

    Raises ``eventyard.errors.InvalidEventPattern`` naming the reason and the
    place (``detail.total[0].numeric``) of the first problem found.
    """
    if isinstance(pattern, EventPattern):
        return pattern
    return EventPattern(pattern)


def matches(pattern: PatternSource | EventPattern, event: Mapping[str, Any] | str | bytes) -> bool:
    """Does ``event`` match ``pattern``? (Compiles the pattern if needed.)"""
    return compile_pattern(pattern).matches(event)
