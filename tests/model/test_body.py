"""Message bodies: text, bytes and JSON, the XML character rule, sizes."""

from __future__ import annotations

import pytest

from eventyard.errors import InvalidMessageContents, InvalidParameterValue
from eventyard.model.body import (
    BODY_BYTES,
    BODY_JSON,
    BODY_TEXT,
    body_text,
    decode_body,
    encode_body,
)


def test_text_is_stored_as_given_and_sized_in_utf8() -> None:
    assert encode_body("héllo") == ("héllo", BODY_TEXT, 6)
    assert encode_body("plain") == ("plain", BODY_TEXT, 5)


def test_bytes_are_stored_as_a_blob() -> None:
    assert encode_body(b"\x00\xff") == (b"\x00\xff", BODY_BYTES, 2)
    assert body_text(b"\x00\xff", BODY_BYTES) == "AP8="


def test_json_values_round_trip() -> None:
    for value in [{"order_id": 1, "items": [1, 2]}, [1, "a"], 5, 2.5, True, None]:
        stored, kind, _size = encode_body(value)
        assert kind == BODY_JSON
        assert decode_body(stored, kind) == value


@pytest.mark.parametrize(
    "character", ["\x00", "\x08", "\x0b", "\x1f", "\ud800", "\ufffe", "\uffff"]
)
def test_characters_outside_the_xml_set_are_refused(character: str) -> None:
    with pytest.raises(InvalidMessageContents, match=f"U\\+{ord(character):04X}"):
        encode_body(f"ok{character}ok")


@pytest.mark.parametrize("character", ["\t", "\n", "\r", " ", "\ud7ff", "\ue000", "\U0001f600"])
def test_characters_inside_the_xml_set_are_accepted(character: str) -> None:
    assert encode_body(f"a{character}")[1] == BODY_TEXT


def test_json_escapes_control_characters_but_lone_surrogates_are_refused() -> None:
    stored, _kind, _size = encode_body({"ctl": "\x01"})
    assert stored == '{"ctl":"\\u0001"}'  # JSON escapes it: the wire text is legal
    with pytest.raises(InvalidMessageContents, match="U\\+D800"):
        encode_body({"bad": "\ud800"})  # ensure_ascii=False keeps the raw surrogate


def test_empty_and_unserializable_bodies() -> None:
    with pytest.raises(InvalidParameterValue, match="must not be empty"):
        encode_body("")
    with pytest.raises(InvalidParameterValue, match="must not be empty"):
        encode_body(b"")
    with pytest.raises(InvalidParameterValue, match="not str, bytes or JSON-serializable"):
        encode_body({1, 2})
    with pytest.raises(InvalidParameterValue, match="not str, bytes or JSON-serializable"):
        encode_body(float("nan"))
