"""Validating event patterns and filter policies and compiling them to branches.

What it is: the one parser for both JSON grammars. It checks every rule of the
grammar at compile time (so matching never has to), and turns the pattern into
*branches*: ``$or`` is expanded, and each branch is a list of field tests on
dotted paths, sorted by path, that must all hold. Errors name the place
(``detail.total[0].numeric``), the offending value and the limit.

What it is not: the grammar inside a field's list (``_leaf_syntax``), the
matching (``_fields``), or the SNS-only limits on keys and value combinations
(``_filter_policy``).

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
from dataclasses import dataclass
from typing import Final

from eventyard.errors import InvalidEventPattern, InvalidFilterPolicy, InvalidParameterValue
from eventyard.patterns._leaf_syntax import OPERATORS, LeafCompiler, describe
from eventyard.patterns._operators import FieldCondition

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


class _Parser:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.noun = dialect.noun
        self.leaves = LeafCompiler(self.error, allow_wildcard=dialect.allow_wildcard)

    def error(self, where: str, reason: str) -> InvalidParameterValue:
        """The dialect's error, naming the place (``detail.total[0]``) and the reason."""
        place = f" at {where}" if where else ""
        return self.dialect.error(f"{self.noun.capitalize()} is not valid{place}: {reason}")

    # -- the document ---------------------------------------------------

    def parse(self, source: object) -> CompiledSyntax:
        value = self._load(source)
        if not isinstance(value, dict):
            raise self.error("", f"the {self.noun} must be a JSON object, got {describe(value)}")
        try:
            canonical = json.dumps(
                value, separators=(",", ":"), ensure_ascii=False, allow_nan=False
            )
        except RecursionError:
            raise self.error("", f"nesting is deeper than {MAX_NESTING_DEPTH} levels") from None
        except (TypeError, ValueError) as error:
            raise self.error(
                "", f"the {self.noun} must be JSON (strings, finite numbers, ...): {error}"
            ) from None
        size = len(canonical.encode("utf-8"))
        if size > self.dialect.max_bytes:
            raise self.error(
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
                raise self.error("", f"the {self.noun} must be UTF-8 JSON text: {error}") from None
        if isinstance(source, str):
            # Compact size is what counts, but refuse to even parse absurd inputs.
            if len(source) > 64 * self.dialect.max_bytes:
                raise self.error("", f"the {self.noun} text is {len(source)} characters long")
            try:
                return json.loads(source)
            except RecursionError:
                raise self.error("", f"nesting is deeper than {MAX_NESTING_DEPTH} levels") from None
            except ValueError as error:
                raise self.error("", f"the {self.noun} must be valid JSON: {error}") from None
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
            raise self.error(where, f"nesting is deeper than {MAX_NESTING_DEPTH} levels")
        if not obj:
            raise self.error(where, "empty objects are not allowed")
        for key, value in obj.items():
            if not isinstance(key, str):
                raise self.error(where, f"field names must be strings, got {key!r}")
            child_where = f"{where}.{key}" if where else key
            if key == "$or" and self._is_or(value):
                branches = self._or(value, segments, child_where, branches, depth)
                continue
            if inside_or and key in RESERVED_FIELD_NAMES:
                raise self.error(
                    child_where,
                    f"{key!r} is a reserved word and cannot be used as a field name inside $or",
                )
            child_segments = (*segments, key)
            if isinstance(value, dict):
                if not self.dialect.allow_nesting:
                    raise self.error(
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
                condition = self.leaves.compile(value, child_where)
                path = ".".join(child_segments)
                test = FieldTest(path, condition, len(child_segments))
                for branch in branches:
                    branch[path] = test  # a later mention of the same path wins
            else:
                raise self.error(
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
            raise self.error(
                where, f"$or must be an array of at least 2 objects, got {describe(alternatives)}"
            )
        expanded: list[dict[str, FieldTest]] = []
        for number, alternative in enumerate(alternatives):
            alternative_where = f"{where}[{number}]"
            if not isinstance(alternative, dict):
                raise self.error(
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
                raise self.error(
                    where,
                    f"$or expands to more than {MAX_OR_COMBINATIONS} combinations "
                    f"(the product of the number of alternatives of every $or)",
                )
        return expanded
