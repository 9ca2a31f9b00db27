"""Validating one field's list of values and operators, compiled to a FieldCondition.

What it is: the grammar of what may appear in a pattern list --
``["a", 5, null, {"prefix": "b"}, {"numeric": [">", 0, "<=", 5]}, ...]`` --
with a specific error for every malformed operator argument (the place, such
as ``detail.total[0].numeric[1]``, the value and the rule broken).

What it is not: the structure around the lists (objects, ``$or``, sizes: see
``_syntax``) or the matching itself (``_operators``).

Rules copied from EventBridge: numbers in operators must lie in -5.0e9..5.0e9;
a numeric range gives its lower bound first and the lower bound must be below
the upper one; ``anything-but`` lists hold only strings or only numbers, and
its prefix/suffix may not be empty; a CIDR needs exactly one ``/`` and a valid
address; wildcards may not contain ``**`` or stray backslashes, and the
wildcards of one field must stay under the complexity limit.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from eventyard.patterns import _operators as op
from eventyard.patterns._operators import FieldCondition, Predicate
from eventyard.patterns._values import is_number, number_micros, parse_ip
from eventyard.patterns._wildcard import MAX_WILDCARD_COMPLEXITY, complexity, parse_wildcard

OPERATORS: Final = (
    "anything-but",
    "cidr",
    "equals-ignore-case",
    "exists",
    "numeric",
    "prefix",
    "suffix",
    "wildcard",
)

_NUMERIC_OPERATORS: Final = ("=", "<", "<=", ">", ">=")

#: Builds the caller's error from (place, reason); the caller raises it.
ErrorFactory = Callable[[str, str], Exception]


def describe(value: object) -> str:
    """A short JSON rendering of ``value`` for error messages."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass
class LeafParts:
    """What a field's list contributes, gathered before the FieldCondition is built."""

    exact: list[object] = field(default_factory=list)
    predicates: list[Predicate] = field(default_factory=list)
    wildcards: list[tuple[str, ...]] = field(default_factory=list)
    any_value: bool = False
    absence_ok: bool = False


class LeafCompiler:
    """Compiles field lists for one dialect (SNS policies have no ``wildcard``)."""

    def __init__(self, error: ErrorFactory, *, allow_wildcard: bool) -> None:
        self.error = error
        self.allow_wildcard = allow_wildcard

    def compile(self, values: list[object], where: str) -> FieldCondition:
        """One field's list, validated, as a FieldCondition (its alternatives OR-ed)."""
        if not values:
            raise self.error(where, "empty arrays are not allowed: list at least one value")
        parts = LeafParts()
        for number, item in enumerate(values):
            item_where = f"{where}[{number}]"
            if item is None or isinstance(item, (str, bool)):
                parts.exact.append(item)
            elif is_number(item):
                if isinstance(item, float) and not math.isfinite(item):
                    raise self.error(item_where, f"numbers must be finite, got {item!r}")
                parts.exact.append(item)
            elif isinstance(item, dict):
                self._operator(item, item_where, parts)
            else:
                raise self.error(
                    item_where,
                    "a value must be a string, number, true, false, null or an operator "
                    f'object such as {{"prefix": "a"}}, got {describe(item)}',
                )
        if parts.wildcards:
            score = complexity(parts.wildcards)
            if score > MAX_WILDCARD_COMPLEXITY:
                raise self.error(
                    where,
                    f"the wildcards are too complex (complexity {score}, limit "
                    f"{MAX_WILDCARD_COMPLEXITY}): use fewer '*' characters or fewer repeated "
                    "character sequences after a '*'",
                )
        return FieldCondition(
            exact_values=parts.exact,
            predicates=parts.predicates,
            any_value=parts.any_value,
            absence_ok=parts.absence_ok,
            value_count=len(values),
        )

    def _operator(self, item: dict[object, object], where: str, parts: LeafParts) -> None:
        if len(item) != 1:
            names = ", ".join(repr(key) for key in item) or "none"
            raise self.error(
                where, f"an operator object must have exactly one operator, got {names}"
            )
        ((name, argument),) = item.items()
        if name == "wildcard" and not self.allow_wildcard:
            raise self.error(where, "wildcard is not supported in SNS filter policies")
        if not isinstance(name, str) or name not in OPERATORS:
            allowed = ", ".join(o for o in OPERATORS if self.allow_wildcard or o != "wildcard")
            raise self.error(
                where, f"unknown operator {name!r} (operators are case-sensitive: {allowed})"
            )
        at = f"{where}.{name}"
        if name == "prefix":
            parts.predicates.append(self._affix(argument, at, op.prefix, op.prefix_ignore_case))
        elif name == "suffix":
            parts.predicates.append(self._affix(argument, at, op.suffix, op.suffix_ignore_case))
        elif name == "equals-ignore-case":
            if not isinstance(argument, str):
                raise self.error(at, f"equals-ignore-case takes a string, got {describe(argument)}")
            parts.predicates.append(op.equals_ignore_case(argument))
        elif name == "exists":
            if not isinstance(argument, bool):
                raise self.error(at, f"exists takes true or false, got {describe(argument)}")
            if argument:
                parts.any_value = True
            else:
                parts.absence_ok = True
        elif name == "numeric":
            parts.predicates.append(self._numeric(argument, at))
        elif name == "cidr":
            parts.predicates.append(self._cidr(argument, at))
        elif name == "wildcard":
            if not isinstance(argument, str):
                raise self.error(at, f"wildcard takes a string, got {describe(argument)}")
            pieces = self._wildcard(argument, at)
            parts.wildcards.append(pieces)
            parts.predicates.append(op.wildcard(pieces))
        else:  # anything-but
            parts.predicates.append(self._anything_but(argument, at, parts))

    def _affix(
        self,
        argument: object,
        where: str,
        exact_case: Callable[[str], Predicate],
        ignore_case: Callable[[str], Predicate],
    ) -> Predicate:
        operator = where.rsplit(".", 1)[-1]
        if isinstance(argument, str):
            return exact_case(argument)
        if isinstance(argument, dict) and len(argument) == 1 and "equals-ignore-case" in argument:
            text = argument["equals-ignore-case"]
            if isinstance(text, str):
                return ignore_case(text)
            raise self.error(
                f"{where}.equals-ignore-case",
                f"equals-ignore-case takes a string, got {describe(text)}",
            )
        raise self.error(
            where,
            f'{operator} takes a string or {{"equals-ignore-case": "..."}}, '
            f"got {describe(argument)}",
        )

    def _wildcard(self, text: str, where: str) -> tuple[str, ...]:
        try:
            return parse_wildcard(text)
        except ValueError as error:
            raise self.error(where, f"malformed wildcard {describe(text)}: {error}") from None

    def _number(self, value: object, where: str, what: str) -> int:
        if not is_number(value):
            raise self.error(where, f"{what} must be a number, got {describe(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.error(where, f"{what} must be finite, got {value!r}")
        micros = number_micros(value)
        if micros is None:
            raise self.error(
                where, f"{what} {value} is outside the supported range -5.0e9 to 5.0e9"
            )
        return micros

    def _numeric(self, argument: object, where: str) -> Predicate:
        if not isinstance(argument, list):
            raise self.error(
                where, f'numeric takes an array such as [">", 0, "<=", 5], got {describe(argument)}'
            )
        if not argument:
            raise self.error(where, 'numeric array is empty; write e.g. [">", 0, "<=", 5]')
        first = argument[0]
        if not isinstance(first, str) or first not in _NUMERIC_OPERATORS:
            raise self.error(
                f"{where}[0]", f"unknown numeric operator {describe(first)} (use =, <, <=, >, >=)"
            )
        if len(argument) < 2:
            raise self.error(where, f"operator {first!r} must be followed by a number")
        value = self._number(argument[1], f"{where}[1]", f"the value after {first!r}")
        if first == "=":
            if len(argument) > 2:
                raise self.error(where, "'=' takes exactly one number, as in [\"=\", 5]")
            return op.numeric(value, True, value, True)
        if first in ("<", "<="):
            if len(argument) > 2:
                raise self.error(
                    where,
                    "wrong operator order: a range gives its lower bound ('>' or '>=') first, "
                    f"then its upper bound ('<' or '<='); got {first!r} first",
                )
            return op.numeric(None, False, value, first == "<=")
        if len(argument) == 2:
            return op.numeric(value, first == ">=", None, False)
        second = argument[2]
        if not isinstance(second, str) or second not in ("<", "<="):
            raise self.error(
                f"{where}[2]",
                f"the upper bound of a range needs '<' or '<=', got {describe(second)}",
            )
        if len(argument) < 4:
            raise self.error(where, f"operator {second!r} must be followed by a number")
        upper = self._number(argument[3], f"{where}[3]", f"the value after {second!r}")
        if len(argument) > 4:
            raise self.error(where, f"a numeric range has at most 4 elements, got {len(argument)}")
        if value >= upper:
            raise self.error(
                where,
                f"the lower bound {describe(argument[1])} must be below the upper bound "
                f"{describe(argument[3])}",
            )
        return op.numeric(value, first == ">=", upper, second == "<=")

    def _cidr(self, argument: object, where: str) -> Predicate:
        if not isinstance(argument, str):
            raise self.error(
                where, f'cidr takes a string such as "10.0.0.0/24", got {describe(argument)}'
            )
        pieces = argument.split("/")
        if len(pieces) != 2:
            raise self.error(
                where, f"malformed CIDR {describe(argument)}: exactly one '/' is required"
            )
        address_text, bits_text = pieces
        if not (bits_text.isascii() and bits_text.isdigit()):
            raise self.error(
                where,
                f"malformed CIDR {describe(argument)}: the prefix length must be a whole number",
            )
        address = parse_ip(address_text)
        if address is None:
            raise self.error(
                where,
                f"malformed CIDR {describe(argument)}: {describe(address_text)} is not an IPv4 "
                "or IPv6 address",
            )
        version, number = address
        width = 32 if version == 4 else 128
        bits = int(bits_text)
        if bits > width:
            raise self.error(
                where,
                f"malformed CIDR {describe(argument)}: "
                f"an IPv{version} prefix length is 0 to {width}",
            )
        # As EventBridge does, the range starts at the address as written (not
        # at the network address) and ends with all host bits set.
        return op.cidr(version, number, number | ((1 << (width - bits)) - 1))

    def _strings(self, argument: object, where: str, operator: str) -> list[str]:
        texts = [argument] if isinstance(argument, str) else argument
        if not isinstance(texts, list) or not texts:
            raise self.error(
                where,
                f"anything-but {operator} takes a string or a non-empty array of strings, "
                f"got {describe(argument)}",
            )
        for number, text in enumerate(texts):
            if not isinstance(text, str):
                raise self.error(
                    f"{where}[{number}]",
                    f"anything-but {operator} values must be strings, got {describe(text)}",
                )
        return texts

    def _anything_but(self, argument: object, where: str, parts: LeafParts) -> Predicate:
        if isinstance(argument, str):
            return op.anything_but([argument], [])
        if is_number(argument):
            return op.anything_but([], [self._number(argument, where, "an anything-but number")])
        if isinstance(argument, list):
            if not argument:
                raise self.error(where, "anything-but list is empty: list at least one value")
            strings: list[str] = []
            numbers: list[int] = []
            for number, item in enumerate(argument):
                item_where = f"{where}[{number}]"
                if isinstance(item, str):
                    strings.append(item)
                elif is_number(item):
                    numbers.append(self._number(item, item_where, "an anything-but number"))
                else:
                    raise self.error(
                        item_where,
                        "an anything-but list holds only strings or only numbers, "
                        f"got {describe(item)}",
                    )
            if strings and numbers:
                raise self.error(
                    where, "an anything-but list must be all strings or all numbers, not a mix"
                )
            return op.anything_but(strings, numbers)
        if isinstance(argument, dict):
            choices = ("prefix", "suffix", "equals-ignore-case") + (
                ("wildcard",) if self.allow_wildcard else ()
            )
            if len(argument) != 1:
                raise self.error(
                    where, f"anything-but takes an object with exactly one of {', '.join(choices)}"
                )
            ((inner, inner_argument),) = argument.items()
            inner_where = f"{where}.{inner}"
            if inner not in choices:
                raise self.error(
                    where, f"unsupported anything-but operator {inner!r} (use {', '.join(choices)})"
                )
            texts = self._strings(inner_argument, inner_where, str(inner))
            if inner == "prefix" or inner == "suffix":
                if any(text == "" for text in texts):
                    raise self.error(inner_where, f"anything-but {inner} must not be empty")
                return (op.anything_but_prefix if inner == "prefix" else op.anything_but_suffix)(
                    texts
                )
            if inner == "equals-ignore-case":
                return op.anything_but_ignore_case(texts)
            patterns = [self._wildcard(text, inner_where) for text in texts]
            parts.wildcards.extend(patterns)
            return op.anything_but_wildcard(patterns)
        raise self.error(
            where,
            "anything-but takes a string, a number, an array of strings or of numbers, or an "
            f'object such as {{"prefix": "a"}}; got {describe(argument)}',
        )
