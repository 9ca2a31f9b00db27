"""Validation of names and ids: queue names, batch entry ids, FIFO ids.

Pure functions that return the checked value or raise a specific
`InvalidParameterValue` naming the field, the value and the rule.
"""

from __future__ import annotations

import re
from typing import Final

from eventyard.errors import InvalidBatchEntryId, InvalidParameterValue
from eventyard.model import limits

_QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]+")
_ENTRY_ID = re.compile(r"[A-Za-z0-9_-]+")
# SQS: group and deduplication ids use printable ASCII (!-~).
_FIFO_ID = re.compile(r"[!-~]+")
_ARN_PREFIX: Final = "arn:"


def shorten(value: object, limit: int = 60) -> str:
    """A repr of ``value`` short enough to quote in an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def queue_name_from(name_or_arn: str) -> str:
    """The queue name in a name or an ``arn:aws:sqs:region:account:name`` ARN."""
    if name_or_arn.startswith(_ARN_PREFIX):
        return name_or_arn.rsplit(":", 1)[-1]
    return name_or_arn


def check_queue_name(name: object, field: str = "queue name") -> str:
    """Check a queue name: 1-80 characters of [A-Za-z0-9_-], FIFO names end in .fifo."""
    if not isinstance(name, str):
        raise InvalidParameterValue(f"{field} must be a string, got {type(name).__name__}")
    base = name[: -len(limits.FIFO_SUFFIX)] if name.endswith(limits.FIFO_SUFFIX) else name
    if not 1 <= len(name) <= limits.QUEUE_NAME_MAX_LENGTH or not base:
        raise InvalidParameterValue(
            f"{field} {shorten(name)} has {len(name)} characters; "
            f"it must have 1 to {limits.QUEUE_NAME_MAX_LENGTH} (the .fifo suffix included)"
        )
    if not _QUEUE_NAME.fullmatch(base):
        raise InvalidParameterValue(
            f"{field} {shorten(name)} may only hold letters, digits, '-' and '_' "
            f"(and end in '.fifo' for a FIFO queue)"
        )
    return name


def is_fifo_name(name: str) -> bool:
    return name.endswith(limits.FIFO_SUFFIX)


def check_entry_ids(ids: list[str]) -> None:
    """Batch entry ids: each 1-80 of [A-Za-z0-9_-]; distinctness is checked by the caller."""
    for entry_id in ids:
        if (
            isinstance(entry_id, str)
            and entry_id.isascii()
            and entry_id.isalnum()
            and len(entry_id) <= limits.BATCH_ENTRY_ID_MAX_LENGTH
        ):
            continue  # the common case, without the regular expression
        if (
            not isinstance(entry_id, str)
            or not 1 <= len(entry_id) <= limits.BATCH_ENTRY_ID_MAX_LENGTH
            or not _ENTRY_ID.fullmatch(entry_id)
        ):
            raise InvalidBatchEntryId(
                f"batch entry id {shorten(entry_id)} is invalid: it must be 1 to "
                f"{limits.BATCH_ENTRY_ID_MAX_LENGTH} characters of letters, digits, '-' and '_'"
            )


def check_fifo_id(value: object, field: str, limit: int) -> str:
    """A message group id or deduplication id: 1-128 printable ASCII characters."""
    if not isinstance(value, str):
        raise InvalidParameterValue(f"{field} must be a string, got {type(value).__name__}")
    if not 1 <= len(value) <= limit or not _FIFO_ID.fullmatch(value):
        raise InvalidParameterValue(
            f"{field} {shorten(value)} is invalid: it must be 1 to {limit} printable "
            f"ASCII characters (! to ~)"
        )
    return value


def check_int_range(value: object, field: str, low: int, high: int) -> int:
    """An integer in [low, high]; bools and floats with a fraction are refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise InvalidParameterValue(
                f"{field} must be a whole number from {low} to {high}, got {shorten(value)}"
            )
    if not low <= value <= high:
        raise InvalidParameterValue(f"{field} must be from {low} to {high}, got {value}")
    return value
