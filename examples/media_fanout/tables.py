"""The app's own tables, in the same SQLite file as its queues and events.

- ``uploads``: one row per image id, its current version (``sha256``).
- ``media_processing``: one row per (image, function): what it last did for which
  version, how many times it did the work (``runs``), recognized a redelivery and
  skipped it (``duplicates``), or failed (``failures``).
- ``media_cache``: the read model ``update_cache`` keeps: dimensions, sizes, paths.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Final

import eventyard

from .events import ImageUploaded

SCHEMA: Final = (
    """CREATE TABLE IF NOT EXISTS uploads (
        image_id TEXT PRIMARY KEY, sha256 TEXT NOT NULL, key TEXT NOT NULL,
        format TEXT NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,
        size_bytes INTEGER NOT NULL, version INTEGER NOT NULL, uploaded_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS media_processing (
        image_id TEXT NOT NULL, function TEXT NOT NULL, sha256 TEXT NOT NULL,
        status TEXT NOT NULL, output TEXT, error TEXT,
        runs INTEGER NOT NULL DEFAULT 0, duplicates INTEGER NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL,
        PRIMARY KEY (image_id, function))""",
    """CREATE TABLE IF NOT EXISTS media_cache (
        image_id TEXT PRIMARY KEY, sha256 TEXT NOT NULL, format TEXT NOT NULL,
        width INTEGER NOT NULL, height INTEGER NOT NULL, size_bytes INTEGER NOT NULL,
        original TEXT NOT NULL, renditions TEXT NOT NULL, updated_at TEXT NOT NULL)""",
)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def create(client: eventyard.Client) -> None:
    with client.transaction() as tx:
        for statement in SCHEMA:
            tx.execute(statement)


def _one(cursor: Any) -> dict[str, Any] | None:
    """The next row as a dict of column → value (a cursor of either backend)."""
    row = cursor.fetchone()
    if row is None:
        return None
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


# -- uploads ---------------------------------------------------------------------


def record_upload(tx: eventyard.Transaction, detail: ImageUploaded) -> int:
    """Insert or replace the image's current version; its version number."""
    row = tx.execute(
        """INSERT INTO uploads
               (image_id, sha256, key, format, width, height, size_bytes, version, uploaded_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)
           ON CONFLICT (image_id) DO UPDATE SET
               sha256 = excluded.sha256, key = excluded.key, format = excluded.format,
               width = excluded.width, height = excluded.height,
               size_bytes = excluded.size_bytes, version = version + 1,
               uploaded_at = excluded.uploaded_at
           RETURNING version""",
        (
            detail.image_id,
            detail.sha256,
            detail.key,
            detail.format,
            detail.width,
            detail.height,
            detail.size_bytes,
            now(),
        ),
    ).fetchone()
    return int(row[0])


def upload(tx: eventyard.Transaction, image_id: str) -> dict[str, Any] | None:
    return _one(tx.execute("SELECT * FROM uploads WHERE image_id = ?", (image_id,)))


def is_current(tx: eventyard.Transaction, detail: ImageUploaded) -> bool:
    """Whether the event names the image's current version (not one replaced since)."""
    row = tx.execute("SELECT sha256 FROM uploads WHERE image_id = ?", (detail.image_id,))
    found = row.fetchone()
    return found is not None and found[0] == detail.sha256


# -- processing --------------------------------------------------------------------


def done_already(tx: eventyard.Transaction, detail: ImageUploaded, function: str) -> bool:
    row = tx.execute(
        "SELECT 1 FROM media_processing WHERE image_id = ? AND function = ? AND sha256 = ? "
        "AND status = 'done'",
        (detail.image_id, function, detail.sha256),
    ).fetchone()
    return row is not None


def record_duplicate(tx: eventyard.Transaction, detail: ImageUploaded, function: str) -> None:
    tx.execute(
        "UPDATE media_processing SET duplicates = duplicates + 1 "
        "WHERE image_id = ? AND function = ? AND sha256 = ?",
        (detail.image_id, function, detail.sha256),
    )


def record_done(
    tx: eventyard.Transaction, detail: ImageUploaded, function: str, output: dict[str, Any]
) -> None:
    """The work is done for this version (``runs`` counts from 1 for each version)."""
    tx.execute(
        """INSERT INTO media_processing
               (image_id, function, sha256, status, output, runs, updated_at)
           VALUES (?, ?, ?, 'done', ?, 1, ?)
           ON CONFLICT (image_id, function) DO UPDATE SET
               runs = CASE WHEN sha256 = excluded.sha256 THEN runs + 1 ELSE 1 END,
               duplicates = CASE WHEN sha256 = excluded.sha256 THEN duplicates ELSE 0 END,
               failures = CASE WHEN sha256 = excluded.sha256 THEN failures ELSE 0 END,
               sha256 = excluded.sha256, status = 'done', output = excluded.output,
               error = NULL, updated_at = excluded.updated_at""",
        (detail.image_id, function, detail.sha256, json.dumps(output), now()),
    )


def record_failure(
    tx: eventyard.Transaction, image_id: str, sha256: str, function: str, error: str
) -> None:
    """A failed attempt (work already done for this version stays done)."""
    tx.execute(
        """INSERT INTO media_processing
               (image_id, function, sha256, status, error, failures, updated_at)
           VALUES (?, ?, ?, 'failed', ?, 1, ?)
           ON CONFLICT (image_id, function) DO UPDATE SET
               status = CASE WHEN sha256 = excluded.sha256 AND status = 'done'
                             THEN 'done' ELSE 'failed' END,
               runs = CASE WHEN sha256 = excluded.sha256 THEN runs ELSE 0 END,
               duplicates = CASE WHEN sha256 = excluded.sha256 THEN duplicates ELSE 0 END,
               failures = CASE WHEN sha256 = excluded.sha256 THEN failures + 1 ELSE 1 END,
               sha256 = excluded.sha256, error = excluded.error,
               updated_at = excluded.updated_at""",
        (image_id, function, sha256, error[:2000], now()),
    )


def processing(tx: eventyard.Transaction, image_id: str) -> dict[str, dict[str, Any]]:
    cursor = tx.execute("SELECT * FROM media_processing WHERE image_id = ?", (image_id,))
    columns = [column[0] for column in cursor.description]
    rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        row["output"] = None if row["output"] is None else json.loads(row["output"])
    return {row["function"]: row for row in rows}


# -- the cache ---------------------------------------------------------------------


def cached_version(tx: eventyard.Transaction, image_id: str) -> str | None:
    row = tx.execute("SELECT sha256 FROM media_cache WHERE image_id = ?", (image_id,)).fetchone()
    return None if row is None else str(row[0])


def upsert_cache(
    tx: eventyard.Transaction, detail: ImageUploaded, renditions: dict[str, Any]
) -> None:
    tx.execute(
        """INSERT INTO media_cache
               (image_id, sha256, format, width, height, size_bytes, original, renditions,
                updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (image_id) DO UPDATE SET
               sha256 = excluded.sha256, format = excluded.format, width = excluded.width,
               height = excluded.height, size_bytes = excluded.size_bytes,
               original = excluded.original, renditions = excluded.renditions,
               updated_at = excluded.updated_at""",
        (
            detail.image_id,
            detail.sha256,
            detail.format,
            detail.width,
            detail.height,
            detail.size_bytes,
            detail.key,
            json.dumps(renditions),
            now(),
        ),
    )


def cache(tx: eventyard.Transaction, image_id: str) -> dict[str, Any] | None:
    row = _one(tx.execute("SELECT * FROM media_cache WHERE image_id = ?", (image_id,)))
    if row is not None:
        row["renditions"] = json.loads(row["renditions"])
    return row
