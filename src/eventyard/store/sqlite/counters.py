"""Per-queue counters on SQLite: one row per queue, bumped inside the operation's transaction.

Every batch call adds its counts with ONE upsert (never one per message), so
the counters cost the hot path one cheap statement per transaction; they
commit or roll back with the messages they count, and every process sees
the same figures.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Final, Literal

from eventyard.store.records import QueueCounters
from eventyard.store.sqlite.rows import first_row

Counter = Literal["sent", "received", "deleted", "dead_lettered", "purged"]

_BUMP: Final[dict[str, str]] = {
    column: (
        f"INSERT INTO eventyard_queue_counters (queue_id, {column}) VALUES (?, ?)"
        f" ON CONFLICT (queue_id) DO UPDATE SET {column} = {column} + excluded.{column}"
    )
    for column in ("sent", "received", "deleted", "dead_lettered", "purged")
}
_BUMP_RECEIVE: Final = (
    "INSERT INTO eventyard_queue_counters (queue_id, received, dead_lettered) VALUES (?, ?, ?)"
    " ON CONFLICT (queue_id) DO UPDATE SET received = received + excluded.received,"
    " dead_lettered = dead_lettered + excluded.dead_lettered"
)


def bump(conn: sqlite3.Connection, queue_id: int, counter: Counter, count: int) -> None:
    """Add ``count`` to one counter of one queue (nothing when it is 0)."""
    if count:
        conn.execute(_BUMP[counter], (queue_id, count))


def bump_many(
    conn: sqlite3.Connection, counter: Counter, counts: Iterable[tuple[int, int]]
) -> None:
    """Add to one counter of several queues: ``(queue id, count)`` pairs, one statement."""
    rows = [(queue_id, count) for queue_id, count in counts if count]
    if len(rows) == 1:
        conn.execute(_BUMP[counter], rows[0])
    elif rows:
        conn.execute(
            _BUMP[counter].replace("VALUES (?, ?)", "VALUES " + ", ".join(["(?, ?)"] * len(rows))),
            [value for row in rows for value in row],
        )


def bump_receive(
    conn: sqlite3.Connection, queue_id: int, received: int, dead_lettered: int
) -> None:
    if dead_lettered:
        conn.execute(_BUMP_RECEIVE, (queue_id, received, dead_lettered))
    elif received:
        conn.execute(_BUMP["received"], (queue_id, received))


def read(conn: sqlite3.Connection, queue_id: int) -> QueueCounters:
    row = first_row(
        conn.execute(
            "SELECT sent, received, deleted, dead_lettered, purged"
            " FROM eventyard_queue_counters WHERE queue_id = ?",
            (queue_id,),
        )
    )
    return QueueCounters() if row is None else QueueCounters(*row)


def forget(conn: sqlite3.Connection, queue_id: int) -> None:
    conn.execute("DELETE FROM eventyard_queue_counters WHERE queue_id = ?", (queue_id,))
