"""Reading single rows without leaving a statement open."""

from __future__ import annotations

from typing import Any

from eventyard.store.sql.dialect import Cursor


def first_row(cursor: Cursor) -> Any:
    """The first row of a query, or None, with the statement run to its end.

    In autocommit mode a SELECT that was not read to the end keeps its read
    transaction open: the connection would go on seeing that old snapshot
    (and block checkpoints) until the statement is reset.
    """
    rows = cursor.fetchall()
    return rows[0] if rows else None
