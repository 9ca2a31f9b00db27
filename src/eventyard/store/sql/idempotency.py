"""Idempotency records on SQLite: the rows of ``eventyard_idempotency``.

One row per stored key (``namespace:key``). This module only reads and writes
rows; which transition applies (run, replay, reject) is decided by
`eventyard.idempotency`. Every function takes a connection inside the
caller's transaction, so a record can commit together with the application's
own writes.

A row's ``created_at_ms`` doubles as the token of the run that wrote it:
`complete` and `release` touch the row only while it still belongs to that
run, so a run that was taken over (its in-progress time ran out) cannot
overwrite or delete its successor's record. An IN_PROGRESS row expires
(``expires_at_ms``) when its in-progress time does, so `sweep_expired` also
clears the records of runs that crashed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from eventyard.store.sql.dialect import Connection
from eventyard.store.sql.rows import first_row

IN_PROGRESS: Final = "IN_PROGRESS"
COMPLETED: Final = "COMPLETED"

Status = Literal["IN_PROGRESS", "COMPLETED"]

_COLUMNS: Final = (
    "key, status, payload_hash, result, in_progress_until_ms, expires_at_ms, created_at_ms"
)


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """One stored record; ``result`` is JSON text (None while in progress)."""

    key: str
    status: Status
    payload_hash: str
    result: str | None
    in_progress_until_ms: int
    expires_at_ms: int
    created_at_ms: int


def get(conn: Connection, key: str) -> IdempotencyRecord | None:
    """The record stored under ``key`` (expired or not), or None."""
    row = first_row(
        conn.execute(f"SELECT {_COLUMNS} FROM eventyard_idempotency WHERE key = ?", (key,))
    )
    return None if row is None else IdempotencyRecord(*row)


def begin(
    conn: Connection,
    key: str,
    payload_hash: str,
    now_ms: int,
    in_progress_until_ms: int,
) -> IdempotencyRecord:
    """Write an IN_PROGRESS record under ``key``, replacing any record there.

    The caller has checked (in the same transaction) that there is none, or
    that the one there has expired.
    """
    record = IdempotencyRecord(
        key, "IN_PROGRESS", payload_hash, None, in_progress_until_ms, in_progress_until_ms, now_ms
    )
    conn.execute(
        f"INSERT INTO eventyard_idempotency ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS.split(", ")[1:]),
        (
            record.key,
            record.status,
            record.payload_hash,
            record.result,
            record.in_progress_until_ms,
            record.expires_at_ms,
            record.created_at_ms,
        ),
    )
    return record


def complete(conn: Connection, started: IdempotencyRecord, result: str, expires_at_ms: int) -> bool:
    """Mark the run that wrote ``started`` COMPLETED with its JSON ``result``.

    Writes the record back if a sweep removed it meanwhile. Returns False (and
    changes nothing) when another run has taken the key over since.
    """
    cursor = conn.execute(
        f"INSERT INTO eventyard_idempotency ({_COLUMNS}) VALUES (?, 'COMPLETED', ?, ?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET"
        " status = 'COMPLETED', result = excluded.result, expires_at_ms = excluded.expires_at_ms"
        " WHERE eventyard_idempotency.status = 'IN_PROGRESS'"
        " AND eventyard_idempotency.created_at_ms = excluded.created_at_ms",
        (
            started.key,
            started.payload_hash,
            result,
            started.in_progress_until_ms,
            expires_at_ms,
            started.created_at_ms,
        ),
    )
    return cursor.rowcount > 0


def release(conn: Connection, started: IdempotencyRecord) -> bool:
    """Delete the IN_PROGRESS record of the run that wrote ``started`` (its handler failed)."""
    cursor = conn.execute(
        "DELETE FROM eventyard_idempotency"
        " WHERE key = ? AND status = 'IN_PROGRESS' AND created_at_ms = ?",
        (started.key, started.created_at_ms),
    )
    return cursor.rowcount > 0


def sweep_expired(conn: Connection, now_ms: int, limit: int = 1000) -> int:
    """Delete up to ``limit`` records that expired at or before ``now_ms``; return how many."""
    cursor = conn.execute(
        "DELETE FROM eventyard_idempotency WHERE key IN ("
        " SELECT key FROM eventyard_idempotency WHERE expires_at_ms <= ? LIMIT ?)",
        (now_ms, limit),
    )
    return cursor.rowcount
