"""Per-queue counters: a row per queue (per shard on PostgreSQL), bumped in the operation's
transaction.

Every batch call adds its counts with ONE upsert (never one per message), so
the counters cost the hot path one cheap statement per transaction; they
commit or roll back with the messages they count, and every process sees
the same figures.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Literal

from eventyard.store.records import QueueCounters
from eventyard.store.sql.dialect import Connection, Dialect
from eventyard.store.sql.rows import first_row

Counter = Literal["sent", "received", "deleted", "dead_lettered", "purged"]


@functools.cache
def _bump_sql(dialect: Dialect, columns: tuple[str, ...], rows: int) -> str:
    """One upsert adding ``columns`` to ``rows`` queues' counter rows.

    On PostgreSQL each connection adds to its own shard of a queue's row
    (`Dialect.counter_shard`): one row that every consumer updates would make
    them wait for each other's commits on its row lock.
    """
    return dialect.adding_upsert("eventyard_queue_counters", ("queue_id",), columns, rows)


def bump(conn: Connection, queue_id: int, counter: Counter, count: int) -> None:
    """Add ``count`` to one counter of one queue (nothing when it is 0)."""
    if count:
        conn.execute(_bump_sql(conn.dialect, (counter,), 1), (queue_id, count))


def bump_many(conn: Connection, counter: Counter, counts: Iterable[tuple[int, int]]) -> None:
    """Add to one counter of several queues: ``(queue id, count)`` pairs, one statement."""
    rows = [(queue_id, count) for queue_id, count in counts if count]
    if rows:
        conn.execute(
            _bump_sql(conn.dialect, (counter,), len(rows)),
            [value for row in rows for value in row],
        )


def bump_receive(conn: Connection, queue_id: int, received: int, dead_lettered: int) -> None:
    if dead_lettered:
        conn.execute(
            _bump_sql(conn.dialect, ("received", "dead_lettered"), 1),
            (queue_id, received, dead_lettered),
        )
    elif received:
        conn.execute(_bump_sql(conn.dialect, ("received",), 1), (queue_id, received))


def read(conn: Connection, queue_id: int) -> QueueCounters:
    row = first_row(
        conn.execute(
            "SELECT sum(sent), sum(received), sum(deleted), sum(dead_lettered), sum(purged)"
            " FROM eventyard_queue_counters WHERE queue_id = ?",
            (queue_id,),
        )
    )
    return QueueCounters() if row is None or row[0] is None else QueueCounters(*map(int, row))


def forget(conn: Connection, queue_id: int) -> None:
    conn.execute("DELETE FROM eventyard_queue_counters WHERE queue_id = ?", (queue_id,))
