"""The ceiling: eventyard's SQL pattern on sqlite3 with no eventyard code.

The table mirrors ``eventyard_messages`` (same columns, same
``(queue_id, visible_at_ms)`` index; the FIFO indexes are partial on
``group_id IS NOT NULL`` and get no entries from standard-queue rows, so they
are left out) and the statements mirror eventyard's: an ``executemany``
insert of 10 rows per transaction; a read-only look for a visible message
before taking the write lock; a claim of up to 10 with
``UPDATE ... WHERE id IN (SELECT ... LIMIT 10) RETURNING``; and the delete
in a second transaction, as SQS's receive-then-delete does. Same pragmas as
the store (WAL, synchronous FULL or NORMAL, 30 s busy timeout). Whatever
eventyard spends beyond this is its own Python.
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from multiprocessing.synchronize import Barrier
from typing import Final

from eventyard.benchmarks._harness import Job, Report, batches, bodies, sender_id

_SYNCHRONOUS: Final = {"full": "FULL", "process": "NORMAL"}
_QUEUE_ID: Final = 1
_VISIBILITY_TIMEOUT_MS: Final = 30_000

_SCHEMA: Final = (
    """CREATE TABLE messages (
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
    )""",
    "CREATE INDEX messages_visible ON messages (queue_id, visible_at_ms)",
)
_INSERT: Final = (
    "INSERT INTO messages (queue_id, message_id, body, body_kind, attributes, sent_at_ms,"
    " enqueued_at_ms, retained_from_ms, visible_at_ms, sender_id, group_id, deduplication_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_PEEK: Final = (
    "SELECT visible_at_ms FROM messages WHERE queue_id = ? ORDER BY visible_at_ms LIMIT 1"
)
_CLAIM: Final = (
    "UPDATE messages SET visible_at_ms = ?1, receive_count = receive_count + 1,"
    " receipt = random(), received_at_ms = ?2,"
    " first_received_at_ms = coalesce(first_received_at_ms, ?2)"
    " WHERE id IN (SELECT id FROM messages WHERE queue_id = ?3 AND visible_at_ms <= ?2"
    " ORDER BY visible_at_ms LIMIT ?4)"
    " RETURNING id, message_id, body, body_kind, attributes, sent_at_ms, receive_count,"
    " first_received_at_ms, receipt, sender_id, group_id, deduplication_id,"
    " dead_letter_source, retained_from_ms"
)
_DELETE: Final = "DELETE FROM messages WHERE id = ? AND receipt = ? AND queue_id = ?"


def _connect(path: str, durability: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, cached_statements=256)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {_SYNCHRONOUS[durability]}")
    conn.execute("PRAGMA cache_size = -16000")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA journal_size_limit = 67108864")
    return conn


def prepare(job: Job) -> None:
    """Create the file and the table (in the parent, before the processes start)."""
    conn = _connect(job.path, job.durability)
    conn.execute("BEGIN IMMEDIATE")
    for statement in _SCHEMA:
        conn.execute(statement)
    conn.execute("COMMIT")
    conn.close()


def remaining(job: Job) -> int:
    conn = sqlite3.connect(job.path)
    try:
        return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])
    finally:
        conn.close()


def producer(job: Job, barrier: Barrier) -> Report:
    conn = _connect(job.path, job.durability)
    # Message ids drawn up front: the ceiling should time SQLite, not uuid4.
    ids = [str(uuid.uuid4()) for _ in range(job.messages)]
    work = list(zip(batches(ids), batches(bodies(job.messages)), strict=True))
    sender = sender_id()
    barrier.wait()
    started = time.perf_counter()
    for batch_ids, batch_bodies in work:
        now_ms = int(time.time() * 1000)
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            _INSERT,
            [
                (_QUEUE_ID, i, b, 0, None, now_ms, now_ms, now_ms, now_ms, sender, None, None)
                for i, b in zip(batch_ids, batch_bodies, strict=True)
            ],
        )
        conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return {"seconds": seconds, "pid": os.getpid()}


def consumer(job: Job, barrier: Barrier) -> Report:
    conn = _connect(job.path, job.durability)
    deleted = claims = empty_looks = 0
    barrier.wait()
    started = time.perf_counter()
    while deleted < job.messages:
        now_ms = int(time.time() * 1000)
        # The read-only look: an empty queue never takes the write lock from the producer.
        row = conn.execute(_PEEK, (_QUEUE_ID,)).fetchone()
        if row is None or row[0] > now_ms:
            empty_looks += 1
            continue  # busy retry: this is the ceiling, not a polite consumer
        conn.execute("BEGIN IMMEDIATE")
        claimed = conn.execute(
            _CLAIM, (now_ms + _VISIBILITY_TIMEOUT_MS, now_ms, _QUEUE_ID, 10)
        ).fetchall()
        conn.execute("COMMIT")
        if not claimed:
            continue
        claims += 1
        conn.execute("BEGIN IMMEDIATE")
        cursor = conn.executemany(_DELETE, [(row[0], row[8], _QUEUE_ID) for row in claimed])
        conn.execute("COMMIT")
        if cursor.rowcount != len(claimed):
            raise RuntimeError(f"deleted {cursor.rowcount} of {len(claimed)} claimed rows")
        deleted += len(claimed)
    seconds = time.perf_counter() - started
    conn.close()
    return {"seconds": seconds, "deleted": deleted, "claims": claims, "empty_looks": empty_looks}
