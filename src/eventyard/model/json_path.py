"""The JSONPath subset EventBridge accepts in ``InputPath`` and ``InputPathsMap``.

EventBridge documents that it "does not support all JSON Path syntax": it takes
dot notation (``$.detail.state``), names made of letters, digits, dashes,
underscores and forward slashes, array indices (``$.resources[0]``) and the
wildcard ``*`` (``$.detail.*``, ``$.items[*].id``). Bracket notation for names
(``$['detail']``), deep scans (``..``), filters, slices, unions and negative
indices are refused when the path is parsed, with the position and the reason.

A path without a wildcard names one place in the event: `JsonPath.find` gives
its value or `MISSING`. A path with a wildcard is "indefinite" (as in the Java
JSONPath that EventBridge runs on): it always gives a list of every match,
possibly empty. This module only reads parsed JSON; it knows nothing of targets
or templates (see `eventyard.model.target_input`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from eventyard.errors import InvalidParameterValue
from eventyard.model.names import shorten

#: The longest path EventBridge accepts (the TargetInputPath shape: 256 characters).
MAX_LENGTH: Final = 256

_NAME_EXTRA: Final = frozenset("-_/")


class _Missing(enum.Enum):
    MISSING = "MISSING"

    def __repr__(self) -> str:
        return "MISSING"


#: What `JsonPath.find` returns when a definite path leads nowhere in the document.
MISSING: Final = _Missing.MISSING


class _Wildcard(enum.Enum):
    WILDCARD = "*"


_ANY: Final = _Wildcard.WILDCARD

Step = str | int | _Wildcard


def _is_name_char(char: str) -> bool:
    return char.isalnum() or char in _NAME_EXTRA


@dataclass(frozen=True, slots=True)
class JsonPath:
    """A parsed path: the text as given and its steps (names, indices, wildcards)."""

    text: str
    steps: tuple[Step, ...]
    definite: bool

    @classmethod
    def parse(cls, text: object, field: str = "json path") -> JsonPath:
        """Parse ``text`` or raise `InvalidParameterValue` naming ``field``, the path and why."""
        if not isinstance(text, str):
            raise InvalidParameterValue(
                f"{field} must be a string JSONPath such as '$.detail', got {type(text).__name__}"
            )
        if len(text) > MAX_LENGTH:
            raise InvalidParameterValue(
                f"{field} {shorten(text)} has {len(text)} characters; "
                f"it may have at most {MAX_LENGTH}"
            )
        if not text.startswith("$"):
            raise _syntax_error(field, text, 0, "a path starts with '$'")
        steps: list[Step] = []
        pos, end = 1, len(text)
        while pos < end:
            char = text[pos]
            if char == ".":
                pos += 1
                if pos < end and text[pos] == "*":
                    steps.append(_ANY)
                    pos += 1
                    continue
                start = pos
                while pos < end and _is_name_char(text[pos]):
                    pos += 1
                if pos == start:
                    reason = (
                        "deep scan '..' is not supported"
                        if pos < end and text[pos] == "."
                        else "a name (letters, digits, '-', '_', '/') or '*' must follow '.'"
                    )
                    raise _syntax_error(field, text, pos, reason)
                steps.append(text[start:pos])
            elif char == "[":
                close = text.find("]", pos)
                inner = text[pos + 1 : close] if close != -1 else ""
                if close == -1:
                    raise _syntax_error(field, text, pos, "'[' is not closed by ']'")
                if inner == "*":
                    steps.append(_ANY)
                elif inner.isascii() and inner.isdigit():
                    steps.append(int(inner))
                else:
                    raise _syntax_error(
                        field,
                        text,
                        pos,
                        f"only a non-negative array index or '*' may stand in brackets, "
                        f"not {shorten(inner, 30)} (use dot notation for names)",
                    )
                pos = close + 1
            else:
                raise _syntax_error(
                    field, text, pos, f"unexpected {char!r}; expected '.name', '.*', '[n]' or '[*]'"
                )
        frozen = tuple(steps)
        return cls(text, frozen, _ANY not in frozen)

    def find(self, document: object) -> object:
        """The value at this path: a definite path gives it or `MISSING`; a wildcard one a list."""
        if self.definite:
            node = document
            for step in self.steps:
                if type(step) is str:
                    if not isinstance(node, dict):
                        return MISSING
                    node = node.get(step, MISSING)
                    if node is MISSING:
                        return MISSING
                else:  # an int: the only other step of a definite path
                    if not isinstance(node, list) or not isinstance(step, int):
                        return MISSING
                    if step >= len(node):
                        return MISSING
                    node = node[step]
            return node
        nodes = [document]
        for step in self.steps:
            found: list[object] = []
            for node in nodes:
                if step is _ANY:
                    if isinstance(node, dict):
                        found.extend(node.values())
                    elif isinstance(node, list):
                        found.extend(node)
                elif isinstance(step, str):
                    if isinstance(node, dict) and step in node:
                        found.append(node[step])
                elif isinstance(node, list) and step < len(node):
                    found.append(node[step])
            nodes = found
        return nodes


def _syntax_error(field: str, text: str, pos: int, reason: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"{field} {shorten(text)} is not a JSONPath EventBridge supports: {reason} "
        f"(at character {pos}); supported: dot notation ($.detail.name), "
        "array indices ($.list[0]) and wildcards ($.detail.*, $.list[*])"
    )
