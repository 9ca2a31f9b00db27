"""An operator's actions on single messages: peek, delete by id, redrive chosen ones.

Message ids have no index (one would cost every send), so finding messages
by id reads the queue's rows; that read happens *before* the write lock is
taken (`find_rows`), and the write then touches the rows by primary key,
checking they are still in the queue. Row ids are never reused
(AUTOINCREMENT), so a row found by the read is the same message or gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from eventyard import lifecycle
from eventyard.errors import EventyardError, MessageNotFound
from eventyard.store.records import PeekedRow, QueueRecord
from eventyard.store.sql import counters, move_tasks
from eventyard.store.sql.dialect import Connection

_PEEK_COLUMNS: Final = (
    "id, message_id, body, body_kind, attributes, sent_at_ms, visible_at_ms,"
    " receive_count, first_received_at_ms, sender_id, group_id, deduplication_id,"
    " dead_letter_source"
)
# The page's row ids from the (queue_id, visible_at_ms) index alone (it holds the row id),
# then those rows; about twice as fast as sorting whole rows of a long queue.
_PEEK_IDS: Final = (
    "SELECT id FROM eventyard_messages WHERE queue_id = ? AND id > ? ORDER BY id LIMIT ?"
)
_PEEK_ROWS: Final = (
    f"SELECT {_PEEK_COLUMNS} FROM eventyard_messages WHERE {{ids}}"
    " AND queue_id = ? AND retained_from_ms > ? ORDER BY id"
)
# When some were expired: one pass that skips them.
_PEEK: Final = (
    f"SELECT {_PEEK_COLUMNS} FROM eventyard_messages"
    " WHERE queue_id = ? AND id > ? AND retained_from_ms > ? ORDER BY id LIMIT ?"
)


def peek(
    conn: Connection, queue: QueueRecord, after_row_id: int, limit: int, now_ms: int
) -> list[PeekedRow]:
    """Up to ``limit`` unexpired messages after ``after_row_id``, oldest row first; no writes.

    Costs a scan of the queue's index entries per page (no index orders a queue's
    rows by id: one would cost every send).
    """
    cutoff = lifecycle.retention_cutoff_ms(queue.config.retention_seconds, now_ms)
    ids = [row[0] for row in conn.execute(_PEEK_IDS, (queue.id, after_row_id, limit))]
    if not ids:
        return []
    dialect = conn.dialect
    rows = conn.execute(
        _PEEK_ROWS.format(ids=dialect.one_of("id")), (dialect.values(ids), queue.id, cutoff)
    ).fetchall()
    if len(rows) < len(ids) and len(ids) == limit:
        # Some were expired (or moved away): read the page again, skipping them.
        rows = conn.execute(_PEEK, (queue.id, after_row_id, cutoff, limit)).fetchall()
    if dialect.converts_bodies:
        return [
            PeekedRow(row[0], row[1], dialect.loaded_body(row[2], row[3]), *row[3:]) for row in rows
        ]
    return [PeekedRow._make(row) for row in rows]


def find_rows(
    conn: Connection, queue: QueueRecord, message_ids: Sequence[str], now_ms: int
) -> dict[int, str]:
    """Row id → message id of the unexpired messages of ``queue`` with those ids (a read)."""
    cutoff = lifecycle.retention_cutoff_ms(queue.config.retention_seconds, now_ms)
    return dict(
        conn.execute(
            "SELECT id, message_id FROM eventyard_messages WHERE queue_id = ?"
            f" AND {conn.dialect.one_of('message_id')} AND retained_from_ms > ?",
            (queue.id, conn.dialect.values(message_ids), cutoff),
        ).fetchall()
    )


def _not_found(queue: QueueRecord) -> MessageNotFound:
    return MessageNotFound(
        f"no message of that id is in queue {queue.name!r} (deleted, expired, moved, or "
        "never sent there)"
    )


def delete_rows(
    conn: Connection,
    queue: QueueRecord,
    message_ids: Sequence[str],
    rows: dict[int, str],
) -> list[EventyardError | None]:
    """Delete the rows found by `find_rows` that are still in the queue; a result per id."""
    deleted: set[str] = set()
    if rows:
        deleted = {
            row[0]
            for row in conn.execute(
                "DELETE FROM eventyard_messages WHERE queue_id = ?"
                f" AND {conn.dialect.one_of('id')} RETURNING message_id",
                (queue.id, conn.dialect.values(rows)),
            ).fetchall()
        }
    counters.bump(conn, queue.id, "deleted", len(deleted))
    return [None if message_id in deleted else _not_found(queue) for message_id in message_ids]


def redrive_rows(
    conn: Connection,
    source: QueueRecord,
    message_ids: Sequence[str],
    rows: dict[int, str],
    destination_name: str | None,
    now_ms: int,
) -> list[EventyardError | None]:
    """Move the rows found by `find_rows` as a redrive task would (`move_tasks.move_rows`)."""
    outcome: dict[str, EventyardError | None] = {}
    if rows:
        candidates = conn.execute(
            "SELECT id, dead_letter_source, visible_at_ms FROM eventyard_messages"
            f" WHERE queue_id = ? AND {conn.dialect.one_of('id')} ORDER BY id",
            (source.id, conn.dialect.values(rows)),
        ).fetchall()
        moved = move_tasks.move_rows(conn, source, candidates, destination_name, now_ms)
        for (row_id, _, _), error in zip(candidates, moved, strict=True):
            message_id = rows[row_id]
            if outcome.get(message_id) is None:  # a failure of any of its rows sticks
                outcome[message_id] = error
    return [
        outcome[message_id] if message_id in outcome else _not_found(source)
        for message_id in message_ids
    ]
