"""Validating event patterns and filter policies and compiling them to branches.

What it is: the one parser for both JSON grammars. It checks every rule of the
grammar at compile time (so matching never has to), and turns the pattern into
*branches*: ``$or`` is expanded, and each branch is a list of field tests on
dotted paths, sorted by path, that must all hold. Errors name the place
(``detail.total[0].numeric``), the offending value and the limit.

What it is not: the matching (``_fields``) or the SNS-only limits on keys and
value combinations (``_filter_policy``).

Semantics copied from EventBridge (its open-source engine, event-ruler):

* Nested keys and dotted keys are the same path: ``{"a": {"b": [1]}}`` and
  ``{"a.b": [1]}`` both test the path ``a.b``.
* When a path is given twice in one branch (a duplicate JSON key, a dotted key
  repeating a nested one, or a field outside ``$or`` repeated inside it), the
  later one in document order replaces the earlier one.
* Field names that are operator names cannot be used inside ``$or``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final, NoReturn

from eventyard.errors import InvalidEventPattern, InvalidFilterPolicy, InvalidParameterValue
from eventyard.patterns import _operators as op
from eventyard.patterns._operators import FieldCondition, Predicate
from eventyard.patterns._values import is_number, number_micros, parse_ip
from eventyard.patterns._wildcard import MAX_WILDCARD_COMPLEXITY, complexity, parse_wildcard

#: Object nesting allowed in a pattern (the top-level object is level 1; each
#: ``$or`` alternative is a level too). AWS documents no limit; real patterns
#: mirror events and rarely pass 6 levels, so 32 never gets in the way while it
#: bounds recursion on hostile input.
MAX_NESTING_DEPTH: Final = 32

#: EventBridge rejects patterns whose ``$or`` expand to more than this many
#: combinations (the product of the alternatives of every ``$or``).
MAX_OR_COMBINATIONS: Final = 1000

#: EventBridge's limit on a pattern, measured on its compact JSON in UTF-8.
EVENT_PATTERN_MAX_BYTES: Final = 4096

#: SNS's limit on a filter policy (256 KiB).
FILTER_POLICY_MAX_BYTES: Final = 262_144

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

# Words event-ruler reserves: they cannot name a field inside ``$or`` (and in
# an SNS policy, an ``$or`` whose alternatives use them is an ordinary key).
RESERVED_FIELD_NAMES: Final = frozenset(
    {
        *OPERATORS,
        "exactly",
        "html",
        "=",
        "<",
        "<=",
        ">",
        ">=",
        "regex",
        "not-wildcard",
        "not-equals-ignore-case",
        "date-after",
        "date-on-or-after",
        "date-before",
        "date-on-or-before",
        "in-date-range",
        "ip-address-in-range",
        "ip-address-not-in-range",
    }
)

_NUMERIC_OPERATORS: Final = ("=", "<", "<=", ">", ">=")


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between an EventBridge event pattern and an SNS filter policy."""

    noun: str
    error: type[InvalidParameterValue]
    max_bytes: int
    allow_wildcard: bool = True
    allow_nesting: bool = True
    #: SNS: an ``$or`` that is not an array of 2+ objects free of reserved
    #: names is an ordinary attribute name; EventBridge rejects it.
    lenient_or: bool = False


EVENT_PATTERN: Final = Dialect("event pattern", InvalidEventPattern, EVENT_PATTERN_MAX_BYTES)


def filter_policy_dialect(*, nested: bool) -> Dialect:
    return Dialect(
        "filter policy",
        InvalidFilterPolicy,
        FILTER_POLICY_MAX_BYTES,
        allow_wildcard=False,
        allow_nesting=nested,
        lenient_or=True,
    )


class FieldTest:
    """One field of a branch: the leaves at ``path`` must satisfy ``condition``."""

    __slots__ = ("absence_ok", "accepts_any", "condition", "depth", "path")

    def __init__(self, path: str, condition: FieldCondition, depth: int) -> None:
        self.path = path
        self.condition = condition
        # Copied from the condition so the hot loops do one attribute lookup.
        self.accepts_any = condition.accepts_any
        self.absence_ok = condition.absence_ok
        #: Nesting level of the key (1 = top level); SNS weighs complexity by it.
        self.depth = depth

    def __repr__(self) -> str:
        return f"FieldTest({self.path!r})"


#: The tests of one ``$or`` alternative, sorted by path; all must hold.
Branch = tuple[FieldTest, ...]


@dataclass(frozen=True, slots=True)
class CompiledSyntax:
    #: Compact JSON of the source, key order kept (order decides overrides).
    canonical_json: str
    #: One per ``$or`` combination; the pattern matches if any branch does.
    branches: tuple[Branch, ...]

    @property
    def paths(self) -> frozenset[str]:
        return frozenset(test.path for branch in self.branches for test in branch)


def compile_syntax(source: object, dialect: Dialect) -> CompiledSyntax:
    """Validate ``source`` (a dict or JSON text) and compile it to branches."""
    return _Parser(dialect).parse(source)


def describe(value: object) -> str:
    """A short JSON rendering of ``value`` for error messages."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass
class _LeafParts:
    exact: list[object] = field(default_factory=list)
    predicates: list[Predicate] = field(default_factory=list)
    wildcards: list[tuple[str, ...]] = field(default_factory=list)
    any_value: bool = False
    absence_ok: bool = False


class _Parser:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.noun = dialect.noun

    def fail(self, where: str, reason: str) -> NoReturn:
        place = f" at {where}" if where else ""
        raise self.dialect.error(f"{self.noun.capitalize()} is not valid{place}: {reason}")

    # -- the document ---------------------------------------------------

    def parse(self, source: object) -> CompiledSyntax:
        value = self._load(source)
        if not isinstance(value, dict):
            self.fail("", f"a {self.noun} must be a JSON object, got {describe(value)}")
        try:
            canonical = json.dumps(
                value, separators=(",", ":"), ensure_ascii=False, allow_nan=False
            )
        except RecursionError:
            self.fail("", f"nesting is deeper than {MAX_NESTING_DEPTH} levels")
        except (TypeError, ValueError) as error:
            self.fail("", f"a {self.noun} must be JSON (strings, finite numbers, ...): {error}")
        size = len(canonical.encode("utf-8"))
        if size > self.dialect.max_bytes:
            self.fail(
                "",
                f"the {self.noun} is {size} bytes of compact JSON; "
                f"the limit is {self.dialect.max_bytes} bytes",
            )
        branches = self._object(value, (), "", [{}], inside_or=False, depth=1)
        compiled = tuple(
            tuple(sorted(branch.values(), key=lambda test: test.path)) for branch in branches
        )
        return CompiledSyntax(canonical, compiled)

    def _load(self, source: object) -> object:
        if isinstance(source, (bytes, bytearray)):
            try:
                source = bytes(source).decode("utf-8")
            except UnicodeDecodeError as error:
                self.fail("", f"a {self.noun} must be UTF-8 JSON text: {error}")
        if isinstance(source, str):
            # Compact size is what counts, but refuse to even parse absurd inputs.
            if len(source) > 64 * self.dialect.max_bytes:
                self.fail("", f"the {self.noun} text is {len(source)} characters long")
            try:
                return json.loads(source)
            except RecursionError:
                self.fail("", f"nesting is deeper than {MAX_NESTING_DEPTH} levels")
            except ValueError as error:
                self.fail("", f"a {self.noun} must be valid JSON: {error}")
        return source

    def _object(
        self,
        obj: dict[object, object],
        segments: tuple[str, ...],
        where: str,
        branches: list[dict[str, FieldTest]],
        *,
        inside_or: bool,
        depth: int,
    ) -> list[dict[str, FieldTest]]:
        if depth > MAX_NESTING_DEPTH:
            self.fail(where, f"nesting is deeper than {MAX_NESTING_DEPTH} levels")
        if not obj:
            self.fail(where, "empty objects are not allowed")
        for key, value in obj.items():
            if not isinstance(key, str):
                self.fail(where, f"field names must be strings, got {key!r}")
            child_where = f"{where}.{key}" if where else key
            if key == "$or" and self._is_or(value):
                branches = self._or(value, segments, child_where, branches, depth)
                continue
            if inside_or and key in RESERVED_FIELD_NAMES:
                self.fail(
                    child_where,
                    f"{key!r} is a reserved word and cannot be used as a field name inside $or",
                )
            child_segments = (*segments, key)
            if isinstance(value, dict):
                if not self.dialect.allow_nesting:
                    self.fail(
                        child_where,
                        "nested objects are not allowed in a filter policy with scope "
                        "MessageAttributes (use scope MessageBody to filter on nested JSON)",
                    )
                branches = self._object(
                    value,
                    child_segments,
                    child_where,
                    branches,
                    inside_or=inside_or,
                    depth=depth + 1,
                )
            elif isinstance(value, list):
                condition = self._leaf(value, child_where)
                path = ".".join(child_segments)
                test = FieldTest(path, condition, len(child_segments))
                for branch in branches:
                    branch[path] = test  # a later mention of the same path wins
            else:
                self.fail(
                    child_where,
                    f"a field must be an object or an array of values, got {describe(value)} "
                    f'(write ["value"], not "value")',
                )
        return branches

    def _is_or(self, value: object) -> bool:
        if not self.dialect.lenient_or:
            return True
        # SNS only reads "$or" as OR when it is well formed; otherwise it is a key.
        return (
            isinstance(value, list)
            and len(value) >= 2
            and all(isinstance(item, dict) for item in value)
            and not any(RESERVED_FIELD_NAMES.intersection(item) for item in value)
        )

    def _or(
        self,
        alternatives: object,
        segments: tuple[str, ...],
        where: str,
        branches: list[dict[str, FieldTest]],
        depth: int,
    ) -> list[dict[str, FieldTest]]:
        if not isinstance(alternatives, list) or len(alternatives) < 2:
            self.fail(
                where, f"$or must be an array of at least 2 objects, got {describe(alternatives)}"
            )
        expanded: list[dict[str, FieldTest]] = []
        for number, alternative in enumerate(alternatives):
            alternative_where = f"{where}[{number}]"
            if not isinstance(alternative, dict):
                self.fail(
                    alternative_where,
                    f"each $or alternative must be an object, got {describe(alternative)}",
                )
            forked = [dict(branch) for branch in branches]
            expanded.extend(
                self._object(
                    alternative,
                    segments,
                    alternative_where,
                    forked,
                    inside_or=True,
                    depth=depth + 1,
                )
            )
            if len(expanded) > MAX_OR_COMBINATIONS:
                self.fail(
                    where,
                    f"$or expands to more than {MAX_OR_COMBINATIONS} combinations "
                    f"(the product of the number of alternatives of every $or)",
                )
        return expanded

    # -- one field's list ---------------------------------------------------

    def _leaf(self, values: list[object], where: str) -> FieldCondition:
        if not values:
            self.fail(where, "empty arrays are not allowed: list at least one value")
        parts = _LeafParts()
        for number, item in enumerate(values):
            item_where = f"{where}[{number}]"
            if item is None or isinstance(item, (str, bool)):
                parts.exact.append(item)
            elif is_number(item):
                if isinstance(item, float) and not math.isfinite(item):
                    self.fail(item_where, f"numbers must be finite, got {item!r}")
                parts.exact.append(item)
            elif isinstance(item, dict):
                self._operator(item, item_where, parts)
            else:
                self.fail(
                    item_where,
                    "a value must be a string, number, true, false, null or an operator "
                    f'object such as {{"prefix": "a"}}, got {describe(item)}',
                )
        if parts.wildcards:
            score = complexity(parts.wildcards)
            if score > MAX_WILDCARD_COMPLEXITY:
                self.fail(
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

    def _operator(self, item: dict[object, object], where: str, parts: _LeafParts) -> None:
        if len(item) != 1:
            names = ", ".join(repr(key) for key in item) or "none"
            self.fail(where, f"an operator object must have exactly one operator, got {names}")
        ((name, argument),) = item.items()
        if name == "wildcard" and not self.dialect.allow_wildcard:
            self.fail(where, "wildcard is not supported in SNS filter policies")
        if not isinstance(name, str) or name not in OPERATORS:
            allowed = ", ".join(
                o for o in OPERATORS if self.dialect.allow_wildcard or o != "wildcard"
            )
            self.fail(where, f"unknown operator {name!r} (operators are case-sensitive: {allowed})")
        at = f"{where}.{name}"
        if name == "prefix":
            parts.predicates.append(self._affix(argument, at, op.prefix, op.prefix_ignore_case))
        elif name == "suffix":
            parts.predicates.append(self._affix(argument, at, op.suffix, op.suffix_ignore_case))
        elif name == "equals-ignore-case":
            if not isinstance(argument, str):
                self.fail(at, f"equals-ignore-case takes a string, got {describe(argument)}")
            parts.predicates.append(op.equals_ignore_case(argument))
        elif name == "exists":
            if not isinstance(argument, bool):
                self.fail(at, f"exists takes true or false, got {describe(argument)}")
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
                self.fail(at, f"wildcard takes a string, got {describe(argument)}")
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
            self.fail(
                f"{where}.equals-ignore-case",
                f"equals-ignore-case takes a string, got {describe(text)}",
            )
        self.fail(
            where,
            f'{operator} takes a string or {{"equals-ignore-case": "..."}}, got {describe(argument)}',
        )

    def _wildcard(self, text: str, where: str) -> tuple[str, ...]:
        try:
            return parse_wildcard(text)
        except ValueError as error:
            self.fail(where, f"malformed wildcard {describe(text)}: {error}")

    def _number(self, value: object, where: str, what: str) -> int:
        if not is_number(value):
            self.fail(where, f"{what} must be a number, got {describe(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(where, f"{what} must be finite, got {value!r}")
        micros = number_micros(value)
        if micros is None:
            self.fail(where, f"{what} {value} is outside the supported range -5.0e9 to 5.0e9")
        return micros

    def _numeric(self, argument: object, where: str) -> Predicate:
        if not isinstance(argument, list):
            self.fail(
                where, f'numeric takes an array such as [">", 0, "<=", 5], got {describe(argument)}'
            )
        if not argument:
            self.fail(where, 'numeric array is empty; write e.g. [">", 0, "<=", 5]')
        first = argument[0]
        if not isinstance(first, str) or first not in _NUMERIC_OPERATORS:
            self.fail(
                f"{where}[0]", f"unknown numeric operator {describe(first)} (use =, <, <=, >, >=)"
            )
        if len(argument) < 2:
            self.fail(where, f"operator {first!r} must be followed by a number")
        value = self._number(argument[1], f"{where}[1]", f"the value after {first!r}")
        if first == "=":
            if len(argument) > 2:
                self.fail(where, "'=' takes exactly one number, as in [\"=\", 5]")
            return op.numeric(value, True, value, True)
        if first in ("<", "<="):
            if len(argument) > 2:
                self.fail(
                    where,
                    "wrong operator order: a range gives its lower bound ('>' or '>=') first, "
                    f"then its upper bound ('<' or '<='); got {first!r} first",
                )
            return op.numeric(None, False, value, first == "<=")
        if len(argument) == 2:
            return op.numeric(value, first == ">=", None, False)
        second = argument[2]
        if not isinstance(second, str) or second not in ("<", "<="):
            self.fail(
                f"{where}[2]",
                f"the upper bound of a range needs '<' or '<=', got {describe(second)}",
            )
        if len(argument) < 4:
            self.fail(where, f"operator {second!r} must be followed by a number")
        upper = self._number(argument[3], f"{where}[3]", f"the value after {second!r}")
        if len(argument) > 4:
            self.fail(where, f"a numeric range has at most 4 elements, got {len(argument)}")
        if value >= upper:
            self.fail(
                where,
                f"the lower bound {describe(argument[1])} must be below the upper bound "
                f"{describe(argument[3])}",
            )
        return op.numeric(value, first == ">=", upper, second == "<=")

    def _cidr(self, argument: object, where: str) -> Predicate:
        if not isinstance(argument, str):
            self.fail(where, f'cidr takes a string such as "10.0.0.0/24", got {describe(argument)}')
        pieces = argument.split("/")
        if len(pieces) != 2:
            self.fail(where, f"malformed CIDR {describe(argument)}: exactly one '/' is required")
        address_text, bits_text = pieces
        if not (bits_text.isascii() and bits_text.isdigit()):
            self.fail(
                where,
                f"malformed CIDR {describe(argument)}: the prefix length must be a whole number",
            )
        address = parse_ip(address_text)
        if address is None:
            self.fail(
                where,
                f"malformed CIDR {describe(argument)}: {describe(address_text)} is not an IPv4 "
                "or IPv6 address",
            )
        version, number = address
        width = 32 if version == 4 else 128
        bits = int(bits_text)
        if bits > width:
            self.fail(
                where,
                f"malformed CIDR {describe(argument)}: an IPv{version} prefix length is 0 to {width}",
            )
        # As EventBridge does, the range starts at the address as written (not
        # at the network address) and ends with all host bits set.
        return op.cidr(version, number, number | ((1 << (width - bits)) - 1))

    def _strings(self, argument: object, where: str, operator: str) -> list[str]:
        texts = [argument] if isinstance(argument, str) else argument
        if not isinstance(texts, list) or not texts:
            self.fail(
                where,
                f"anything-but {operator} takes a string or a non-empty array of strings, "
                f"got {describe(argument)}",
            )
        for number, text in enumerate(texts):
            if not isinstance(text, str):
                self.fail(
                    f"{where}[{number}]",
                    f"anything-but {operator} values must be strings, got {describe(text)}",
                )
        return texts

    def _anything_but(self, argument: object, where: str, parts: _LeafParts) -> Predicate:
        if isinstance(argument, str):
            return op.anything_but([argument], [])
        if is_number(argument):
            return op.anything_but([], [self._number(argument, where, "an anything-but number")])
        if isinstance(argument, list):
            if not argument:
                self.fail(where, "anything-but list is empty: list at least one value")
            strings: list[str] = []
            numbers: list[int] = []
            for number, item in enumerate(argument):
                item_where = f"{where}[{number}]"
                if isinstance(item, str):
                    strings.append(item)
                elif is_number(item):
                    numbers.append(self._number(item, item_where, "an anything-but number"))
                else:
                    self.fail(
                        item_where,
                        f"an anything-but list holds only strings or only numbers, got {describe(item)}",
                    )
            if strings and numbers:
                self.fail(
                    where, "an anything-but list must be all strings or all numbers, not a mix"
                )
            return op.anything_but(strings, numbers)
        if isinstance(argument, dict):
            choices = ("prefix", "suffix", "equals-ignore-case") + (
                ("wildcard",) if self.dialect.allow_wildcard else ()
            )
            if len(argument) != 1:
                self.fail(
                    where, f"anything-but takes an object with exactly one of {', '.join(choices)}"
                )
            ((inner, inner_argument),) = argument.items()
            inner_where = f"{where}.{inner}"
            if inner not in choices:
                self.fail(
                    where, f"unsupported anything-but operator {inner!r} (use {', '.join(choices)})"
                )
            texts = self._strings(inner_argument, inner_where, str(inner))
            if inner == "prefix" or inner == "suffix":
                if any(text == "" for text in texts):
                    self.fail(inner_where, f"anything-but {inner} must not be empty")
                return (op.anything_but_prefix if inner == "prefix" else op.anything_but_suffix)(
                    texts
                )
            if inner == "equals-ignore-case":
                return op.anything_but_ignore_case(texts)
            patterns = [self._wildcard(text, inner_where) for text in texts]
            parts.wildcards.extend(patterns)
            return op.anything_but_wildcard(patterns)
        self.fail(
            where,
            "anything-but takes a string, a number, an array of strings or of numbers, or an "
            f'object such as {{"prefix": "a"}}; got {describe(argument)}',
        )


def field_count(branches: Sequence[Branch]) -> int:
    """The most leaf paths any single branch tests."""
    return max((len(branch) for branch in branches), default=0)
