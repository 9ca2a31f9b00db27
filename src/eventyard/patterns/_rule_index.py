"""Matching one event against many event patterns without testing each in turn.

What it is: ``RuleIndex``, the structure an event bus keeps for its rules.

What it is not: the semantics of a pattern -- every answer is exactly what
``EventPattern.matches`` would say for each rule (a property the tests check).

Theory of operation
-------------------
1. One walk per event. The index keeps a trie of every path any rule tests;
   the event is walked once and the leaves at those paths are collected.
   (Testing rules one by one would walk the event once per rule.)
2. Candidates from exact values. Most rules pin some fields to exact values
   (``source``, ``detail-type``...). Each ``$or`` branch of each rule is filed
   in a decision tree under its exact-value fields, in sorted path order: a
   node maps a path to a table ``exact value -> child node``. For an event the
   tree is walked by looking up the event's own values at each node's paths,
   so only branches whose every exact field has a matching value are reached
   -- a few dict lookups, however many rules there are. Branches without
   exact fields sit at the root and are always candidates. A branch listing
   many alternatives (``"a": [1, 2, 3]``) is filed under each of them, up to
   ``MAX_FAN_OUT`` copies; beyond that a field is simply not used for filing.
3. Exact check. Each candidate branch is evaluated in full on the collected
   leaves (the tree ignores array consistency and the non-exact fields).

The trie and the tree are rebuilt lazily on the first match after rules
change, so adding or removing many rules costs one rebuild. Matching from
several threads is safe; changing the rules while matching needs the caller's
lock (an event bus changes rules rarely and holds one anyway).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from typing import Any, Final, Generic, TypeVar

from eventyard.patterns._event_pattern import (
    EventPattern,
    PatternSource,
    compile_pattern,
    load_event,
)
from eventyard.patterns._fields import PathNode, Values, branch_matches, build_trie, collect
from eventyard.patterns._syntax import Branch
from eventyard.patterns._values import exact_key

RuleId = TypeVar("RuleId", bound=Hashable)

#: Most copies of one branch the decision tree holds (see point 2 above).
MAX_FAN_OUT: Final = 64


class _Entry:
    """One branch of one rule, as filed in the decision tree."""

    __slots__ = ("anchor_paths", "branch", "order", "residual", "rule_id")

    def __init__(
        self, order: int, rule_id: Hashable, branch: Branch, anchor_paths: frozenset[str]
    ) -> None:
        self.order = order
        self.rule_id = rule_id
        self.branch = branch
        #: Paths whose exact values the tree already checked to reach this entry.
        self.anchor_paths = anchor_paths
        #: The tests still to evaluate when array consistency is not in play.
        self.residual: Branch = tuple(test for test in branch if test.path not in anchor_paths)


class _Node:
    __slots__ = ("edges", "entries")

    def __init__(self) -> None:
        self.edges: dict[str, dict[Hashable, _Node]] = {}
        self.entries: list[_Entry] = []


class RuleIndex(Generic[RuleId]):
    """A set of named event patterns; ``match(event)`` returns the ids that match.

    >>> index: RuleIndex[str] = RuleIndex()
    >>> pattern = index.add("big-orders", {"detail": {"total": [{"numeric": [">", 1000]}]}})
    >>> index.match({"detail": {"total": 5000}})
    ['big-orders']

    Ids are returned in the order the rules were added. Adding an id again
    replaces its pattern (and moves it to the end of that order).
    """

    def __init__(self) -> None:
        self._rules: dict[RuleId, tuple[int, EventPattern]] = {}
        self._next_order = 0
        # The path trie and the decision tree, swapped in together so a match
        # running on another thread never sees one without the other.
        self._built: tuple[PathNode, _Node] = (PathNode(), _Node())
        self._stale = False

    # -- the set of rules ---------------------------------------------------

    def add(self, rule_id: RuleId, pattern: EventPattern | PatternSource) -> EventPattern:
        """Add (or replace) a rule; returns the compiled pattern.

        Raises ``InvalidEventPattern`` for a malformed pattern (the index is
        then unchanged).
        """
        compiled = compile_pattern(pattern)
        self._rules.pop(rule_id, None)
        self._rules[rule_id] = (self._next_order, compiled)
        self._next_order += 1
        self._stale = True
        return compiled

    def remove(self, rule_id: RuleId) -> None:
        """Remove a rule; ``KeyError`` if there is none with this id."""
        del self._rules[rule_id]
        self._stale = True

    def discard(self, rule_id: RuleId) -> bool:
        """Remove a rule if present; returns whether it was."""
        if rule_id not in self._rules:
            return False
        self.remove(rule_id)
        return True

    def clear(self) -> None:
        self._rules.clear()
        self._stale = True

    def get(self, rule_id: RuleId) -> EventPattern | None:
        entry = self._rules.get(rule_id)
        return None if entry is None else entry[1]

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def __len__(self) -> int:
        return len(self._rules)

    def __iter__(self) -> Iterator[RuleId]:
        return iter(self._rules)

    # -- matching -------------------------------------------------------------

    def match(self, event: Mapping[str, Any] | str | bytes) -> list[RuleId]:
        """The ids of the rules whose pattern matches ``event``, in insertion order."""
        if self._stale:
            self._rebuild()
        document = load_event(event)
        if document is None or not self._rules:
            return []
        trie, tree = self._built
        values, chains = collect(trie, document)
        candidates: list[_Entry] = []
        _gather(tree, values, candidates)
        if not candidates:
            return []
        matched: dict[int, Any] = {}
        if chains:
            for entry in candidates:
                if entry.order in matched:
                    continue  # another branch of this rule already matched
                # Leaves under arrays of objects: the exact values found by the
                # tree may come from inconsistent elements, so check everything.
                tests = (
                    entry.branch if not entry.anchor_paths.isdisjoint(chains) else entry.residual
                )
                if branch_matches(tests, values, chains):
                    matched[entry.order] = entry.rule_id
        else:
            lookup = values.get
            for entry in candidates:
                if entry.order in matched:
                    continue
                for test in entry.residual:  # branch_matches, inlined: the hot loop
                    found = lookup(test.path)
                    if found is None:
                        if not test.absence_ok:
                            break
                    elif not test.accepts_any(found):
                        break
                else:
                    matched[entry.order] = entry.rule_id
        if len(matched) > 1:
            return [matched[order] for order in sorted(matched)]
        return list(matched.values())

    def _rebuild(self) -> None:
        paths: set[str] = set()
        tree = _Node()
        for rule_id, (order, pattern) in self._rules.items():
            paths.update(pattern.paths)
            for branch in pattern.branches:
                anchors = _anchors(branch)
                entry = _Entry(order, rule_id, branch, frozenset(path for path, _ in anchors))
                _file(tree, anchors, 0, entry)
        self._built = (build_trie(paths), tree)
        self._stale = False


def _anchors(branch: Branch) -> list[tuple[str, frozenset[Hashable]]]:
    """The exact-value fields to file a branch under, in path order, within the fan-out."""
    anchors = []
    copies = 1
    for test in branch:
        keys = test.condition.index_keys
        if keys is None or copies * len(keys) > MAX_FAN_OUT:
            continue  # not exact, or too many alternatives: left to the full check
        anchors.append((test.path, keys))
        copies *= len(keys)
    return anchors


def _file(
    node: _Node, anchors: list[tuple[str, frozenset[Hashable]]], position: int, entry: _Entry
) -> None:
    if position == len(anchors):
        node.entries.append(entry)
        return
    path, keys = anchors[position]
    table = node.edges.setdefault(path, {})
    for key in keys:
        child = table.get(key)
        if child is None:
            child = table[key] = _Node()
        _file(child, anchors, position + 1, entry)


def _gather(node: _Node, values: Values, found: list[_Entry]) -> None:
    if node.entries:
        found.extend(node.entries)
    for path, table in node.edges.items():
        leaves = values.get(path)
        if leaves is None:
            continue
        if len(leaves) == 1:
            value = leaves[0]
            child = table.get(value if type(value) is str else exact_key(value))
            if child is not None:
                _gather(child, values, found)
            continue
        visited: set[int] = set()
        for value in leaves:
            child = table.get(value if type(value) is str else exact_key(value))
            if child is not None and id(child) not in visited:
                visited.add(id(child))
                _gather(child, values, found)
