"""Receipt handles: opaque to users, cheap to parse, new at every receive.

A handle names the queue, the message row and the random receipt token that
the receive drew. The token is what makes a handle go stale: the next
receive draws another one, and only the latest matches the row.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from eventyard.errors import ReceiptHandleIsInvalid
from eventyard.model.names import shorten

_PREFIX: Final = "ey1:"


class Receipt(NamedTuple):
    queue_id: int
    row_id: int
    token: int


def make_receipt_handle(queue_id: int, row_id: int, token: int) -> str:
    return f"{_PREFIX}{queue_id}:{row_id}:{token}"


def parse_receipt_handle(handle: object, queue_id: int, queue_name: str) -> Receipt:
    """Parse a handle of this queue, or raise ReceiptHandleIsInvalid saying why."""
    if not isinstance(handle, str) or not handle.startswith(_PREFIX):
        raise ReceiptHandleIsInvalid(
            f"receipt handle {shorten(handle)} is not a receipt handle of eventyard"
        )
    parts = handle.split(":")
    try:
        if len(parts) != 4:
            raise ValueError
        owner, row_id, token = int(parts[1]), int(parts[2]), int(parts[3])
    except ValueError:
        raise ReceiptHandleIsInvalid(f"receipt handle {shorten(handle)} is malformed") from None
    if owner != queue_id:
        raise ReceiptHandleIsInvalid(
            f"receipt handle {shorten(handle)} belongs to another queue, not {queue_name!r} "
            "(or to an earlier queue of that name)"
        )
    return Receipt(owner, row_id, token)
