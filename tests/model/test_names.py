"""Queue names, entry ids and FIFO ids: the rules of the SQS names row."""

from __future__ import annotations

import pytest

from eventyard.errors import InvalidBatchEntryId, InvalidParameterValue
from eventyard.model.names import (
    check_entry_ids,
    check_fifo_id,
    check_int_range,
    check_queue_name,
    queue_name_from,
)


@pytest.mark.parametrize(
    "name", ["a", "orders", "Orders_2-b", "x" * 80, "jobs.fifo", "y" * 75 + ".fifo"]
)
def test_valid_queue_names(name: str) -> None:
    assert check_queue_name(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "has 0 characters"),
        ("x" * 81, "has 81 characters"),
        ("z" * 77 + ".fifo", "has 82 characters"),
        (".fifo", "1 to 80"),
        ("has space", "letters, digits"),
        ("dot.name", "letters, digits"),
        ("ünicode", "letters, digits"),
        ("a.fifo.fifo", "letters, digits"),
    ],
)
def test_invalid_queue_names_say_why(name: str, reason: str) -> None:
    with pytest.raises(InvalidParameterValue, match=reason):
        check_queue_name(name)


def test_queue_name_must_be_a_string() -> None:
    with pytest.raises(InvalidParameterValue, match="must be a string"):
        check_queue_name(42)


def test_queue_name_from_arn() -> None:
    assert queue_name_from("arn:aws:sqs:us-east-1:000000000000:orders") == "orders"
    assert queue_name_from("orders") == "orders"


def test_entry_ids() -> None:
    check_entry_ids(["a", "B_1-2", "x" * 80])
    for bad in ["", "x" * 81, "has space", "dot.id"]:
        with pytest.raises(InvalidBatchEntryId, match="batch entry id"):
            check_entry_ids([bad])


def test_fifo_ids_are_printable_ascii_up_to_128() -> None:
    assert check_fifo_id("g-1!~", "group_id", 128) == "g-1!~"
    for bad in ["", "x" * 129, "with space", "é"]:
        with pytest.raises(InvalidParameterValue, match="group_id"):
            check_fifo_id(bad, "group_id", 128)


def test_int_range_names_field_value_and_limit() -> None:
    assert check_int_range(5, "delay_seconds", 0, 900) == 5
    assert check_int_range(5.0, "delay_seconds", 0, 900) == 5
    with pytest.raises(
        InvalidParameterValue, match=r"delay_seconds must be from 0 to 900, got 901"
    ):
        check_int_range(901, "delay_seconds", 0, 900)
    for bad in [True, 1.5, "3", None]:
        with pytest.raises(InvalidParameterValue, match="delay_seconds must be a whole number"):
            check_int_range(bad, "delay_seconds", 0, 900)
