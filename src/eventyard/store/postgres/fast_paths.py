"""One statement per hot call on PostgreSQL: send, receive and delete of standard queues.

On PostgreSQL each statement costs a round trip and the server's own work per
statement (parse, plan or bind, lock, WAL), so the shared SQL's transactions
(BEGIN; check the queue's generation; do the work; bump a counter; COMMIT)
cost a batch of 10 five statements or more, where the work is one. Here the
generation check, the counter upsert (and a send's NOTIFY) ride along as CTEs
of the one statement that does the work, in autocommit: one statement is one
transaction. Measured with `eventyard bench postgres`: see docs/benchmarks.md.

These paths only take the common case and hand everything else to the
shared, transactional SQL (`SqlStore`): FIFO queues (their advisory lock and
deduplication), calls inside an application's transaction, a queue whose
generation changed (the shared path raises the right error), a receive that
found nothing (the shared path reports when the next message becomes
visible), and a delete that did not match every receipt (the shared path
tells a stale handle from a message already gone).

A receive claims expired and over-received messages like any other, as the
shared path does, and then settles them in a second transaction: deletes the
expired, moves the over-received to the dead-letter queue, and takes them
back out of the ``received`` counter. A crash in between leaves them claimed;
their visibility timeout brings them back to the next receive, which settles
them then: nothing is lost, and the counter is off by that crash.

The statements are prepared (psycopg prepares a statement at its fifth
use). A plan PostgreSQL cached while the table was nearly empty can be a
sequential scan; it is re-planned when the table's statistics change, which
autovacuum's next ANALYZE does (within ``autovacuum_naptime``; the message
table is analysed after 2% of changes). Sending the claim and the delete
unprepared instead would avoid that minute, but planning them at every call
cost a third of the drain rate (13k vs 18k msgs/s with 2 consumers).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from eventyard import lifecycle
from eventyard.store.postgres.connection import Database
from eventyard.store.records import ClaimedRow, OutgoingMessage, QueueRecord

_SHARD: Final = "pg_backend_pid() %% 16"  # % doubled: psycopg placeholders

SEND: Final = f"""
WITH ok AS (
  SELECT 1 FROM eventyard_queues WHERE id = %(queue)s AND generation = %(generation)s
), inserted AS (
  INSERT INTO eventyard_messages (queue_id, message_id, body, body_kind, attributes, sent_at_ms,
    enqueued_at_ms, retained_from_ms, visible_at_ms, sender_id)
  SELECT %(queue)s, u.message_id, u.body, u.kind, u.attributes, %(now)s, %(now)s, %(now)s,
    %(now)s + u.delay, %(sender)s
  FROM unnest(%(ids)s::text[], %(bodies)s::bytea[], %(kinds)s::int[], %(attributes)s::text[],
    %(delays)s::bigint[]) AS u(message_id, body, kind, attributes, delay)
  WHERE EXISTS (SELECT 1 FROM ok)
  RETURNING 1
), counted AS (
  INSERT INTO eventyard_queue_counters (queue_id, shard, sent)
  SELECT %(queue)s, {_SHARD}, count(*) FROM inserted HAVING count(*) > 0
  ON CONFLICT (queue_id, shard) DO UPDATE SET sent = eventyard_queue_counters.sent + excluded.sent
)
SELECT count(*), pg_notify(%(channel)s, '') FROM inserted
"""

RECEIVE: Final = f"""
WITH claimed AS (
  UPDATE eventyard_messages SET visible_at_ms = %(until)s, receive_count = receive_count + 1,
    receipt = floor(random() * 9.2e18)::bigint, received_at_ms = %(now)s,
    first_received_at_ms = coalesce(first_received_at_ms, %(now)s)
  WHERE id = ANY(ARRAY(SELECT id FROM eventyard_messages WHERE queue_id = %(queue)s
      AND visible_at_ms <= %(now)s ORDER BY visible_at_ms LIMIT %(wanted)s
      FOR UPDATE SKIP LOCKED))
    AND EXISTS (SELECT 1 FROM eventyard_queues WHERE id = %(queue)s
      AND generation = %(generation)s)
  RETURNING id, message_id, body, body_kind, attributes, sent_at_ms, receive_count,
    first_received_at_ms, receipt, sender_id, group_id, deduplication_id, dead_letter_source,
    retained_from_ms
), counted AS (
  INSERT INTO eventyard_queue_counters (queue_id, shard, received)
  SELECT %(queue)s, {_SHARD}, count(*) FROM claimed HAVING count(*) > 0
  ON CONFLICT (queue_id, shard) DO UPDATE
    SET received = eventyard_queue_counters.received + excluded.received
)
SELECT * FROM claimed ORDER BY id
"""

# ``queue_id + 0``: statistics taken while the queue was empty would otherwise send the
# planner to the (queue_id, visible_at_ms) index, a scan of the whole queue per delete.
DELETE: Final = f"""
WITH gone AS (
  DELETE FROM eventyard_messages
  WHERE id = ANY(%(ids)s::bigint[])
    AND (id, receipt) IN (SELECT * FROM unnest(%(ids)s::bigint[], %(receipts)s::bigint[]))
    AND queue_id + 0 = %(queue)s
  RETURNING 1
), counted AS (
  INSERT INTO eventyard_queue_counters (queue_id, shard, deleted)
  SELECT %(queue)s, {_SHARD}, count(*) FROM gone HAVING count(*) > 0
  ON CONFLICT (queue_id, shard) DO UPDATE
    SET deleted = eventyard_queue_counters.deleted + excluded.deleted
)
SELECT count(*) FROM gone
"""


def send(
    database: Database,
    queue: QueueRecord,
    messages: Sequence[OutgoingMessage],
    now_ms: int,
    sender_id: str,
) -> bool:
    """Store a standard queue's batch in one statement; False: nothing stored, take the
    shared path (the queue changed or is gone)."""
    stored = database.dialect.stored_body
    with database.autocommit() as raw:
        row = raw.execute(
            SEND,
            {
                "queue": queue.id,
                "generation": queue.generation,
                "now": now_ms,
                "sender": sender_id,
                "ids": [m.message_id for m in messages],
                "bodies": [stored(m.body) for m in messages],
                "kinds": [m.body_kind for m in messages],
                "attributes": [m.attributes for m in messages],
                "delays": [m.delay_seconds * 1000 for m in messages],
                "channel": database.channel,
            },
        ).fetchone()
    if row is None or row[0] != len(messages):
        return False
    database.signal.notify()
    return True


def claim(
    database: Database,
    queue: QueueRecord,
    max_messages: int,
    visibility_timeout: int,
    now_ms: int,
) -> list[ClaimedRow]:
    """Claim up to ``max_messages`` in one statement (counted as received); [] when none
    was claimed or the queue changed (then the shared path decides)."""
    with database.autocommit() as raw:
        rows: list[Any] = raw.execute(
            RECEIVE,
            {
                "until": lifecycle.visible_after_receive(now_ms, visibility_timeout),
                "now": now_ms,
                "queue": queue.id,
                "generation": queue.generation,
                "wanted": max_messages,
            },
        ).fetchall()
    loaded = database.dialect.loaded_body
    return [ClaimedRow(r[0], r[1], loaded(r[2], r[3]), *r[3:]) for r in rows]


def delete(database: Database, queue: QueueRecord, row_ids: list[int], tokens: list[int]) -> int:
    """Delete by receipt in one statement; how many rows went."""
    with database.autocommit() as raw:
        row = raw.execute(
            DELETE,
            {"ids": row_ids, "receipts": tokens, "queue": queue.id},
        ).fetchone()
    return 0 if row is None else int(row[0])
