"""Redrive (message move) tasks on SQLite: the task row and one batch of moves.

A task remembers the highest message row of its source queue when it
started (the snapshot) and walks the rows up to it with a cursor, so it
moves what was in the queue at the start and ends even while new dead
letters keep arriving. Progress lives in the row, readable by any process.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from eventyard.errors import (
    EventyardError,
    InvalidParameterValue,
    MoveTaskAlreadyRunning,
    MoveTaskNotFound,
    QueueDoesNotExist,
    ResourceInUse,
)
from eventyard.store.records import MoveBatchOutcome, MoveTaskRecord, MoveTaskStatus, QueueRecord
from eventyard.store.sql.dialect import Connection
from eventyard.store.sql.queues import find_queue
from eventyard.store.sql.rows import first_row

_COLUMNS = (
    "id, source_queue, destination_queue, status, max_messages_per_second, to_move, moved,"
    " skipped, started_at_ms, updated_at_ms, owner, failure_reason"
)


def _record(row: tuple[object, ...]) -> MoveTaskRecord:
    return MoveTaskRecord(*row)  # type: ignore[arg-type]


def get_move_task(conn: Connection, task_id: str) -> MoveTaskRecord:
    row = first_row(
        conn.execute(f"SELECT {_COLUMNS} FROM eventyard_move_tasks WHERE id = ?", (task_id,))
    )
    if row is None:
        raise MoveTaskNotFound(f"no message move task has the handle {task_id!r}")
    return _record(row)


def list_move_tasks(conn: Connection, source_queue: str) -> list[MoveTaskRecord]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM eventyard_move_tasks WHERE source_queue = ?"
        " ORDER BY started_at_ms DESC",
        (source_queue,),
    ).fetchall()
    return [_record(row) for row in rows]


def start_move_task(
    conn: Connection,
    task_id: str,
    source: QueueRecord,
    destination: QueueRecord | None,
    max_messages_per_second: int | None,
    owner: str,
    now_ms: int,
    stale_after_ms: int,
) -> MoveTaskRecord:
    for running in conn.execute(
        "SELECT id, updated_at_ms, owner FROM eventyard_move_tasks"
        " WHERE source_queue = ? AND status IN ('RUNNING', 'CANCELLING')",
        (source.name,),
    ).fetchall():
        if now_ms - running[1] < stale_after_ms:
            raise MoveTaskAlreadyRunning(
                f"a message move task ({running[0]}) is already running for queue "
                f"{source.name!r}; cancel it or wait for it to finish"
            )
        conn.execute(
            "UPDATE eventyard_move_tasks SET status = 'FAILED', updated_at_ms = ?,"
            " failure_reason = ? WHERE id = ?",
            (now_ms, f"its process ({running[2]}) stopped before the task finished", running[0]),
        )
    snapshot, to_move = first_row(
        conn.execute(
            "SELECT coalesce(max(id), 0), count(*) FROM eventyard_messages WHERE queue_id = ?",
            (source.id,),
        )
    )
    conn.execute(
        "INSERT INTO eventyard_move_tasks (id, source_queue, destination_queue, status,"
        " max_messages_per_second, snapshot_row_id, to_move, started_at_ms, updated_at_ms,"
        " owner) VALUES (?, ?, ?, 'RUNNING', ?, ?, ?, ?, ?, ?)",
        (
            task_id,
            source.name,
            None if destination is None else destination.name,
            max_messages_per_second,
            snapshot,
            to_move,
            now_ms,
            now_ms,
            owner,
        ),
    )
    return get_move_task(conn, task_id)


def set_status(
    conn: Connection,
    task_id: str,
    status: str,
    now_ms: int,
    failure_reason: str | None = None,
) -> MoveTaskRecord:
    get_move_task(conn, task_id)
    conn.execute(
        "UPDATE eventyard_move_tasks SET status = ?, updated_at_ms = ?,"
        " failure_reason = coalesce(?, failure_reason) WHERE id = ?",
        (status, now_ms, failure_reason, task_id),
    )
    return get_move_task(conn, task_id)


def move_batch(conn: Connection, task_id: str, limit: int, now_ms: int) -> MoveBatchOutcome:
    """Move up to ``limit`` messages of the task; finish the task when none are left."""
    row = first_row(
        conn.execute(
            "SELECT source_queue, destination_queue, status, snapshot_row_id, cursor_row_id"
            " FROM eventyard_move_tasks WHERE id = ?",
            (task_id,),
        )
    )
    if row is None:
        raise MoveTaskNotFound(f"no message move task has the handle {task_id!r}")
    source_name, destination_name, status, snapshot, cursor_row = row
    if status == "CANCELLING":
        _finish(conn, task_id, "CANCELLED", now_ms)
        return MoveBatchOutcome(0, 0, True, "CANCELLED")
    if status != "RUNNING":
        return MoveBatchOutcome(0, 0, True, cast(MoveTaskStatus, status))
    source = find_queue(conn, source_name)
    if source is None:
        _finish(conn, task_id, "FAILED", now_ms, "the source queue was deleted")
        return MoveBatchOutcome(0, 0, True, "FAILED")
    candidates = conn.execute(
        "SELECT id, dead_letter_source, visible_at_ms FROM eventyard_messages"
        " WHERE queue_id = ? AND id > ? AND id <= ? ORDER BY id LIMIT ?",
        (source.id, cursor_row, snapshot, limit),
    ).fetchall()
    outcomes = move_rows(conn, source, candidates, destination_name, now_ms)
    moved = outcomes.count(None)
    skipped = len(outcomes) - moved
    done = len(candidates) < limit
    new_cursor = candidates[-1][0] if candidates else cursor_row
    conn.execute(
        "UPDATE eventyard_move_tasks SET moved = moved + ?, skipped = skipped + ?,"
        " cursor_row_id = ?, updated_at_ms = ?, status = ? WHERE id = ?",
        (moved, skipped, new_cursor, now_ms, "COMPLETED" if done else "RUNNING", task_id),
    )
    return MoveBatchOutcome(moved, skipped, done, "COMPLETED" if done else "RUNNING")


def move_rows(
    conn: Connection,
    source: QueueRecord,
    candidates: Sequence[tuple[int, str | None, int]],
    destination_name: str | None,
    now_ms: int,
) -> list[EventyardError | None]:
    """Move rows of ``source`` back where they came from (or to ``destination_name``).

    ``candidates`` are ``(row id, dead_letter_source, visible_at_ms)``. A moved
    message is visible at once with its receive count restarted (its failure
    records stay: they are kept by message id). Per candidate: None if it
    moved, else why it stayed (no known source queue, a source deleted since,
    a FIFO/standard mismatch, or in flight: someone is looking at it right now).
    """
    destinations: dict[str | None, QueueRecord | None] = {}
    moves: list[tuple[int, int, int, int, int, int]] = []
    outcomes: list[EventyardError | None] = []
    for row_id, dead_letter_source, visible_at in candidates:
        target_name = destination_name or dead_letter_source
        if target_name not in destinations:
            destinations[target_name] = find_queue(conn, target_name) if target_name else None
        target = destinations[target_name]
        if target_name is None:
            outcomes.append(
                InvalidParameterValue(
                    "the message has no dead-letter source queue (it was sent to "
                    f"{source.name!r} directly); give a destination"
                )
            )
        elif target is None:
            outcomes.append(QueueDoesNotExist(f"its source queue {target_name!r} does not exist"))
        elif target.fifo != source.fifo:
            outcomes.append(
                InvalidParameterValue(
                    f"queue {target.name!r} must be a {'FIFO' if source.fifo else 'standard'} "
                    f"queue like {source.name!r}"
                )
            )
        elif visible_at > now_ms:
            outcomes.append(
                ResourceInUse(
                    f"the message is in flight in {source.name!r} (received and not yet "
                    "deleted or released); try again when its visibility timeout is over"
                )
            )
        else:
            moves.append((target.id, now_ms, now_ms, int(target.fifo), now_ms, row_id))
            outcomes.append(None)
    if moves:
        conn.executemany(
            "UPDATE eventyard_messages SET queue_id = ?, receive_count = 0, visible_at_ms = ?,"
            " enqueued_at_ms = ?, retained_from_ms = CASE WHEN ? = 1 THEN ? ELSE retained_from_ms"
            " END, first_received_at_ms = NULL, received_at_ms = NULL,"
            f" dead_letter_source = NULL, receipt = {conn.dialect.random_receipt} WHERE id = ?",
            moves,
        )
    return outcomes


def _finish(
    conn: Connection,
    task_id: str,
    status: str,
    now_ms: int,
    failure_reason: str | None = None,
) -> None:
    conn.execute(
        "UPDATE eventyard_move_tasks SET status = ?, updated_at_ms = ?, failure_reason = ?"
        " WHERE id = ?",
        (status, now_ms, failure_reason, task_id),
    )


def adopt_stale_move_task(
    conn: Connection, owner: str, now_ms: int, stale_after_ms: int
) -> MoveTaskRecord | None:
    """Take over a running task whose process stopped touching it (a dispatcher resumes it)."""
    row = first_row(
        conn.execute(
            "SELECT id FROM eventyard_move_tasks WHERE status IN ('RUNNING', 'CANCELLING')"
            " AND updated_at_ms <= ? ORDER BY updated_at_ms LIMIT 1",
            (now_ms - stale_after_ms,),
        )
    )
    if row is None:
        return None
    conn.execute(
        "UPDATE eventyard_move_tasks SET owner = ?, updated_at_ms = ? WHERE id = ?",
        (owner, now_ms, row[0]),
    )
    return get_move_task(conn, row[0])
