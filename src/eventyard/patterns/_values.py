"""Canonical forms of JSON leaf values, shared by every matcher.

What it is: the few pure functions that turn an event's leaf value (a string,
number, boolean or null) into the form the matchers compare: an exact-match
key, a number in micro-units, an IP address as an integer.

What it is not: matching logic (see ``_operators``) or pattern parsing.

Why micro-units: EventBridge compares numbers by value ("300" equals "300.0"
equals "3.0e2") to six decimal places, within -5.0e9..5.0e9. Turning every
in-range number into an integer count of millionths makes equality and range
tests exact, cheap and hashable (so exact numbers live in the same ``set`` as
exact strings).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Hashable
from typing import Final

#: Numbers outside this magnitude never match ``numeric`` (as in EventBridge).
NUMBER_LIMIT: Final = 5_000_000_000
_FLOAT_LIMIT: Final = 5.0e9
_MICROS: Final = 1_000_000


class _Marker:
    """A unique, hashable stand-in for a JSON keyword in exact-match sets.

    ``True == 1`` and ``hash(None)`` collide with nothing useful in Python, so
    booleans and null get their own objects: ``[true]`` must never match ``1``.
    """

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


TRUE_KEY: Final = _Marker("true")
FALSE_KEY: Final = _Marker("false")
NULL_KEY: Final = _Marker("null")


def is_number(value: object) -> bool:
    """A JSON number: an int or float that is not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def number_micros(value: object) -> int | None:
    """``value`` in millionths if it is a JSON number within ±5.0e9, else None.

    Floats are rounded to the nearest millionth (EventBridge keeps six decimal
    places); NaN and infinities are out of range, so they are never numbers here.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if -NUMBER_LIMIT <= value <= NUMBER_LIMIT:
            return int(value) * _MICROS
        return None
    if isinstance(value, float):
        if -_FLOAT_LIMIT <= value <= _FLOAT_LIMIT:
            return round(value * 1e6)
        return None
    return None


def exact_key(value: object) -> Hashable | None:
    """The key under which ``value`` is found in an exact-match set.

    Strings are their own key; in-range numbers are their micro-units (so 5 and
    5.0 share a key); other numbers compare by value under a tagged key; true,
    false and null have marker keys. Objects and arrays are not leaves: None.
    """
    if isinstance(value, str):
        return value
    if value is None:
        return NULL_KEY
    if isinstance(value, bool):
        return TRUE_KEY if value else FALSE_KEY
    if isinstance(value, (int, float)):
        micros = number_micros(value)
        if micros is not None:
            return micros
        # A tuple, so an out-of-range 6e9 can never collide with the micro-units
        # of the in-range number 6000.
        return ("number", value)
    return None


# EventBridge only treats strings of these shapes as IP addresses (it never
# resolves host names), so "localhost" or "1.2.3" stay plain strings.
_IPV4_SHAPE: Final = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_IPV6_SHAPE: Final = re.compile(r"[0-9a-fA-F:]*:[0-9a-fA-F:]*")


def parse_ip(text: str) -> tuple[int, int] | None:
    """``(version, address as int)`` if ``text`` is an IPv4/IPv6 literal, else None."""
    if not (_IPV4_SHAPE.fullmatch(text) or _IPV6_SHAPE.fullmatch(text)):
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return address.version, int(address)
