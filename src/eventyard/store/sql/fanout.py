"""Publish plans on SQLite: a topic's fan-out into queues, in one transaction.

A plan says which cached records must be unchanged (guards), how to
deduplicate a FIFO topic's message, and builds the messages each queue
receives. All plans of one call commit together: a publish is atomic across
every subscribed queue. Standard-queue rows are gathered per queue and
inserted with one ``executemany`` each, whatever the number of plans.
"""

from __future__ import annotations

from collections.abc import Sequence

from eventyard import lifecycle
from eventyard.store.records import PlanResult, PublishPlan, QueueDelivery, QueueRecord
from eventyard.store.sql import buses, counters, messages, queues, topics
from eventyard.store.sql.dialect import Connection, Dialect
from eventyard.store.sql.rows import first_row


class Prebuilt:
    """A plan's deliveries made before the transaction: FIFO ones, and standard INSERT rows."""

    __slots__ = ("fifo", "standard")

    def __init__(self) -> None:
        self.fifo: list[QueueDelivery] = []
        self.standard: dict[int, tuple[QueueRecord, list[tuple[object, ...]]]] = {}

    def add_rows(self, queue: QueueRecord, rows: list[tuple[object, ...]]) -> None:
        """Gather rows per queue: one executemany per queue, whatever the number of plans."""
        current = self.standard.get(queue.id)
        if current is None:
            self.standard[queue.id] = (queue, list(rows))
        else:
            current[1].extend(rows)


def prebuild(dialect: Dialect, plan: PublishPlan, now_ms: int, sender_id: str) -> Prebuilt:
    """Build a plan that needs no sequence number, before taking the write lock."""
    return _gather(dialect, plan.build(None), Prebuilt(), now_ms, sender_id)


def _gather(
    dialect: Dialect,
    deliveries: list[QueueDelivery],
    into: Prebuilt,
    now_ms: int,
    sender_id: str,
) -> Prebuilt:
    for queue, outgoing in deliveries:
        if queue.fifo:
            into.fifo.append(QueueDelivery(queue, outgoing))
            continue
        into.add_rows(queue, messages.standard_rows(dialect, queue, outgoing, now_ms, sender_id))
    return into


def execute_plans(
    conn: Connection,
    plans: Sequence[PublishPlan],
    prebuilt: Sequence[Prebuilt | None],
    now_ms: int,
    sender_id: str,
) -> list[PlanResult]:
    results: list[PlanResult] = []
    checked_guards: set[tuple[str, int]] = set()
    checked_queues: set[int] = set()
    gathered = Prebuilt()
    sent: dict[int, int] = {}
    for plan, built in zip(plans, prebuilt, strict=True):
        for guard in plan.guards:
            if (guard.kind, guard.record_id) not in checked_guards:
                if guard.kind == "bus":
                    buses.check_guard(conn, guard)
                else:
                    topics.check_guard(conn, guard)
                checked_guards.add((guard.kind, guard.record_id))
        deduplication = plan.deduplication
        if deduplication is not None:
            messages.lock_key(conn, -deduplication.topic_id)
            first = first_row(
                conn.execute(
                    "SELECT message_id, sequence_number FROM eventyard_topic_deduplication"
                    " WHERE topic_id = ? AND key = ? AND expires_at_ms > ?",
                    (deduplication.topic_id, deduplication.key, now_ms),
                )
            )
            if first is not None:
                results.append(PlanResult(first[1], first[0]))
                continue
        sequence = None
        if plan.sequence_topic_id is not None:
            row = first_row(
                conn.execute(
                    "UPDATE eventyard_topics SET sequence = sequence + 1 WHERE id = ?"
                    " RETURNING sequence",
                    (plan.sequence_topic_id,),
                )
            )
            sequence = f"{row[0]:020d}"
        if deduplication is not None:
            conn.execute(
                "INSERT INTO eventyard_topic_deduplication (topic_id, key,"
                " message_id, sequence_number, expires_at_ms) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (topic_id, key) DO UPDATE SET message_id = excluded.message_id,"
                " sequence_number = excluded.sequence_number,"
                " expires_at_ms = excluded.expires_at_ms",
                (
                    deduplication.topic_id,
                    deduplication.key,
                    deduplication.message_id,
                    sequence,
                    lifecycle.deduplication_expires_at(now_ms),
                ),
            )
        if plan.archive:
            conn.executemany(
                "INSERT INTO eventyard_archived_events (archive_id, event_time_ms,"
                " event_id, archived_at_ms, event) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [
                    (a.archive_id, a.event_time_ms, a.event_id, now_ms, a.event_json)
                    for a in plan.archive
                ],
            )
        if built is None:
            built = _gather(conn.dialect, plan.build(sequence), Prebuilt(), now_ms, sender_id)
        for queue, outgoing in built.fifo:
            _check_queue(conn, queue, checked_queues)
            stored = messages.send_fifo(conn, queue, outgoing, now_ms, sender_id)
            sent[queue.id] = sent.get(queue.id, 0) + sum(not s.duplicate for s in stored)
        for queue, rows in built.standard.values():
            gathered.add_rows(queue, rows)
        results.append(PlanResult(sequence, None))
    for queue, rows in gathered.standard.values():
        _check_queue(conn, queue, checked_queues)
        messages.insert_standard(conn, rows)
        sent[queue.id] = sent.get(queue.id, 0) + len(rows)
    counters.bump_many(conn, "sent", sent.items())  # one statement for every queue
    return results


def _check_queue(conn: Connection, queue: QueueRecord, checked: set[int]) -> None:
    if queue.id not in checked:
        queues.check_generation(conn, queue)
        checked.add(queue.id)


def forget_expired_deduplication(conn: Connection, now_ms: int) -> None:
    conn.execute("DELETE FROM eventyard_topic_deduplication WHERE expires_at_ms <= ?", (now_ms,))
