"""`PostgresStore`: the storage contract on PostgreSQL (the SQL is `eventyard.store.sql`).

The hot calls of standard queues (send, receive, delete) take `fast_paths`: one
statement each. Everything else, and whatever those paths hand back, runs the
shared transactional SQL of `SqlStore`.
"""

from __future__ import annotations

from collections.abc import Sequence

from eventyard import lifecycle
from eventyard.model.receipt import Receipt
from eventyard.store.base import Durability
from eventyard.store.postgres import fast_paths
from eventyard.store.postgres.connection import Database
from eventyard.store.records import (
    ClaimedRow,
    OutgoingMessage,
    QueueRecord,
    ReceiveOutcome,
    SentMessage,
)
from eventyard.store.sql import counters, messages
from eventyard.store.sql.store import SqlStore


class PostgresStore(SqlStore):
    """Queues and messages in a PostgreSQL schema, shared by processes on many machines."""

    database: Database

    def __init__(self, url: str, durability: Durability = "full") -> None:
        database = Database(url, durability)
        super().__init__(database, database.settings.display_url, durability, connect_url=url)

    def _fast(self, queue: QueueRecord) -> bool:
        return not queue.fifo and not self.database.in_transaction()

    def send_messages(
        self,
        queue: QueueRecord,
        messages_: Sequence[OutgoingMessage],
        now_ms: int,
        sender_id: str,
    ) -> list[SentMessage]:
        if self._fast(queue) and fast_paths.send(
            self.database, queue, messages_, now_ms, sender_id
        ):
            return [SentMessage(m.message_id, None, False) for m in messages_]
        return super().send_messages(queue, messages_, now_ms, sender_id)

    def receive_messages(
        self, queue: QueueRecord, max_messages: int, visibility_timeout: int, now_ms: int
    ) -> ReceiveOutcome:
        if not self._fast(queue) or self._look_before_claim(queue.id):
            return super().receive_messages(queue, max_messages, visibility_timeout, now_ms)
        claimed = fast_paths.claim(self.database, queue, max_messages, visibility_timeout, now_ms)
        if not claimed:
            return super().receive_messages(queue, max_messages, visibility_timeout, now_ms)
        self._claimed_nothing(queue.id, False)
        delivered, expired, over_limit = _sort_out(queue, claimed, now_ms)
        dead_lettered = 0
        if expired or over_limit:
            dead_lettered = self._settle(queue, expired, over_limit, now_ms)
        if not delivered:
            # All were settled: look again the shared way, which also says when the next
            # message becomes visible (a long poll waits for that moment).
            again = super().receive_messages(queue, max_messages, visibility_timeout, now_ms)
            return ReceiveOutcome(
                again.rows,
                again.next_visible_at_ms,
                again.dead_lettered + dead_lettered,
                again.expired + len(expired),
            )
        return ReceiveOutcome(delivered, None, dead_lettered, len(expired))

    def _settle(
        self, queue: QueueRecord, expired: list[int], over_limit: list[int], now_ms: int
    ) -> int:
        """Delete the expired and dead-letter the over-received rows a claim took; they
        were counted as received and are not."""
        with self.database.write(announce=False) as conn:
            if expired:
                messages.delete_rows(conn, expired)
            dead_lettered = (
                messages.dead_letter(conn, queue, over_limit, now_ms) if over_limit else 0
            )
            counters.bump_receive(conn, queue.id, -(len(expired) + len(over_limit)), dead_lettered)
            if dead_lettered:
                self.database.announce_at_commit()
        return dead_lettered

    def delete_messages(
        self, queue: QueueRecord, receipts: Sequence[Receipt], now_ms: int
    ) -> list[bool]:
        if self._fast(queue):
            gone = fast_paths.delete(
                self.database, queue, [r.row_id for r in receipts], [r.token for r in receipts]
            )
            if gone == len(receipts):
                return [True] * len(receipts)
        return super().delete_messages(queue, receipts, now_ms)


def _sort_out(
    queue: QueueRecord, claimed: list[ClaimedRow], now_ms: int
) -> tuple[list[ClaimedRow], list[int], list[int]]:
    """The claimed rows to hand out, and the ids of the expired and the over-received."""
    config = queue.config
    cutoff = lifecycle.retention_cutoff_ms(config.retention_seconds, now_ms)
    max_receives = config.max_receive_count
    delivered: list[ClaimedRow] = []
    expired: list[int] = []
    over_limit: list[int] = []
    for row in claimed:
        if row.retained_from_ms <= cutoff:
            expired.append(row.row_id)
        elif max_receives is not None and lifecycle.exceeds_max_receives(
            row.receive_count, max_receives
        ):
            over_limit.append(row.row_id)
        else:
            delivered.append(row)
    return delivered, expired, over_limit
