"""Messages on SQLite: send, claim, delete, change visibility, purge, count.

Each function runs inside a write transaction the caller opened (see
`Database.write`) and applies the rules of `eventyard.lifecycle` in bulk:
one statement per batch on the hot paths (an ``executemany`` insert; one
``UPDATE ... RETURNING`` that claims a batch; an ``executemany`` delete).
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Sequence
from typing import Final, cast

from eventyard import lifecycle
from eventyard.errors import ReceiptHandleIsInvalid
from eventyard.model.receipt import Receipt
from eventyard.store.records import (
    ClaimedRow,
    OutgoingMessage,
    QueueRecord,
    QueueStats,
    SentMessage,
)
from eventyard.store.sql import counters
from eventyard.store.sql.dialect import Connection, Dialect
from eventyard.store.sql.queues import check_exists, find_queue
from eventyard.store.sql.rows import first_row

_INSERT: Final = (
    "INSERT INTO eventyard_messages (queue_id, message_id, body, body_kind, attributes,"
    " sent_at_ms, enqueued_at_ms, retained_from_ms, visible_at_ms, sender_id, group_id,"
    " deduplication_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

_CLAIM_SET: Final = (
    "UPDATE eventyard_messages SET visible_at_ms = ?1, receive_count = receive_count + 1,"
    " receipt = {receipt}, received_at_ms = ?2,"
    " first_received_at_ms = coalesce(first_received_at_ms, ?2) WHERE id "
)
_CLAIM_RETURNING: Final = (
    " RETURNING id, message_id, body, body_kind, attributes, sent_at_ms, receive_count,"
    " first_received_at_ms, receipt, sender_id, group_id, deduplication_id,"
    " dead_letter_source, retained_from_ms"
)
# Standard queues: any visible message, oldest visibility first.
_PICK_STANDARD: Final = (
    "SELECT id FROM eventyard_messages WHERE queue_id = ?3 AND visible_at_ms <= ?2{again}"
    " ORDER BY visible_at_ms LIMIT ?4"
)
# FIFO queues: the group lock. A visible message is deliverable when no earlier
# message of its group is invisible (in flight or delayed); see lifecycle.deliverable_fifo.
_PICK_FIFO: Final = (
    "SELECT m.id FROM eventyard_messages m WHERE m.queue_id = ?3 AND m.group_id IS NOT NULL"
    " AND m.visible_at_ms <= ?2 AND NOT EXISTS (SELECT 1 FROM eventyard_messages p"
    " WHERE p.queue_id = ?3 AND p.group_id = m.group_id AND p.id < m.id"
    " AND p.visible_at_ms > ?2){again} ORDER BY m.id LIMIT ?4"
)


@functools.cache
def _claim_sql(dialect: Dialect, fifo: bool, again: bool) -> str:
    """The claim statement: pick visible rows, make them invisible, return them.

    A repeat claim within one receive (after dead-lettering or expiry) must not take
    back rows this receive already claimed (``again``): with a visibility timeout of 0
    they are visible again at once. On PostgreSQL the pick skips rows another
    transaction is claiming (``FOR UPDATE SKIP LOCKED``: consumers never wait for each
    other) and is written as ``= ANY(ARRAY(...))``, whose plan does not depend on the
    table's statistics when the prepared statement was first planned.
    """
    pick = _PICK_FIFO if fifo else _PICK_STANDARD
    filter_ = (
        (" AND " + dialect.not_one_of("m.id" if fifo else "id").replace("?", "?5")) if again else ""
    )
    pick = pick.format(again=filter_)
    update = _CLAIM_SET.format(receipt=dialect.random_receipt)
    if dialect.name == "postgresql":
        return update + f"= ANY(ARRAY({pick} FOR UPDATE SKIP LOCKED))" + _CLAIM_RETURNING
    return update + f"IN ({pick})" + _CLAIM_RETURNING


_EARLIEST_VISIBLE: Final = (
    "SELECT visible_at_ms FROM eventyard_messages WHERE queue_id = ? ORDER BY visible_at_ms LIMIT 1"
)
_NEXT_VISIBLE: Final = (
    "SELECT min(visible_at_ms) FROM eventyard_messages WHERE queue_id = ? AND visible_at_ms > ?"
)
_DELETE: Final = "DELETE FROM eventyard_messages WHERE id = ? AND receipt = ? AND queue_id = ?"


def sequence_number(row_id: int) -> str:
    """FIFO sequence numbers: the row id, which only grows (AUTOINCREMENT), as 20 digits."""
    return f"{row_id:020d}"


def standard_rows(
    dialect: Dialect,
    queue: QueueRecord,
    messages: Sequence[OutgoingMessage],
    now_ms: int,
    sender_id: str,
) -> list[tuple[object, ...]]:
    """INSERT parameters of standard-queue messages (built before the write lock is taken)."""
    queue_id = queue.id
    stored_body = dialect.stored_body
    return [
        (
            queue_id,
            m.message_id,
            stored_body(m.body),
            m.body_kind,
            m.attributes,
            now_ms,
            now_ms,
            now_ms,
            now_ms + m.delay_seconds * 1000,
            sender_id,
            None,
            None,
        )
        for m in messages
    ]


def insert_standard(conn: Connection, rows: list[tuple[object, ...]]) -> None:
    conn.executemany(_INSERT, rows)


def send_fifo(
    conn: Connection,
    queue: QueueRecord,
    messages: Sequence[OutgoingMessage],
    now_ms: int,
    sender_id: str,
) -> list[SentMessage]:
    lock_fifo_queue(conn, queue.id)
    keys = [m.deduplication_key for m in messages]
    placeholders = ",".join("?" * len(keys))
    remembered: dict[str, tuple[str, str | None]] = {
        key: (message_id, sequence)
        for key, message_id, sequence in conn.execute(
            "SELECT key, message_id, sequence_number FROM eventyard_deduplication"
            f" WHERE queue_id = ? AND key IN ({placeholders}) AND expires_at_ms > ?",
            (queue.id, *keys, now_ms),
        )
    }
    expires_at = lifecycle.deduplication_expires_at(now_ms)
    results: list[SentMessage] = []
    for m in messages:
        key = m.deduplication_key
        assert key is not None
        if key in remembered:
            first_id, first_sequence = remembered[key]
            results.append(SentMessage(first_id, first_sequence, True))
            continue
        row_id = conn.execute(
            _INSERT + " RETURNING id",
            (
                queue.id,
                m.message_id,
                conn.dialect.stored_body(m.body),
                m.body_kind,
                m.attributes,
                now_ms,
                now_ms,
                now_ms,
                now_ms + m.delay_seconds * 1000,
                sender_id,
                m.group_id,
                m.deduplication_id,
            ),
        ).fetchone()[0]
        sequence = sequence_number(row_id)
        conn.execute(
            "INSERT INTO eventyard_deduplication (queue_id, key, message_id,"
            " sequence_number, expires_at_ms) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (queue_id, key) DO UPDATE SET message_id = excluded.message_id,"
            " sequence_number = excluded.sequence_number, expires_at_ms = excluded.expires_at_ms",
            (queue.id, key, m.message_id, sequence, expires_at),
        )
        remembered[key] = (m.message_id, sequence)
        results.append(SentMessage(m.message_id, sequence, False))
    return results


def lock_fifo_queue(conn: Connection, queue_id: int) -> None:
    """Serialize the FIFO sends and receives of one queue (until the transaction ends).

    SQLite has one writer at a time anyway. PostgreSQL runs transactions side by
    side: two receives could each see the other's claim as not yet made and hand
    out two messages of one group, and two sends could both miss the other's
    deduplication key. A transaction-scoped advisory lock per queue prevents both,
    across every machine on the server, and costs standard queues nothing.
    """
    lock_key(conn, queue_id)


def lock_named(conn: Connection, name: str) -> None:
    """Hold an advisory lock on ``name`` until the transaction ends (PostgreSQL; on
    SQLite the transaction holds the database's only write lock already)."""
    if conn.dialect.named_lock:
        conn.execute(conn.dialect.named_lock, (zlib.crc32(name.encode()) - 2**31,)).fetchall()


def lock_key(conn: Connection, key: int) -> None:
    """Hold an advisory lock on ``key`` until the transaction ends (PostgreSQL only;
    topics lock ``-topic id`` around their deduplication check)."""
    if conn.dialect.queue_lock:
        conn.execute(conn.dialect.queue_lock, (key,)).fetchall()


def forget_expired_deduplication(conn: Connection, now_ms: int) -> None:
    conn.execute("DELETE FROM eventyard_deduplication WHERE expires_at_ms <= ?", (now_ms,))


def earliest_visible_at(conn: Connection, queue_id: int) -> int | None:
    """When the queue's first message is (or was) visible: a read that takes no lock."""
    row = first_row(conn.execute(_EARLIEST_VISIBLE, (queue_id,)))
    return None if row is None else int(row[0])


def next_visible_at(conn: Connection, queue_id: int, now_ms: int) -> int | None:
    row = first_row(conn.execute(_NEXT_VISIBLE, (queue_id, now_ms)))
    return None if row is None or row[0] is None else int(row[0])


class ClaimResult:
    """What one claim pass found: the messages to hand out, and those it parked."""

    __slots__ = ("dead_lettered", "delivered", "expired")

    def __init__(self) -> None:
        self.delivered: list[ClaimedRow] = []
        self.dead_lettered = 0
        self.expired = 0


def claim_messages(
    conn: Connection,
    queue: QueueRecord,
    max_messages: int,
    visibility_timeout: int,
    now_ms: int,
) -> ClaimResult:
    """Receive up to ``max_messages``: claim, drop the expired, dead-letter the over-received."""
    config = queue.config
    dialect = conn.dialect
    if config.fifo:
        lock_fifo_queue(conn, queue.id)
    claim_sql = _claim_sql(dialect, config.fifo, False)
    claim_again_sql = _claim_sql(dialect, config.fifo, True)
    visible_at = lifecycle.visible_after_receive(now_ms, visibility_timeout)
    cutoff = lifecycle.retention_cutoff_ms(config.retention_seconds, now_ms)
    max_receives = config.max_receive_count
    result = ClaimResult()
    delivered = result.delivered
    claimed_ids: list[int] = []
    while len(delivered) < max_messages:
        wanted = max_messages - len(delivered)
        if claimed_ids:
            parameters: tuple[object, ...] = (
                visible_at,
                now_ms,
                queue.id,
                wanted,
                dialect.values(claimed_ids),
            )
            claimed = cast(list[ClaimedRow], conn.execute(claim_again_sql, parameters).fetchall())
        else:
            claimed = cast(
                list[ClaimedRow],
                conn.execute(claim_sql, (visible_at, now_ms, queue.id, wanted)).fetchall(),
            )
        if dialect.converts_bodies:
            claimed = [
                ClaimedRow(row[0], row[1], dialect.loaded_body(row[2], row[3]), *row[3:])
                for row in claimed
            ]
        claimed_ids.extend(row[0] for row in claimed)
        expired: list[int] = []
        over_limit: list[int] = []
        for row in claimed:
            # row[13]: retained_from_ms, row[6]: receive_count after this receive
            if row[13] <= cutoff:
                expired.append(row[0])
            elif max_receives is not None and lifecycle.exceeds_max_receives(row[6], max_receives):
                over_limit.append(row[0])
            else:
                delivered.append(row)
        if expired:
            delete_rows(conn, expired)
            result.expired += len(expired)
        if over_limit:
            result.dead_lettered += dead_letter(conn, queue, over_limit, now_ms)
        if len(claimed) < wanted or not (expired or over_limit):
            break
    if len(delivered) > 1:
        delivered.sort(key=lambda row: row[0])
    return result


def delete_rows(conn: Connection, row_ids: list[int]) -> None:
    conn.executemany("DELETE FROM eventyard_messages WHERE id = ?", [(i,) for i in row_ids])


def dead_letter(conn: Connection, queue: QueueRecord, row_ids: list[int], now_ms: int) -> int:
    """Move over-received messages to the dead-letter queue (not delivered by this receive)."""
    dead_letter_name = queue.config.dead_letter_queue
    target = find_queue(conn, dead_letter_name) if dead_letter_name else None
    if target is None:
        # The dead-letter queue cannot be deleted while in use; if the row is gone anyway,
        # keep the messages here (visible again) rather than lose them.
        conn.executemany(
            "UPDATE eventyard_messages SET visible_at_ms = ?, receive_count = receive_count - 1"
            " WHERE id = ?",
            [(now_ms, i) for i in row_ids],
        )
        return 0
    # SQS keeps a standard message's retention clock; a FIFO message's restarts in the DLQ.
    conn.executemany(
        "UPDATE eventyard_messages SET queue_id = ?, receive_count = receive_count - 1,"
        " visible_at_ms = ?, enqueued_at_ms = ?,"
        " retained_from_ms = CASE WHEN ? = 1 THEN ? ELSE retained_from_ms END,"
        f" dead_letter_source = ?, receipt = {conn.dialect.random_receipt} WHERE id = ?",
        [(target.id, now_ms, now_ms, int(target.fifo), now_ms, queue.name, i) for i in row_ids],
    )
    return len(row_ids)


def delete_messages(
    conn: Connection, queue: QueueRecord, receipts: Sequence[Receipt], now_ms: int
) -> list[bool]:
    queue_id = queue.id
    cursor = conn.executemany(_DELETE, [(r.row_id, r.token, queue_id) for r in receipts])
    counters.bump(conn, queue_id, "deleted", cursor.rowcount)
    if cursor.rowcount == len(receipts):
        return [True] * len(receipts)
    # Some did not match; only now is the queue's existence worth a look (a deleted
    # queue has no rows left to match). A live row still there holds a newer receipt
    # (a stale handle); a row that is gone (or expired) was deleted, now or before:
    # success, as in SQS.
    check_exists(conn, queue)
    ids = [r.row_id for r in receipts]
    cutoff = lifecycle.retention_cutoff_ms(queue.config.retention_seconds, now_ms)
    remaining = {
        row[0]
        for row in conn.execute(
            "SELECT id FROM eventyard_messages WHERE id IN"
            f" ({','.join('?' * len(ids))}) AND (queue_id != ? OR retained_from_ms > ?)",
            (*ids, queue.id, cutoff),
        )
    }
    return [r.row_id not in remaining for r in receipts]


def change_visibility(
    conn: Connection,
    queue: QueueRecord,
    changes: Sequence[tuple[Receipt, int]],
    now_ms: int,
) -> list[Exception | None]:
    ids = [receipt.row_id for receipt, _ in changes]
    rows = {
        row[0]: row
        for row in conn.execute(
            "SELECT id, queue_id, receipt, visible_at_ms, received_at_ms, receive_count,"
            " retained_from_ms"
            f" FROM eventyard_messages WHERE id IN ({','.join('?' * len(ids))})",
            ids,
        )
    }
    outcomes: list[Exception | None] = []
    updates: list[tuple[int, int]] = []
    cutoff = lifecycle.retention_cutoff_ms(queue.config.retention_seconds, now_ms)
    for receipt, timeout in changes:
        row = rows.get(receipt.row_id)
        if row is None or (row[1] == queue.id and row[6] <= cutoff):
            outcomes.append(
                ReceiptHandleIsInvalid(
                    "the message of this receipt handle is gone (deleted, expired or purged)"
                )
            )
            continue
        if row[1] != queue.id or row[2] != receipt.token:
            outcomes.append(
                ReceiptHandleIsInvalid(
                    "the receipt handle is stale: the message was received again since (or "
                    "moved to a dead-letter queue); use the handle of the latest receive"
                )
            )
            continue
        try:
            new_visible_at = lifecycle.visible_after_change(
                visible_at_ms=row[3],
                received_at_ms=row[4],
                receive_count=row[5],
                new_timeout_seconds=timeout,
                now_ms=now_ms,
            )
        except Exception as exc:  # the lifecycle's specific errors, kept per entry
            outcomes.append(exc)
            continue
        updates.append((new_visible_at, receipt.row_id))
        outcomes.append(None)
    if updates:
        conn.executemany("UPDATE eventyard_messages SET visible_at_ms = ? WHERE id = ?", updates)
    return outcomes


def purge(conn: Connection, queue: QueueRecord, now_ms: int) -> int:
    cursor = conn.execute("DELETE FROM eventyard_messages WHERE queue_id = ?", (queue.id,))
    conn.execute("UPDATE eventyard_queues SET purged_at_ms = ? WHERE id = ?", (now_ms, queue.id))
    counters.bump(conn, queue.id, "purged", cursor.rowcount)
    return cursor.rowcount


def last_purge_at(conn: Connection, queue: QueueRecord) -> int | None:
    row = first_row(
        conn.execute("SELECT purged_at_ms FROM eventyard_queues WHERE id = ?", (queue.id,))
    )
    return None if row is None else row[0]


def stats(conn: Connection, queue: QueueRecord, now_ms: int) -> QueueStats:
    cutoff = lifecycle.retention_cutoff_ms(queue.config.retention_seconds, now_ms)
    visible, in_flight, delayed, oldest = first_row(
        conn.execute(
            "SELECT count(*) FILTER (WHERE visible_at_ms <= ?1),"
            " count(*) FILTER (WHERE visible_at_ms > ?1 AND receive_count > 0),"
            " count(*) FILTER (WHERE visible_at_ms > ?1 AND receive_count = 0),"
            " min(enqueued_at_ms)"
            " FROM eventyard_messages WHERE queue_id = ?2 AND retained_from_ms > ?3",
            (now_ms, queue.id, cutoff),
        )
    )
    return QueueStats(
        visible=visible,
        in_flight=in_flight,
        delayed=delayed,
        oldest_age_seconds=None if oldest is None else max(0.0, (now_ms - oldest) / 1000),
    )
