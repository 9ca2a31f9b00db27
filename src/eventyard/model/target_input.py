"""What an EventBridge rule target receives: the event, a constant, a part, or a template.

A target has at most one of ``Input`` (constant JSON text), ``InputPath`` (a
JSONPath selecting part of the event) or ``InputTransformer`` (an
``InputPathsMap`` of variables plus an ``InputTemplate`` with ``<variable>``
placeholders); with none it receives the whole event. `TargetInput.build`
checks all of it once, as ``PutTargets`` does, and compiles it: paths are
parsed and the template is split into literal text and placeholders, each
marked with where it stands. `TargetInput.render` then only walks those parts.

Templates follow the EventBridge documentation ("Amazon EventBridge input
transformation"):

* A template that is JSON (an object, an array, a string in quotes, or a bare
  placeholder) is rendered as minified JSON. A placeholder standing as a value
  becomes the value's JSON (a string gets quotes; objects, arrays, numbers,
  booleans and null as they are); one inside a string becomes the value's text,
  escaped for JSON. A placeholder may not be an object key.
* A template that starts with ``{`` or ``[`` but is not JSON is refused. Any
  other template is free text: placeholders become the value's text (strings
  without quotes, other values as JSON) and nothing else changes.
* A variable whose path is not in the event is an empty string: nothing inside
  a string or free text, ``""`` as a JSON value (what EventBridge delivers).
* The reserved variables: ``aws.events.rule-arn``, ``aws.events.rule-name``,
  ``aws.events.event.ingestion-time`` (anywhere), ``aws.events.event`` (the
  event without ``detail``, ``detail-type`` named ``detailType``) and
  ``aws.events.event.json`` (the whole event); the last two only as JSON values.

This module does no I/O and knows nothing of rules, buses or delivery.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from eventyard.errors import InvalidParameterValue, MissingParameter
from eventyard.model.json_path import MISSING, JsonPath
from eventyard.model.names import shorten

#: Longest ``Input`` and ``InputTemplate`` (characters), and most InputPathsMap entries.
INPUT_MAX_LENGTH: Final = 8192
TEMPLATE_MAX_LENGTH: Final = 8192
PATHS_MAP_MAX_ENTRIES: Final = 100
VARIABLE_MAX_LENGTH: Final = 256

RULE_ARN: Final = "aws.events.rule-arn"
RULE_NAME: Final = "aws.events.rule-name"
INGESTION_TIME: Final = "aws.events.event.ingestion-time"
EVENT: Final = "aws.events.event"
EVENT_JSON: Final = "aws.events.event.json"
RESERVED: Final = (RULE_ARN, RULE_NAME, INGESTION_TIME, EVENT, EVENT_JSON)
_JSON_VALUE_ONLY: Final = frozenset((EVENT, EVENT_JSON))

Kind = Literal["event", "input", "input_path", "input_transformer"]

_VARIABLE = re.compile(r"[A-Za-z0-9_-]+")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.-]+)>")
_SCALAR = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null")
_WHITESPACE: Final = " \t\n\r"
_ESCAPES: Final = frozenset('"\\/bfnrt')
_HEX: Final = frozenset("0123456789abcdefABCDEF")
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

# Kinds of template parts: literal text, a placeholder as a JSON value, one inside
# a JSON string, one in free text.
_LITERAL, _VALUE, _IN_STRING, _TEXT = 0, 1, 2, 3
Part = tuple[int, str]

_TRANSFORMER_KEYS: Final = {
    "InputPathsMap": "input_paths_map",
    "input_paths_map": "input_paths_map",
    "InputTemplate": "input_template",
    "input_template": "input_template",
}
_MAP_FIELD: Final = "input_transformer.input_paths_map"
_TEMPLATE_FIELD: Final = "input_transformer.input_template"


class _RawJson(str):
    """JSON text to insert as it is (the exact event payload given to `render`)."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class TargetInput:
    """The validated, compiled input settings of one target; immutable."""

    kind: Kind = "event"
    input: str | None = None
    input_path: str | None = None
    input_paths_map: tuple[tuple[str, str], ...] = ()
    input_template: str | None = None
    #: Whether the template is JSON (rendered as minified JSON) rather than free text.
    template_is_json: bool = field(default=False, compare=False)
    _path: JsonPath | None = field(default=None, compare=False, repr=False)
    _lookups: tuple[tuple[str, JsonPath], ...] = field(default=(), compare=False, repr=False)
    _parts: tuple[Part, ...] = field(default=(), compare=False, repr=False)
    _reserved: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    # -- building ------------------------------------------------------------

    @classmethod
    def build(
        cls,
        input: str | None = None,
        input_path: str | None = None,
        input_transformer: Mapping[str, Any] | None = None,
    ) -> TargetInput:
        """Check and compile a target's Input / InputPath / InputTransformer (at most one)."""
        given = [
            name
            for name, value in (
                ("input", input),
                ("input_path", input_path),
                ("input_transformer", input_transformer),
            )
            if value is not None
        ]
        if len(given) > 1:
            raise InvalidParameterValue(
                f"only one of input, input_path or input_transformer may be given for a "
                f"target; got {' and '.join(given)}"
            )
        if input is not None:
            return cls("input", input=_check_input(input))
        if input_path is not None:
            path = JsonPath.parse(input_path, "input_path")
            return cls("input_path", input_path=path.text, _path=path)
        if input_transformer is not None:
            return cls._build_transformer(input_transformer)
        return cls()

    @classmethod
    def _build_transformer(cls, transformer: Mapping[str, Any]) -> TargetInput:
        if not isinstance(transformer, Mapping):
            raise InvalidParameterValue(
                "input_transformer must be a mapping with InputTemplate and optionally "
                f"InputPathsMap, got {type(transformer).__name__}"
            )
        settings: dict[str, Any] = {}
        for key, value in transformer.items():
            name = _TRANSFORMER_KEYS.get(key)
            if name is None:
                raise InvalidParameterValue(
                    f"input_transformer has an unknown key {shorten(key)}; it takes "
                    "InputPathsMap and InputTemplate (or input_paths_map and input_template)"
                )
            if name in settings:
                raise InvalidParameterValue(f"input_transformer gives {name} twice")
            settings[name] = value
        paths = _check_paths_map(settings.get("input_paths_map"))
        template = settings.get("input_template")
        if template is None:
            raise MissingParameter(f"{_TEMPLATE_FIELD} is required with an input_transformer")
        if not isinstance(template, str):
            raise InvalidParameterValue(
                f"{_TEMPLATE_FIELD} must be a string, got {type(template).__name__}"
            )
        if not 1 <= len(template) <= TEMPLATE_MAX_LENGTH:
            raise InvalidParameterValue(
                f"{_TEMPLATE_FIELD} {shorten(template)} has {len(template)} characters; "
                f"it must have 1 to {TEMPLATE_MAX_LENGTH}"
            )
        is_json, parts = _compile_template(template)
        used = {name for kind, name in parts if kind != _LITERAL}
        for name in sorted(used):
            if name not in paths and name not in RESERVED:
                defined = ", ".join(sorted(paths)) or "none"
                raise InvalidParameterValue(
                    f"{_TEMPLATE_FIELD}: input template refers to undefined variable <{name}>; "
                    f"the input_paths_map defines: {defined}; the reserved variables are "
                    f"{', '.join(RESERVED)}"
                )
        for kind, name in parts:
            if name in _JSON_VALUE_ONLY and kind != _VALUE:
                where = "inside a JSON string" if kind == _IN_STRING else "in a free-text template"
                raise InvalidParameterValue(
                    f"{_TEMPLATE_FIELD}: <{name}> may only stand as a JSON value (as in "
                    f'{{"original": <{name}>}}), not {where}, since its JSON is not escaped'
                )
        return cls(
            "input_transformer",
            input_paths_map=tuple(sorted((name, path.text) for name, path in paths.items())),
            input_template=template,
            template_is_json=is_json,
            _lookups=tuple((name, paths[name]) for name in sorted(used) if name in paths),
            _parts=tuple(_merge_literals(parts)),
            _reserved=frozenset(used & set(RESERVED)),
        )

    # -- rendering -----------------------------------------------------------

    def render(
        self,
        event: dict[str, Any],
        *,
        rule_name: str,
        rule_arn: str,
        ingestion_time: str,
        event_json: str | None = None,
    ) -> str:
        """The text the target receives for ``event`` (parsed JSON).

        ``event_json`` is the event's exact JSON text, if the caller has it: it is
        sent as it is for the whole event and for ``<aws.events.event.json>``.
        """
        if self.kind == "event":
            return event_json if event_json is not None else _ENCODE(event)
        if self.kind == "input":
            return self.input or ""
        if self._path is not None:
            found = self._path.find(event)
            return "null" if found is MISSING else _ENCODE(found)
        values: dict[str, object] = {name: path.find(event) for name, path in self._lookups}
        if self._reserved:
            values[RULE_ARN] = rule_arn
            values[RULE_NAME] = rule_name
            values[INGESTION_TIME] = ingestion_time
            if EVENT in self._reserved:
                values[EVENT] = {
                    ("detailType" if key == "detail-type" else key): value
                    for key, value in event.items()
                    if key != "detail"
                }
            if EVENT_JSON in self._reserved:
                values[EVENT_JSON] = event if event_json is None else _RawJson(event_json)
        out: list[str] = []
        append = out.append
        for kind, text in self._parts:
            if kind == _LITERAL:
                append(text)
                continue
            value = values[text]
            if value is MISSING:
                if kind == _VALUE:
                    append('""')
            elif kind == _VALUE:
                append(value if type(value) is _RawJson else _ENCODE(value))
            elif kind == _IN_STRING:
                append(_ENCODE(value if type(value) is str else _ENCODE(value))[1:-1])
            else:
                append(value if type(value) is str else _ENCODE(value))
        return "".join(out)

    # -- persistence ---------------------------------------------------------

    def to_json(self) -> str:
        """The settings as given (not the compiled form), for the store."""
        data: dict[str, Any] = {}
        if self.kind == "input":
            data["input"] = self.input
        elif self.kind == "input_path":
            data["input_path"] = self.input_path
        elif self.kind == "input_transformer":
            data["input_transformer"] = {
                "input_paths_map": dict(self.input_paths_map),
                "input_template": self.input_template,
            }
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> TargetInput:
        """Rebuild (and re-check) what `to_json` wrote."""
        data = json.loads(text)
        if not isinstance(data, dict) or not set(data) <= {
            "input",
            "input_path",
            "input_transformer",
        }:
            raise InvalidParameterValue(f"stored target input {shorten(text)} is not one we wrote")
        return cls.build(**data)


# -- checks ------------------------------------------------------------------


def _check_input(text: object) -> str:
    if not isinstance(text, str):
        raise InvalidParameterValue(
            f"input must be JSON text (a string), got {type(text).__name__}"
        )
    if len(text) > INPUT_MAX_LENGTH:
        raise InvalidParameterValue(
            f"input {shorten(text)} has {len(text)} characters; it may have at most "
            f"{INPUT_MAX_LENGTH}"
        )
    try:
        json.loads(text)
    except ValueError as exc:
        raise InvalidParameterValue(
            f"input {shorten(text)} is not valid JSON text: {exc}"
        ) from None
    return text


def _check_paths_map(paths: object) -> dict[str, JsonPath]:
    if paths is None:
        return {}
    if not isinstance(paths, Mapping):
        raise InvalidParameterValue(
            f"{_MAP_FIELD} must map variable names to JSONPaths, got {type(paths).__name__}"
        )
    if len(paths) > PATHS_MAP_MAX_ENTRIES:
        raise InvalidParameterValue(
            f"{_MAP_FIELD} has {len(paths)} entries; it may have at most {PATHS_MAP_MAX_ENTRIES}"
        )
    checked: dict[str, JsonPath] = {}
    for name, path in paths.items():
        if not isinstance(name, str):
            raise InvalidParameterValue(
                f"{_MAP_FIELD} variable names must be strings, got {shorten(name)}"
            )
        if name.lower().startswith("aws."):
            raise InvalidParameterValue(
                f"{_MAP_FIELD} variable {shorten(name)} is reserved: names starting with "
                f"'aws.' belong to EventBridge ({', '.join(RESERVED)})"
            )
        if not 1 <= len(name) <= VARIABLE_MAX_LENGTH or not _VARIABLE.fullmatch(name):
            raise InvalidParameterValue(
                f"{_MAP_FIELD} variable {shorten(name)} must be 1 to {VARIABLE_MAX_LENGTH} "
                "characters of letters, digits, '-' and '_'"
            )
        checked[name] = JsonPath.parse(path, f"{_MAP_FIELD}[{json.dumps(name)}]")
    return checked


# -- templates ---------------------------------------------------------------


class _NotJson(Exception):
    def __init__(self, pos: int, reason: str) -> None:
        super().__init__(reason)
        self.pos = pos
        self.reason = reason


def _compile_template(template: str) -> tuple[bool, list[Part]]:
    """Split the template into parts; JSON if it parses as JSON, else free text."""
    try:
        return True, _JsonTemplate(template).parse()
    except _NotJson as exc:
        if template.lstrip(_WHITESPACE)[:1] in ("{", "["):
            raise InvalidParameterValue(
                f"{_TEMPLATE_FIELD} {shorten(template)} starts as JSON but is not valid JSON: "
                f"{exc.reason} (at character {exc.pos})"
            ) from None
    parts: list[Part] = []
    last = 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append((_LITERAL, template[last : match.start()]))
        parts.append((_TEXT, match.group(1)))
        last = match.end()
    parts.append((_LITERAL, template[last:]))
    return False, parts


def _merge_literals(parts: list[Part]) -> list[Part]:
    merged: list[Part] = []
    for kind, text in parts:
        if kind == _LITERAL:
            if not text:
                continue
            if merged and merged[-1][0] == _LITERAL:
                merged[-1] = (_LITERAL, merged[-1][1] + text)
                continue
        merged.append((kind, text))
    return merged


class _JsonTemplate:
    """A JSON parser that also takes ``<name>`` as a value or inside strings.

    It keeps every token as written (string escapes included) and drops the
    whitespace between tokens, so the output is minified JSON.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.parts: list[Part] = []

    def parse(self) -> list[Part]:
        self._skip_whitespace()
        self._value()
        self._skip_whitespace()
        if self.pos != len(self.text):
            raise _NotJson(self.pos, "there is text after the JSON value")
        return self.parts

    def _literal(self, text: str) -> None:
        self.parts.append((_LITERAL, text))

    def _skip_whitespace(self) -> None:
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos] in _WHITESPACE:
            pos += 1
        self.pos = pos

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _value(self) -> None:
        char = self._peek()
        if char == "{":
            self._container("}", members=True)
        elif char == "[":
            self._container("]", members=False)
        elif char == '"':
            self._string(key=False)
        elif char == "<":
            match = _PLACEHOLDER.match(self.text, self.pos)
            if match is None:
                raise _NotJson(self.pos, "'<' does not open a placeholder <name>")
            self.parts.append((_VALUE, match.group(1)))
            self.pos = match.end()
        else:
            scalar = _SCALAR.match(self.text, self.pos)
            if scalar is None:
                found = repr(char) if char else "the end of the template"
                raise _NotJson(self.pos, f"a JSON value is expected, found {found}")
            self._literal(scalar.group())
            self.pos = scalar.end()

    def _container(self, close: str, *, members: bool) -> None:
        self._literal(self.text[self.pos])
        self.pos += 1
        self._skip_whitespace()
        if self._peek() == close:
            self._literal(close)
            self.pos += 1
            return
        while True:
            self._skip_whitespace()
            if members:
                if _PLACEHOLDER.match(self.text, self.pos):
                    raise _NotJson(self.pos, "a placeholder cannot be used as an object key")
                if self._peek() != '"':
                    raise _NotJson(
                        self.pos, "an object key (a string in double quotes) is expected"
                    )
                self._string(key=True)
                self._skip_whitespace()
                if self._peek() != ":":
                    raise _NotJson(self.pos, "':' is expected after an object key")
                self._literal(":")
                self.pos += 1
                self._skip_whitespace()
            self._value()
            self._skip_whitespace()
            char = self._peek()
            if char == ",":
                self._literal(",")
                self.pos += 1
            elif char == close:
                self._literal(close)
                self.pos += 1
                return
            else:
                found = repr(char) if char else "the end of the template"
                raise _NotJson(self.pos, f"',' or {close!r} is expected, found {found}")

    def _string(self, *, key: bool) -> None:
        text, start = self.text, self.pos
        chunk, pos = start, start + 1
        while True:
            if pos >= len(text):
                raise _NotJson(start, "the string is not closed")
            char = text[pos]
            if char == '"':
                self._literal(text[chunk : pos + 1])
                self.pos = pos + 1
                return
            if char == "\\":
                escape = text[pos + 1 : pos + 2]
                if escape == "u" and len(text) >= pos + 6 and set(text[pos + 2 : pos + 6]) <= _HEX:
                    pos += 6
                elif escape and escape in _ESCAPES:
                    pos += 2
                else:
                    raise _NotJson(pos, "invalid escape in a string")
            elif char == "<" and (match := _PLACEHOLDER.match(text, pos)):
                if key:
                    raise _NotJson(pos, "a placeholder cannot be used in an object key")
                self._literal(text[chunk:pos])
                self.parts.append((_IN_STRING, match.group(1)))
                pos = chunk = match.end()
            elif char < " ":
                raise _NotJson(pos, "a control character in a string must be escaped")
            else:
                pos += 1
