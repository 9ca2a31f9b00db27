"""Replays of archived events on SQLite: the replay row, its lease and its cursor.

A replay walks its archive's events of a time window in (time, id) order.
The dispatcher that holds its lease moves the cursor forward batch by batch
in the same transaction that puts the events back on the bus, so a crash
replays nothing twice and skips nothing.
"""

from __future__ import annotations

import json

from eventyard.errors import ReplayDoesNotExist, ResourceAlreadyExists
from eventyard.store.base import RecordChanged
from eventyard.store.records import ReplayRecord
from eventyard.store.sql.buses import get_archive
from eventyard.store.sql.dialect import Connection
from eventyard.store.sql.rows import first_row

_COLUMNS = (
    "r.name, a.name, r.bus_name, r.start_ms, r.end_ms, r.rules, r.status, r.replayed,"
    " r.started_at_ms, r.updated_at_ms, r.failure_reason, r.cursor_time_ms, r.cursor_event_id"
    " FROM eventyard_replays r JOIN eventyard_archives a ON a.id = r.archive_id"
)
ACTIVE = ("STARTING", "RUNNING", "CANCELLING")


def _record(row: tuple[object, ...]) -> ReplayRecord:
    rules = None if row[5] is None else tuple(json.loads(str(row[5])))
    return ReplayRecord(
        str(row[0]),
        str(row[1]),
        str(row[2]),
        int(row[3]),  # type: ignore[call-overload]
        int(row[4]),  # type: ignore[call-overload]
        rules,
        row[6],  # type: ignore[arg-type]
        int(row[7]),  # type: ignore[call-overload]
        int(row[8]),  # type: ignore[call-overload]
        int(row[9]),  # type: ignore[call-overload]
        None if row[10] is None else str(row[10]),
        int(row[11]),  # type: ignore[call-overload]
        str(row[12]),
    )


def start_replay(
    conn: Connection,
    name: str,
    archive_name: str,
    bus_name: str,
    start_ms: int,
    end_ms: int,
    rules: tuple[str, ...] | None,
    now_ms: int,
) -> ReplayRecord:
    archive = get_archive(conn, archive_name)
    if first_row(conn.execute("SELECT 1 FROM eventyard_replays WHERE name = ?", (name,))):
        raise ResourceAlreadyExists(f"replay {name!r} already exists")
    conn.execute(
        "INSERT INTO eventyard_replays (name, archive_id, bus_name, start_ms, end_ms, rules,"
        " status, cursor_time_ms, started_at_ms, updated_at_ms)"
        " VALUES (?, ?, ?, ?, ?, ?, 'STARTING', ?, ?, ?)",
        (
            name,
            archive.id,
            bus_name,
            start_ms,
            end_ms,
            None if rules is None else json.dumps(list(rules)),
            start_ms,
            now_ms,
            now_ms,
        ),
    )
    return get_replay(conn, name)


def get_replay(conn: Connection, name: str) -> ReplayRecord:
    row = first_row(conn.execute(f"SELECT {_COLUMNS} WHERE r.name = ?", (name,)))
    if row is None:
        raise ReplayDoesNotExist(f"replay {name!r} does not exist")
    return _record(row)


def list_replays(conn: Connection) -> list[ReplayRecord]:
    return [_record(row) for row in conn.execute(f"SELECT {_COLUMNS} ORDER BY r.started_at_ms")]


def claim_replay(conn: Connection, owner: str, now_ms: int, lease_ms: int) -> ReplayRecord | None:
    """Take the lease of one active replay nobody holds (or whose holder went quiet)."""
    row = first_row(
        conn.execute(
            "SELECT name FROM eventyard_replays WHERE status IN ('STARTING', 'RUNNING',"
            " 'CANCELLING') AND lease_until_ms <= ? ORDER BY started_at_ms LIMIT 1",
            (now_ms,),
        )
    )
    if row is None:
        return None
    conn.execute(
        "UPDATE eventyard_replays SET lease_owner = ?, lease_until_ms = ?,"
        " status = CASE status WHEN 'STARTING' THEN 'RUNNING' ELSE status END,"
        " updated_at_ms = ? WHERE name = ?",
        (owner, now_ms + lease_ms, now_ms, row[0]),
    )
    return get_replay(conn, row[0])


def next_events(conn: Connection, replay: ReplayRecord, limit: int) -> list[tuple[int, str, str]]:
    """The next archived events of the window after the cursor: (time ms, id, event JSON)."""
    archive = get_archive(conn, replay.archive)
    return [
        (int(row[0]), str(row[1]), str(row[2]))
        for row in conn.execute(
            "SELECT event_time_ms, event_id, event FROM eventyard_archived_events"
            " WHERE archive_id = ? AND (event_time_ms, event_id) > (?, ?)"
            " AND event_time_ms >= ? AND event_time_ms < ?"
            " ORDER BY event_time_ms, event_id LIMIT ?",
            (
                archive.id,
                replay.cursor_time_ms,
                replay.cursor_event_id,
                replay.start_ms,
                replay.end_ms,
                limit,
            ),
        )
    ]


def advance(
    conn: Connection,
    replay: ReplayRecord,
    cursor_time_ms: int,
    cursor_event_id: str,
    replayed: int,
    done: bool,
    now_ms: int,
) -> None:
    """Move the cursor (and release the lease) if nobody moved it since ``replay`` was read."""
    cursor = conn.execute(
        "UPDATE eventyard_replays SET cursor_time_ms = ?, cursor_event_id = ?,"
        " replayed = replayed + ?, updated_at_ms = ?, lease_until_ms = 0,"
        " status = CASE WHEN ? AND status = 'RUNNING' THEN 'COMPLETED' ELSE status END"
        " WHERE name = ? AND cursor_time_ms = ? AND cursor_event_id = ?",
        (
            cursor_time_ms,
            cursor_event_id,
            replayed,
            now_ms,
            done,
            replay.name,
            replay.cursor_time_ms,
            replay.cursor_event_id,
        ),
    )
    if cursor.rowcount != 1:
        raise RecordChanged(replay.name)


def set_status(
    conn: Connection, name: str, status: str, now_ms: int, reason: str | None = None
) -> ReplayRecord:
    get_replay(conn, name)
    conn.execute(
        "UPDATE eventyard_replays SET status = ?, updated_at_ms = ?,"
        " failure_reason = coalesce(?, failure_reason), lease_until_ms = 0 WHERE name = ?",
        (status, now_ms, reason, name),
    )
    return get_replay(conn, name)
