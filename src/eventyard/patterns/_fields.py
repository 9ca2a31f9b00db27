"""Reading the fields a pattern needs out of an event, and testing branches on them.

What it is: a trie of the dotted paths some patterns test, a walk that
collects the leaf values of an event at exactly those paths (one pass, shared
by every pattern in a rule index), and the evaluation of one branch on them.

What it is not: parsing patterns, or choosing which branches to evaluate.

Semantics, as in EventBridge:

* Paths are dotted: the event ``{"a": {"b": 1}}`` and ``{"a.b": 1}`` both have
  the leaf 1 at ``a.b``.
* A leaf is a string, number, boolean or null. Arrays contribute each of their
  elements (nested arrays are flattened); an object is not a leaf, so a field
  whose value is an object, or an empty array, is *absent* for ``exists``.
* Array consistency: when a branch tests several fields inside an array of
  objects, the values it uses must come from the same element. Every leaf
  remembers the (array, index) pairs it sits under -- its *chain* -- and two
  leaves are consistent if they agree on every array they share.
* ``exists: false`` on a path inside such an array means "no leaf at that path
  consistent with the leaves chosen so far", with fields taken in sorted path
  order (this order dependence is EventBridge's own).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeAlias

from eventyard.patterns._syntax import Branch

#: (id of an array in the event, index of the element) pairs, outermost first.
Chain: TypeAlias = tuple[tuple[int, int], ...]
#: Leaf values found at each tested path.
Values: TypeAlias = dict[str, list[object]]
#: For paths under arrays of objects only: the chain of each leaf in ``Values``.
Chains: TypeAlias = dict[str, list[Chain]]

_NO_CHAIN: Chain = ()
# JSON's leaves (bool is an int). Events built in Python are read the way
# json.dumps reads them: tuples are arrays; values JSON cannot hold are ignored.
_SCALARS = (str, int, float, type(None))
_ARRAYS = (list, tuple)


class PathNode:
    """A node of the path trie: one dotted-path segment."""

    __slots__ = ("children", "path")

    def __init__(self) -> None:
        self.children: dict[str, PathNode] = {}
        #: The full dotted path if a pattern tests this node's leaves.
        self.path: str | None = None


def build_trie(paths: Iterable[str]) -> PathNode:
    root = PathNode()
    for path in paths:
        node = root
        for segment in path.split("."):
            child = node.children.get(segment)
            if child is None:
                child = node.children[segment] = PathNode()
            node = child
        node.path = path
    return root


def collect(root: PathNode, event: dict[str, object]) -> tuple[Values, Chains]:
    """The leaves of ``event`` at every path in the trie (absent paths are missing)."""
    values: Values = {}
    chains: Chains = {}
    _walk_object(root, event, values, chains, _NO_CHAIN)
    return values, chains


def _walk_object(
    node: PathNode, obj: dict[str, object], values: Values, chains: Chains, chain: Chain
) -> None:
    children = node.children
    for key, value in obj.items():
        child = children.get(key)
        if child is None:
            # A dotted event key ("state.status") is a path of several segments.
            if not isinstance(key, str) or "." not in key:
                continue
            child = node
            for segment in key.split("."):
                child = child.children.get(segment)
                if child is None:
                    break
            if child is None:
                continue
        path = child.path
        if path is not None:
            if chain or path in values or not isinstance(value, _SCALARS):
                _add_leaves(path, value, values, chains, chain)
            else:
                values[path] = [value]  # the common case, without a call
        if child.children:
            if isinstance(value, dict):
                _walk_object(child, value, values, chains, chain)
            elif isinstance(value, _ARRAYS):
                _walk_array(child, value, values, chains, chain)


def _walk_array(
    node: PathNode, array: Sequence[object], values: Values, chains: Chains, chain: Chain
) -> None:
    # Iterative, so a deeply nested array cannot exhaust the Python stack.
    pending: list[tuple[Sequence[object], Chain]] = [(array, chain)]
    while pending:
        current, current_chain = pending.pop()
        array_id = id(current)
        for index, element in enumerate(current):
            if isinstance(element, dict):
                _walk_object(node, element, values, chains, (*current_chain, (array_id, index)))
            elif isinstance(element, _ARRAYS):
                pending.append((element, (*current_chain, (array_id, index))))


def _scalars(array: Sequence[object]) -> list[object]:
    found: list[object] = []
    pending: list[Sequence[object]] = [array]
    while pending:
        for item in pending.pop():
            if isinstance(item, _SCALARS):
                found.append(item)
            elif isinstance(item, _ARRAYS):
                pending.append(item)
    return found


def _add_leaves(path: str, value: object, values: Values, chains: Chains, chain: Chain) -> None:
    leaves: list[object]
    if isinstance(value, _SCALARS):
        leaves = [value]
    elif isinstance(value, _ARRAYS):
        leaves = _scalars(value)
        if not leaves:
            return
    else:
        return  # an object, or something JSON cannot hold: not a leaf
    bucket = values.get(path)
    if bucket is None:
        values[path] = leaves
        before = 0
    else:
        before = len(bucket)
        bucket.extend(leaves)
    # Chains are only kept for paths that ever sit under an array of objects,
    # so the common event (no such arrays) pays nothing for consistency.
    if chain or (chains and path in chains):
        chain_list = chains.get(path)
        if chain_list is None:
            chain_list = chains[path] = [_NO_CHAIN] * before
        chain_list.extend([chain] * len(leaves))


def branch_matches(branch: Branch, values: Values, chains: Chains) -> bool:
    """Do all of the branch's field tests hold on the collected leaves?"""
    if chains:
        for test in branch:
            if test.path in chains:
                return _ConsistentSearch(branch, values, chains).run()
    for test in branch:
        found = values.get(test.path)
        if found is None:
            if not test.absence_ok:
                return False
        elif not test.accepts_any(found):
            return False
    return True


class _ConsistentSearch:
    """Backtracking choice of one leaf per field, all from consistent array elements.

    Failures are memoised on (field, the chosen indices of the arrays the
    remaining fields can still see), so independent arrays cannot make the
    search take the product of their sizes.
    """

    __slots__ = ("branch", "chains", "failed", "relevant", "values")

    def __init__(self, branch: Branch, values: Values, chains: Chains) -> None:
        self.branch = branch
        self.values = values
        self.chains = chains
        self.failed: set[tuple[int, tuple[tuple[int, int], ...]]] = set()
        # relevant[i]: arrays that leaves of fields i.. live under
        relevant: list[frozenset[int]] = [frozenset()] * (len(branch) + 1)
        seen: frozenset[int] = frozenset()
        for position in range(len(branch) - 1, -1, -1):
            for leaf_chain in chains.get(branch[position].path, ()):
                seen = seen.union(array for array, _ in leaf_chain)
            relevant[position] = seen
        self.relevant = relevant

    def run(self) -> bool:
        # Cheap necessary condition first: every field can be satisfied at all.
        for test in self.branch:
            found = self.values.get(test.path)
            if found is None:
                if not test.condition.absence_ok:
                    return False
            elif not test.condition.absence_ok and not test.condition.accepts_any(found):
                return False
        return self._search(0, {})

    def _search(self, position: int, chosen: dict[int, int]) -> bool:
        if position == len(self.branch):
            return True
        key = (
            position,
            tuple(sorted((a, i) for a, i in chosen.items() if a in self.relevant[position])),
        )
        if key in self.failed:
            return False
        test = self.branch[position]
        found = self.values.get(test.path)
        leaf_chains: Sequence[Chain] = self.chains.get(test.path, ())
        if found is not None:
            condition = test.condition
            for index, value in enumerate(found):
                leaf_chain = leaf_chains[index] if leaf_chains else _NO_CHAIN
                merged = _merge(chosen, leaf_chain)
                if (
                    merged is not None
                    and condition.accepts(value)
                    and self._search(position + 1, merged)
                ):
                    return True
        absent = found is None or all(
            _merge(chosen, leaf_chains[index] if leaf_chains else _NO_CHAIN) is None
            for index in range(len(found))
        )
        if test.condition.absence_ok and absent and self._search(position + 1, chosen):
            return True
        self.failed.add(key)
        return False


def _merge(chosen: dict[int, int], chain: Chain) -> dict[int, int] | None:
    """``chosen`` extended with ``chain``, or None if they disagree on an array."""
    if not chain:
        return chosen
    merged: dict[int, int] | None = None
    for array, index in chain:
        current = chosen.get(array)
        if current is None:
            if merged is None:
                merged = dict(chosen)
            merged[array] = index
        elif current != index:
            return None
    return chosen if merged is None else merged
