"""eventyard's ``?`` placeholders, rewritten for psycopg.

The SQL modules (and applications, through ``tx.execute``) write ``?`` for
the next parameter and ``?N`` for the N-th one (to use a value twice), as
SQLite does. psycopg wants ``%s`` (or ``%(name)s``) and every literal ``%``
doubled, even inside a quoted string. A statement with numbered placeholders becomes one with named
ones, ``%(pN)s``: psycopg sends each name once, so PostgreSQL sees one typed
parameter however often it is used. Quoted strings, quoted identifiers and
comments keep their ``?``. Each distinct statement is rewritten once (cached).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any, Final

from eventyard.errors import InvalidParameterValue

_TOKENS: Final = re.compile(
    r"""
    (?P<quoted>'(?:[^']|'')*'|"(?:[^"]|"")*")   # string literals, quoted identifiers
    | (?P<comment>--[^\n]*|/\*.*?\*/)           # comments
    | \?(?P<number>\d+)?                        # placeholders
    | (?P<percent>%)
    """,
    re.VERBOSE | re.DOTALL,
)


class Rewritten:
    """A statement in psycopg's style, and how to pass its parameters."""

    __slots__ = ("named", "sql")

    def __init__(self, sql: str, named: bool) -> None:
        self.sql = sql
        self.named = named

    def parameters(self, values: Sequence[Any]) -> Sequence[Any] | dict[str, Any]:
        if not self.named:
            return values
        return {f"p{number}": value for number, value in enumerate(values, start=1)}


@functools.lru_cache(maxsize=4096)
def rewrite(sql: str) -> Rewritten:
    """``sql`` with psycopg placeholders; a mix of ``?`` and ``?N`` is refused."""
    kinds: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        if match.group("quoted") is not None or match.group("comment") is not None:
            # psycopg reads every % as a placeholder, quoted or not.
            return match.group(0).replace("%", "%%")
        if match.group("percent") is not None:
            return "%%"
        number = match.group("number")
        if number is None:
            kinds.add("plain")
            return "%s"
        kinds.add("numbered")
        return f"%(p{int(number)})s"

    text = _TOKENS.sub(replace, sql)
    if len(kinds) > 1:
        raise InvalidParameterValue(
            f"SQL statement {sql[:80]!r} mixes ? and ?N placeholders; use one style per statement"
        )
    return Rewritten(text, "numbered" in kinds)
