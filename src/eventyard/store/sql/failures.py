"""Failure records on SQLite: why functions failed a message, attempt by attempt."""

from __future__ import annotations

from collections.abc import Sequence

from eventyard.store.records import FailureRecord
from eventyard.store.sql.dialect import Connection

#: Bounds on what a failure keeps (a handler's exception text is user input).
MESSAGE_MAX_CHARS = 2_000
TRACEBACK_MAX_CHARS = 4_000


def record(conn: Connection, failures: Sequence[FailureRecord]) -> None:
    conn.executemany(
        "INSERT INTO eventyard_failures (message_id, queue, function, attempt, error_type,"
        " error_message, traceback, failed_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                f.message_id,
                f.queue,
                f.function,
                f.attempt,
                f.error_type[:200],
                f.error_message[:MESSAGE_MAX_CHARS],
                f.traceback[-TRACEBACK_MAX_CHARS:],
                f.failed_at_ms,
            )
            for f in failures
        ],
    )


def of_message(conn: Connection, message_id: str) -> list[FailureRecord]:
    rows = conn.execute(
        "SELECT message_id, queue, function, attempt, error_type, error_message, traceback,"
        " failed_at_ms FROM eventyard_failures WHERE message_id = ? ORDER BY id",
        (message_id,),
    ).fetchall()
    return [FailureRecord(*row) for row in rows]
