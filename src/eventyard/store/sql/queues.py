"""Queue rows on SQLite: create, read, change, delete (each in the caller's transaction)."""

from __future__ import annotations

from eventyard.errors import (
    QueueAlreadyExists,
    QueueDeletedRecently,
    QueueDoesNotExist,
    QueueInUse,
)
from eventyard.lifecycle import MS
from eventyard.model import limits
from eventyard.model.dead_letter import check_dead_letter_target
from eventyard.model.queue_config import QueueConfig
from eventyard.store.base import RecordChanged
from eventyard.store.records import QueueRecord
from eventyard.store.sql.dialect import Connection
from eventyard.store.sql.rows import first_row

_COLUMNS = "id, name, config, created_at_ms, generation"


def _record(row: tuple[int, str, str, int, int]) -> QueueRecord:
    return QueueRecord(
        id=row[0],
        name=row[1],
        config=QueueConfig.from_json(row[2]),
        created_at_ms=row[3],
        generation=row[4],
    )


def find_queue(conn: Connection, name: str) -> QueueRecord | None:
    row = first_row(
        conn.execute(f"SELECT {_COLUMNS} FROM eventyard_queues WHERE name = ?", (name,))
    )
    return None if row is None else _record(row)


def get_queue(conn: Connection, name: str) -> QueueRecord:
    record = find_queue(conn, name)
    if record is None:
        raise QueueDoesNotExist(f"queue {name!r} does not exist")
    return record


def list_queues(conn: Connection, prefix: str) -> list[QueueRecord]:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM eventyard_queues WHERE name LIKE ? ESCAPE '\\' ORDER BY name",
        (escaped + "%",),
    ).fetchall()
    # LIKE is case-insensitive for ASCII; queue-name prefixes are case-sensitive.
    return [_record(row) for row in rows if row[1].startswith(prefix)]


def dead_letter_sources(conn: Connection, name: str) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM eventyard_queues WHERE dead_letter_queue = ? ORDER BY name", (name,)
    ).fetchall()
    return [row[0] for row in rows]


def _check_dead_letter(conn: Connection, name: str, config: QueueConfig) -> None:
    if config.dead_letter_queue is None:
        return
    target = find_queue(conn, config.dead_letter_queue)
    check_dead_letter_target(
        name, config, config.dead_letter_queue, None if target is None else target.config
    )


def create_queue(conn: Connection, name: str, config: QueueConfig, now_ms: int) -> QueueRecord:
    existing = find_queue(conn, name)
    if existing is not None:
        if existing.config == config:
            return existing
        raise QueueAlreadyExists(
            f"queue {name!r} already exists with other attributes "
            f"({', '.join(existing.config.differences(config))}); use the same attributes, "
            "or change them with set_attributes"
        )
    deleted = first_row(
        conn.execute("SELECT deleted_at_ms FROM eventyard_deleted_queues WHERE name = ?", (name,))
    )
    if deleted is not None and now_ms - deleted[0] < limits.RECREATE_AFTER_DELETE_SECONDS * MS:
        wait_seconds = (deleted[0] + limits.RECREATE_AFTER_DELETE_SECONDS * MS - now_ms) / MS
        raise QueueDeletedRecently(
            f"queue {name!r} was deleted less than {limits.RECREATE_AFTER_DELETE_SECONDS} s ago; "
            f"it can be created again in {wait_seconds:.0f} s"
        )
    _check_dead_letter(conn, name, config)
    (queue_id,) = conn.execute(
        "INSERT INTO eventyard_queues (name, fifo, config, dead_letter_queue, created_at_ms,"
        " updated_at_ms) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (name, int(config.fifo), config.to_json(), config.dead_letter_queue, now_ms, now_ms),
    ).fetchone()
    conn.execute("DELETE FROM eventyard_deleted_queues WHERE name = ?", (name,))
    return QueueRecord(queue_id, name, config, now_ms, 1)


def update_queue(conn: Connection, name: str, config: QueueConfig, now_ms: int) -> QueueRecord:
    existing = get_queue(conn, name)
    if existing.config == config:
        return existing
    _check_dead_letter(conn, name, config)
    conn.execute(
        "UPDATE eventyard_queues SET config = ?, dead_letter_queue = ?, generation = "
        "generation + 1, updated_at_ms = ? WHERE id = ?",
        (config.to_json(), config.dead_letter_queue, now_ms, existing.id),
    )
    return QueueRecord(existing.id, name, config, existing.created_at_ms, existing.generation + 1)


def delete_queue(conn: Connection, name: str, now_ms: int) -> None:
    existing = get_queue(conn, name)
    sources = [source for source in dead_letter_sources(conn, name) if source != name]
    if sources:
        raise QueueInUse(
            f"queue {name!r} is the dead-letter queue of {', '.join(map(repr, sources))}; "
            "remove their dead_letter_queue first"
        )
    conn.execute("DELETE FROM eventyard_messages WHERE queue_id = ?", (existing.id,))
    conn.execute("DELETE FROM eventyard_deduplication WHERE queue_id = ?", (existing.id,))
    conn.execute("DELETE FROM eventyard_queue_counters WHERE queue_id = ?", (existing.id,))
    conn.execute("DELETE FROM eventyard_queues WHERE id = ?", (existing.id,))
    conn.execute(
        "UPDATE eventyard_move_tasks SET status = 'CANCELLED', updated_at_ms = ?,"
        " failure_reason = 'the queue was deleted' WHERE source_queue = ?"
        " AND status IN ('RUNNING', 'CANCELLING')",
        (now_ms, name),
    )
    conn.execute(
        "INSERT INTO eventyard_deleted_queues (name, deleted_at_ms) VALUES (?, ?)"
        " ON CONFLICT (name) DO UPDATE SET deleted_at_ms = excluded.deleted_at_ms",
        (name, now_ms),
    )


def check_generation(conn: Connection, queue: QueueRecord) -> None:
    """Raise unless the queue still exists with the attributes the caller validated against."""
    row = first_row(
        conn.execute("SELECT generation FROM eventyard_queues WHERE id = ?", (queue.id,))
    )
    if row is None:
        raise QueueDoesNotExist(f"queue {queue.name!r} does not exist (it was deleted)")
    if row[0] != queue.generation:
        raise RecordChanged(queue.name)


def check_exists(conn: Connection, queue: QueueRecord) -> None:
    row = first_row(conn.execute("SELECT 1 FROM eventyard_queues WHERE id = ?", (queue.id,)))
    if row is None:
        raise QueueDoesNotExist(f"queue {queue.name!r} does not exist (it was deleted)")
