"""Wildcard patterns: parsing, matching, and the complexity limit.

What it is: the ``wildcard`` operator of EventBridge patterns. ``*`` matches
any run of characters (including none), ``\\*`` is a literal star, ``\\\\`` a
literal backslash; any other backslash is an error, and so is ``**``.

What it is not: a regular-expression engine. A wildcard compiles to its
literal pieces and matches with ``startswith`` / ``find`` / ``endswith``: for
a pattern with only ``*`` the leftmost placement of each middle piece is always
a correct choice, so matching is linear in the value and never backtracks
(a regex such as ``.*a.*a.*b`` can take polynomial time on a hostile value).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

#: EventBridge rejects a field whose wildcards could keep more than this many
#: partial matches alive at once ("Rule is too complex"). See ``complexity``.
MAX_WILDCARD_COMPLEXITY: Final = 10

# Bound on the subset construction in ``complexity``; past it the field is
# reported as too complex rather than spending unbounded time at compile time.
_MAX_EXPLORED_STATES: Final = 20_000

_STAR: Final = None


def parse_wildcard(text: str) -> tuple[str, ...]:
    """Split a wildcard into its literal pieces: ``"a*b*"`` -> ``("a", "b", "")``.

    A pattern with n stars has n + 1 pieces. Raises ValueError naming the
    position of a ``**`` or of a backslash that escapes neither ``*`` nor ``\\``.
    """
    pieces: list[str] = []
    current: list[str] = []
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if char == "*":
            if index + 1 < length and text[index + 1] == "*":
                raise ValueError(f"consecutive wildcard characters '**' at position {index}")
            pieces.append("".join(current))
            current = []
        elif char == "\\":
            if index + 1 < length and text[index + 1] in "*\\":
                current.append(text[index + 1])
                index += 1
            else:
                raise ValueError(
                    f"invalid escape at position {index}: a backslash may only escape '*' or '\\'"
                )
        else:
            current.append(char)
        index += 1
    pieces.append("".join(current))
    return tuple(pieces)


class WildcardMatcher:
    """Tests strings against one parsed wildcard."""

    __slots__ = ("_first", "_last", "_middle", "_min_length", "_single")

    def __init__(self, pieces: Sequence[str]) -> None:
        self._single = len(pieces) == 1
        self._first = pieces[0]
        self._last = pieces[-1]
        self._middle = tuple(pieces[1:-1])
        self._min_length = sum(len(piece) for piece in pieces)

    def __call__(self, value: str) -> bool:
        if self._single:
            return value == self._first
        if len(value) < self._min_length:
            return False
        first = self._first
        last = self._last
        if not value.startswith(first) or not value.endswith(last):
            return False
        position = len(first)
        end = len(value) - len(last)
        for piece in self._middle:
            found = value.find(piece, position, end)
            if found < 0:
                return False
            position = found + len(piece)
        return True


def _tokens(pieces: Sequence[str]) -> list[str | None]:
    tokens: list[str | None] = []
    for number, piece in enumerate(pieces):
        if number:
            tokens.append(_STAR)
        tokens.extend(piece)
    return tokens


def complexity(patterns: Sequence[Sequence[str]]) -> int:
    """How many partial matches the wildcards of one field can keep alive at once.

    Each wildcard is read as a small automaton whose states are positions in
    the pattern (a star's position loops on any character). Feeding characters
    to all of a field's wildcards together, this is the largest number of
    positions that can be live at the same time, over every possible input.
    It grows with the number of stars and with literal sequences that repeat
    after a star -- the two things EventBridge's error message names. The
    exact AWS formula is internal; our limit (``MAX_WILDCARD_COMPLEXITY``) is
    calibrated so the documented examples are accepted and the rejected ones
    (``*:*:*:*:*:event-bus/*``, four ``*.ext`` alternatives) are rejected.
    """
    automata = [_tokens(pieces) for pieces in patterns]
    if not any(_STAR in tokens for tokens in automata):
        return 0  # stars-free wildcards are plain equality tests
    alphabet = {token for tokens in automata for token in tokens if token is not _STAR}
    # One character that appears in no pattern stands for every other character.
    other = "\x00"
    while other in alphabet:
        other = chr(ord(other) + 1)
    symbols = [*sorted(alphabet), other]

    def closure(states: set[tuple[int, int]]) -> frozenset[tuple[int, int]]:
        result = set(states)
        for which, position in states:
            tokens = automata[which]
            # a star may match nothing, so the position after it is live too
            while position < len(tokens) and tokens[position] is _STAR:
                position += 1
                result.add((which, position))
        return frozenset(result)

    def live(states: frozenset[tuple[int, int]]) -> int:
        return sum(1 for which, position in states if position < len(automata[which]))

    start = closure({(which, 0) for which in range(len(automata))})
    seen = {start}
    pending = [start]
    worst = live(start)
    while pending:
        states = pending.pop()
        for symbol in symbols:
            following: set[tuple[int, int]] = set()
            for which, position in states:
                tokens = automata[which]
                if position >= len(tokens):
                    continue
                token = tokens[position]
                if token is _STAR:
                    following.add((which, position))
                elif token == symbol:
                    following.add((which, position + 1))
            if not following:
                continue
            successor = closure(following)
            if successor in seen:
                continue
            worst = max(worst, live(successor))
            if len(seen) >= _MAX_EXPLORED_STATES:
                return max(worst, MAX_WILDCARD_COMPLEXITY + 1)
            seen.add(successor)
            pending.append(successor)
    return worst
