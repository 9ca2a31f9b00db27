"""The SQLite schema and its forward migrations.

Each migration is a script run once, in order, inside one write transaction
that also records its version; several processes opening a fresh file at the
same moment serialize on that transaction, so each step runs exactly once.
A database written by a newer eventyard (a higher version than we know) is
refused rather than misread.
"""

from __future__ import annotations

import sqlite3
from typing import Final

from eventyard.errors import SchemaTooNew
from eventyard.model.internal import DELIVERY_QUEUE, DELIVERY_QUEUE_CONFIG
from eventyard.store.sql.rows import first_row

MIGRATIONS: Final[tuple[str, ...]] = (
    # 1: queues, messages, deduplication, move tasks
    """
    CREATE TABLE eventyard_queues (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        fifo INTEGER NOT NULL,
        config TEXT NOT NULL,
        dead_letter_queue TEXT,
        generation INTEGER NOT NULL DEFAULT 1,
        created_at_ms INTEGER NOT NULL,
        updated_at_ms INTEGER NOT NULL,
        purged_at_ms INTEGER
    );
    CREATE INDEX eventyard_queues_dead_letter ON eventyard_queues (dead_letter_queue)
        WHERE dead_letter_queue IS NOT NULL;

    CREATE TABLE eventyard_deleted_queues (
        name TEXT PRIMARY KEY,
        deleted_at_ms INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE eventyard_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        queue_id INTEGER NOT NULL,
        message_id TEXT NOT NULL,
        body BLOB NOT NULL,
        body_kind INTEGER NOT NULL,
        attributes TEXT,
        sent_at_ms INTEGER NOT NULL,
        enqueued_at_ms INTEGER NOT NULL,
        retained_from_ms INTEGER NOT NULL,
        visible_at_ms INTEGER NOT NULL,
        receive_count INTEGER NOT NULL DEFAULT 0,
        first_received_at_ms INTEGER,
        received_at_ms INTEGER,
        receipt INTEGER,
        sender_id TEXT NOT NULL,
        group_id TEXT,
        deduplication_id TEXT,
        dead_letter_source TEXT
    );
    CREATE INDEX eventyard_messages_visible ON eventyard_messages (queue_id, visible_at_ms);
    CREATE INDEX eventyard_messages_fifo_order ON eventyard_messages (queue_id, id)
        WHERE group_id IS NOT NULL;
    CREATE INDEX eventyard_messages_fifo_group ON eventyard_messages (queue_id, group_id, id)
        WHERE group_id IS NOT NULL;

    CREATE TABLE eventyard_deduplication (
        queue_id INTEGER NOT NULL,
        key TEXT NOT NULL,
        message_id TEXT NOT NULL,
        sequence_number TEXT,
        expires_at_ms INTEGER NOT NULL,
        PRIMARY KEY (queue_id, key)
    ) WITHOUT ROWID;
    CREATE INDEX eventyard_deduplication_expiry ON eventyard_deduplication (expires_at_ms);

    CREATE TABLE eventyard_move_tasks (
        id TEXT PRIMARY KEY,
        source_queue TEXT NOT NULL,
        destination_queue TEXT,
        status TEXT NOT NULL,
        max_messages_per_second INTEGER,
        snapshot_row_id INTEGER NOT NULL,
        cursor_row_id INTEGER NOT NULL DEFAULT 0,
        to_move INTEGER NOT NULL,
        moved INTEGER NOT NULL DEFAULT 0,
        skipped INTEGER NOT NULL DEFAULT 0,
        started_at_ms INTEGER NOT NULL,
        updated_at_ms INTEGER NOT NULL,
        owner TEXT NOT NULL,
        failure_reason TEXT
    ) WITHOUT ROWID;
    CREATE INDEX eventyard_move_tasks_source ON eventyard_move_tasks (source_queue, status);
    """,
    # 2: topics and subscriptions
    """
    CREATE TABLE eventyard_topics (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        fifo INTEGER NOT NULL,
        config TEXT NOT NULL,
        generation INTEGER NOT NULL DEFAULT 1,
        sequence INTEGER NOT NULL DEFAULT 0,
        created_at_ms INTEGER NOT NULL
    );

    CREATE TABLE eventyard_subscriptions (
        id TEXT PRIMARY KEY,
        topic_id INTEGER NOT NULL,
        protocol TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        config TEXT NOT NULL,
        dead_letter_queue TEXT,
        created_at_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX eventyard_subscriptions_topic ON eventyard_subscriptions (topic_id);
    CREATE INDEX eventyard_subscriptions_endpoint ON eventyard_subscriptions (endpoint);

    CREATE TABLE eventyard_topic_deduplication (
        topic_id INTEGER NOT NULL,
        key TEXT NOT NULL,
        message_id TEXT NOT NULL,
        sequence_number TEXT,
        expires_at_ms INTEGER NOT NULL,
        PRIMARY KEY (topic_id, key)
    ) WITHOUT ROWID;
    """,
    # 3: event buses, rules, targets, archives, replays
    """
    CREATE TABLE eventyard_buses (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        generation INTEGER NOT NULL DEFAULT 1,
        created_at_ms INTEGER NOT NULL
    );
    INSERT INTO eventyard_buses (name, created_at_ms) VALUES ('default', 0);

    CREATE TABLE eventyard_rules (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        bus_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        config TEXT NOT NULL,
        schedule TEXT,
        created_at_ms INTEGER NOT NULL,
        anchor_ms INTEGER NOT NULL,
        last_fired_at_ms INTEGER,
        UNIQUE (bus_id, name)
    );
    CREATE INDEX eventyard_rules_schedule ON eventyard_rules (schedule)
        WHERE schedule IS NOT NULL;

    CREATE TABLE eventyard_targets (
        rule_id INTEGER NOT NULL,
        target_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        config TEXT NOT NULL,
        PRIMARY KEY (rule_id, target_id)
    ) WITHOUT ROWID;
    CREATE INDEX eventyard_targets_endpoint ON eventyard_targets (kind, endpoint);

    CREATE TABLE eventyard_archives (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        bus_id INTEGER NOT NULL,
        pattern TEXT,
        retention_days INTEGER NOT NULL,
        description TEXT,
        created_at_ms INTEGER NOT NULL
    );

    CREATE TABLE eventyard_archived_events (
        archive_id INTEGER NOT NULL,
        event_time_ms INTEGER NOT NULL,
        event_id TEXT NOT NULL,
        archived_at_ms INTEGER NOT NULL,
        event TEXT NOT NULL,
        PRIMARY KEY (archive_id, event_time_ms, event_id)
    ) WITHOUT ROWID;

    CREATE TABLE eventyard_replays (
        name TEXT PRIMARY KEY,
        archive_id INTEGER NOT NULL,
        bus_name TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        end_ms INTEGER NOT NULL,
        rules TEXT,
        status TEXT NOT NULL,
        cursor_time_ms INTEGER NOT NULL,
        cursor_event_id TEXT NOT NULL DEFAULT '',
        replayed INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_until_ms INTEGER NOT NULL DEFAULT 0,
        started_at_ms INTEGER NOT NULL,
        updated_at_ms INTEGER NOT NULL,
        failure_reason TEXT
    ) WITHOUT ROWID;
    """,
    # 4: eventyard's own delivery queue, present from the start
    f"""
    INSERT OR IGNORE INTO eventyard_queues (name, fifo, config, created_at_ms, updated_at_ms)
    VALUES ('{DELIVERY_QUEUE}', 0, '{DELIVERY_QUEUE_CONFIG.to_json()}', 0, 0);
    """,
    # 5: idempotency records and failure records of functions
    """
    CREATE TABLE eventyard_idempotency (
        key TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        payload_hash TEXT NOT NULL,
        result TEXT,
        in_progress_until_ms INTEGER NOT NULL,
        expires_at_ms INTEGER NOT NULL,
        created_at_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX eventyard_idempotency_expiry ON eventyard_idempotency (expires_at_ms);

    CREATE TABLE eventyard_failures (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id TEXT NOT NULL,
        queue TEXT NOT NULL,
        function TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        error_type TEXT NOT NULL,
        error_message TEXT NOT NULL,
        traceback TEXT NOT NULL,
        failed_at_ms INTEGER NOT NULL
    );
    CREATE INDEX eventyard_failures_message ON eventyard_failures (message_id, id);
    """,
    # 6: per-queue counters and per-function statistics (the operator's figures)
    """
    CREATE TABLE eventyard_queue_counters (
        queue_id INTEGER PRIMARY KEY,
        sent INTEGER NOT NULL DEFAULT 0,
        received INTEGER NOT NULL DEFAULT 0,
        deleted INTEGER NOT NULL DEFAULT 0,
        dead_lettered INTEGER NOT NULL DEFAULT 0,
        purged INTEGER NOT NULL DEFAULT 0
    );

    CREATE TABLE eventyard_function_stats (
        function TEXT NOT NULL,
        minute_ms INTEGER NOT NULL,
        invocations INTEGER NOT NULL DEFAULT 0,
        errors INTEGER NOT NULL DEFAULT 0,
        messages INTEGER NOT NULL DEFAULT 0,
        duration_ms REAL NOT NULL DEFAULT 0,
        b0 INTEGER NOT NULL DEFAULT 0,
        b1 INTEGER NOT NULL DEFAULT 0,
        b2 INTEGER NOT NULL DEFAULT 0,
        b3 INTEGER NOT NULL DEFAULT 0,
        b4 INTEGER NOT NULL DEFAULT 0,
        b5 INTEGER NOT NULL DEFAULT 0,
        b6 INTEGER NOT NULL DEFAULT 0,
        b7 INTEGER NOT NULL DEFAULT 0,
        b8 INTEGER NOT NULL DEFAULT 0,
        b9 INTEGER NOT NULL DEFAULT 0,
        b10 INTEGER NOT NULL DEFAULT 0,
        b11 INTEGER NOT NULL DEFAULT 0,
        b12 INTEGER NOT NULL DEFAULT 0,
        b13 INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (function, minute_ms)
    ) WITHOUT ROWID;
    CREATE INDEX eventyard_function_stats_minute ON eventyard_function_stats (minute_ms);
    """,
)

SCHEMA_VERSION: Final = len(MIGRATIONS)


def current_version(conn: sqlite3.Connection) -> int:
    exists = first_row(
        conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'eventyard_schema'"
        )
    )
    if exists is None:
        return 0
    row = first_row(conn.execute("SELECT max(version) FROM eventyard_schema"))
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection, now_ms: int) -> int:
    """Bring the schema up to date; the caller holds a write transaction."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS eventyard_schema ("
        " version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL)"
    )
    version = current_version(conn)
    if version > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"the database has eventyard schema version {version}, newer than this eventyard "
            f"knows ({SCHEMA_VERSION}); upgrade eventyard to open it"
        )
    for number in range(version + 1, SCHEMA_VERSION + 1):
        for statement in _statements(MIGRATIONS[number - 1]):
            conn.execute(statement)
        conn.execute(
            "INSERT INTO eventyard_schema (version, applied_at_ms) VALUES (?, ?)", (number, now_ms)
        )
    return SCHEMA_VERSION


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (executescript would commit)."""
    return [part.strip() for part in script.split(";") if part.strip()]
