"""Receipt handles: opaque, tied to one queue and one receive."""

from __future__ import annotations

import pytest

from eventyard.errors import ReceiptHandleIsInvalid
from eventyard.model.receipt import make_receipt_handle, parse_receipt_handle


def test_round_trip() -> None:
    handle = make_receipt_handle(3, 42, -7)
    receipt = parse_receipt_handle(handle, 3, "orders")
    assert (receipt.queue_id, receipt.row_id, receipt.token) == (3, 42, -7)


@pytest.mark.parametrize(
    ("handle", "reason"),
    [
        ("garbage", "not a receipt handle"),
        (None, "not a receipt handle"),
        ("ey1:3:x:1", "malformed"),
        ("ey1:3:4", "malformed"),
        (make_receipt_handle(4, 1, 1), "belongs to another queue"),
    ],
)
def test_bad_handles(handle: object, reason: str) -> None:
    with pytest.raises(ReceiptHandleIsInvalid, match=reason):
        parse_receipt_handle(handle, 3, "orders")


def test_message_ids_are_version_4_uuids() -> None:
    import uuid

    from eventyard.model.ids import new_message_ids

    ids = new_message_ids(50)
    assert len(set(ids)) == 50
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
