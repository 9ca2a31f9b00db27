"""Message bodies: what may be sent, how it is stored, how it comes back.

A body is a ``str`` (stored as given), ``bytes`` (stored as a blob: ours,
SQS has no binary bodies) or any JSON-serializable value (stored as compact
JSON text and decoded again on receive, so ``send({"a": 1})`` receives
``{"a": 1}``). Text must be XML-legal Unicode, as in SQS. Nothing is ever
pickled.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any, Final

from eventyard.errors import InvalidMessageContents, InvalidParameterValue
from eventyard.model.names import shorten

BODY_TEXT: Final = 0
BODY_BYTES: Final = 1
BODY_JSON: Final = 2

# The complement of the characters SQS accepts:
# #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF
_ILLEGAL_CHARACTER: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_json_encoder: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def text_size_bytes(text: str) -> int:
    """Size of ``text`` in UTF-8 without encoding it when it is plain ASCII."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def check_text(text: str, field: str = "body") -> None:
    """Refuse characters SQS does not accept (control characters, lone surrogates...)."""
    bad = _ILLEGAL_CHARACTER.search(text)
    if bad is not None:
        raise InvalidMessageContents(
            f"{field} holds the character U+{ord(bad.group()):04X} at position {bad.start()}; "
            "allowed are #x9, #xA, #xD, #x20-#xD7FF, #xE000-#xFFFD and #x10000-#x10FFFF"
        )


def encode_body(body: object) -> tuple[str | bytes, int, int]:
    """Return ``(stored value, kind, size in bytes)`` for a body, or raise a specific error."""
    if isinstance(body, str):
        if not body:
            raise InvalidParameterValue("body must not be empty (at least 1 character)")
        # Printable ASCII (the common case) needs no regular expression.
        if not (body.isascii() and body.isprintable()):
            check_text(body)
        return body, BODY_TEXT, text_size_bytes(body)
    if isinstance(body, bytes | bytearray | memoryview):
        data = bytes(body)
        if not data:
            raise InvalidParameterValue("body must not be empty (at least 1 byte)")
        return data, BODY_BYTES, len(data)
    try:
        text = _json_encoder.encode(body)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterValue(
            f"body {shorten(body)} of type {type(body).__name__} is not str, bytes or "
            f"JSON-serializable: {exc}"
        ) from None
    if not text.isascii():
        check_text(text)
    return text, BODY_JSON, text_size_bytes(text)


def decode_body(stored: str | bytes, kind: int) -> Any:
    """The body as it was sent: text, bytes, or the decoded JSON value."""
    if kind == BODY_JSON:
        return json.loads(stored)
    return stored


def body_text(stored: str | bytes, kind: int) -> str:
    """The body as SQS would carry it: text (bytes are shown as base64)."""
    if isinstance(stored, bytes):
        return base64.b64encode(stored).decode("ascii")
    return stored
