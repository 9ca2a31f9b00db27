"""Message attributes: validation, storage form, and the two ways to read them.

Users give plain values (``{"kind": "book", "copies": 3, "thumb": b"..."}``)
or the SQS shape (``{"kind": {"DataType": "String", "StringValue": "book"}}``).
They are stored as one compact JSON object ``{"name": [data_type, value]}``
(binary values base64) and read back either plain (`plain_attributes`) or in
the SQS shape (`typed_attributes`).
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from eventyard.errors import (
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidParameterValue,
)
from eventyard.model import limits
from eventyard.model.body import check_text, text_size_bytes
from eventyard.model.names import shorten

_NAME: Final = re.compile(r"[A-Za-z0-9_.-]+")
_DATA_TYPE: Final = re.compile(r"(String|Number|Binary)(\.[A-Za-z0-9_.-]+)?")
_RESERVED_PREFIXES: Final = ("aws.", "amazon.")
# SQS numbers: up to 38 significant digits, magnitude 1e-128 .. 1e126.
_NUMBER_MAX_DIGITS: Final = 38
_NUMBER_MAX_EXPONENT: Final = 126
_NUMBER_MIN_EXPONENT: Final = -128

#: One stored attribute: [data_type, value], binary values base64-encoded.
StoredAttribute = list[str]


def check_attribute_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidAttributeName(
            f"message attribute name {shorten(name)} must be a non-empty string"
        )
    if len(name) > limits.ATTRIBUTE_NAME_MAX_LENGTH:
        raise InvalidAttributeName(
            f"message attribute name {shorten(name)} has {len(name)} characters; "
            f"the limit is {limits.ATTRIBUTE_NAME_MAX_LENGTH}"
        )
    if not _NAME.fullmatch(name):
        raise InvalidAttributeName(
            f"message attribute name {shorten(name)} may only hold letters, digits, "
            "'-', '_' and '.'"
        )
    if name.lower().startswith(_RESERVED_PREFIXES):
        raise InvalidAttributeName(
            f"message attribute name {shorten(name)} starts with a reserved prefix "
            "(AWS. or Amazon.)"
        )
    if name.startswith(".") or name.endswith(".") or ".." in name:
        raise InvalidAttributeName(
            f"message attribute name {shorten(name)} must not start or end with '.' nor hold '..'"
        )
    return name


def _number_text(value: object, name: str) -> str:
    """The canonical SQS text of a Number attribute, or a specific error."""
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidAttributeValue(f"message attribute {name!r}: {value} is not a finite number")
    try:
        number = Decimal(value if isinstance(value, str) else repr(value))
    except (InvalidOperation, ValueError):
        raise InvalidAttributeValue(
            f"message attribute {name!r} of type Number has the value {shorten(value)}, "
            "which is not a number"
        ) from None
    if not number.is_finite():
        raise InvalidAttributeValue(f"message attribute {name!r}: {value} is not a finite number")
    digits = len(number.as_tuple().digits)
    if number and (
        digits > _NUMBER_MAX_DIGITS
        or not _NUMBER_MIN_EXPONENT <= number.adjusted() <= _NUMBER_MAX_EXPONENT
    ):
        raise InvalidAttributeValue(
            f"message attribute {name!r}: {shorten(value)} is out of range (at most "
            f"{_NUMBER_MAX_DIGITS} significant digits, magnitude 1e-128 to 1e126)"
        )
    return value if isinstance(value, str) else str(value)


def _stored_from_typed(name: str, spec: Mapping[str, Any]) -> StoredAttribute:
    data_type = spec.get("DataType")
    if not isinstance(data_type, str) or not _DATA_TYPE.fullmatch(data_type):
        raise InvalidAttributeValue(
            f"message attribute {name!r} has DataType {shorten(data_type)}; it must be String, "
            "Number or Binary, optionally followed by '.label'"
        )
    if len(data_type) > limits.ATTRIBUTE_TYPE_MAX_LENGTH:
        raise InvalidAttributeValue(
            f"message attribute {name!r}: DataType has {len(data_type)} characters; "
            f"the limit is {limits.ATTRIBUTE_TYPE_MAX_LENGTH}"
        )
    base_type = data_type.split(".", 1)[0]
    if base_type == "Binary":
        raw = spec.get("BinaryValue")
        if isinstance(raw, str):
            try:
                raw = base64.b64decode(raw, validate=True)
            except ValueError:
                raise InvalidAttributeValue(
                    f"message attribute {name!r}: BinaryValue is a string but not base64"
                ) from None
        if not isinstance(raw, bytes | bytearray) or not raw:
            raise InvalidAttributeValue(
                f"message attribute {name!r} of type Binary needs a non-empty BinaryValue"
            )
        return [data_type, base64.b64encode(bytes(raw)).decode("ascii")]
    value = spec.get("StringValue")
    if (
        base_type == "Number"
        and isinstance(value, int | float | Decimal)
        and not isinstance(value, bool)
    ):
        value = _number_text(value, name)
    if not isinstance(value, str) or not value:
        raise InvalidAttributeValue(
            f"message attribute {name!r} of type {data_type} needs a non-empty StringValue"
        )
    if base_type == "Number":
        _number_text(value, name)
    check_text(value, f"message attribute {name!r}")
    return [data_type, value]


def _stored_from_plain(name: str, value: object) -> StoredAttribute:
    if isinstance(value, Mapping):
        return _stored_from_typed(name, value)
    if isinstance(value, bool):
        raise InvalidAttributeValue(
            f"message attribute {name!r} is a bool; send 'true'/'false' as a string or 1/0 "
            "as a number"
        )
    if isinstance(value, str):
        return _stored_from_typed(name, {"DataType": "String", "StringValue": value})
    if isinstance(value, int | float | Decimal):
        return ["Number", _number_text(value, name)]
    if isinstance(value, bytes | bytearray | memoryview):
        return _stored_from_typed(name, {"DataType": "Binary", "BinaryValue": bytes(value)})
    raise InvalidAttributeValue(
        f"message attribute {name!r} has a value of type {type(value).__name__}; use str, "
        "int, float, Decimal, bytes or {'DataType': ..., 'StringValue'|'BinaryValue': ...}"
    )


def encode_attributes(attributes: Mapping[str, object] | None) -> tuple[str | None, int]:
    """Validate attributes; return ``(stored JSON or None, size in bytes)``."""
    if not attributes:
        return None, 0
    if not isinstance(attributes, Mapping):
        raise InvalidParameterValue(
            f"attributes must be a mapping of name to value, got {type(attributes).__name__}"
        )
    if len(attributes) > limits.MESSAGE_ATTRIBUTES_MAX:
        raise InvalidParameterValue(
            f"a message may carry at most {limits.MESSAGE_ATTRIBUTES_MAX} attributes; "
            f"got {len(attributes)}"
        )
    stored: dict[str, StoredAttribute] = {}
    size = 0
    for name, value in attributes.items():
        check_attribute_name(name)
        entry = _stored_from_plain(name, value)
        stored[name] = entry
        value_size = (
            len(base64.b64decode(entry[1]))
            if entry[0].startswith("Binary")
            else text_size_bytes(entry[1])
        )
        size += len(name) + len(entry[0]) + value_size
    return json.dumps(stored, separators=(",", ":"), ensure_ascii=False), size


def _plain_value(data_type: str, value: str) -> object:
    base_type = data_type.split(".", 1)[0]
    if base_type == "Binary":
        return base64.b64decode(value)
    if base_type == "Number":
        try:
            return int(value)
        except ValueError:
            return float(value)
    return value


def plain_attributes(stored: str | None) -> dict[str, object]:
    """Attributes as plain Python values: str, int/float (Number) or bytes (Binary)."""
    if not stored:
        return {}
    decoded: dict[str, StoredAttribute] = json.loads(stored)
    return {name: _plain_value(t, v) for name, (t, v) in decoded.items()}


def typed_attributes(stored: str | None) -> dict[str, dict[str, object]]:
    """Attributes in the SQS shape: ``{"name": {"DataType": ..., "StringValue"|"BinaryValue"}}``."""
    if not stored:
        return {}
    decoded: dict[str, StoredAttribute] = json.loads(stored)
    result: dict[str, dict[str, object]] = {}
    for name, (data_type, value) in decoded.items():
        if data_type.startswith("Binary"):
            result[name] = {"DataType": data_type, "BinaryValue": base64.b64decode(value)}
        else:
            result[name] = {"DataType": data_type, "StringValue": value}
    return result
