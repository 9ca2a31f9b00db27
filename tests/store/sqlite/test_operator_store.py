"""The SQLite side of the operator's figures and actions: migration 6, one counter upsert per
batch call, peeking without the write lock, and cheap pruning of function statistics."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests_support import FakeClock

import eventyard
from eventyard.store.sqlite import SQLiteStore
from eventyard.store.sqlite.schema import SCHEMA_VERSION


@pytest.fixture
def traced(tmp_path: Path) -> Iterator[tuple[eventyard.Client, list[str], FakeClock]]:
    clock = FakeClock()
    with eventyard.connect(str(tmp_path / "e.db"), durability="process", clock=clock) as client:
        statements: list[str] = []
        client.store.database.connection().set_trace_callback(statements.append)  # type: ignore[attr-defined]
        yield client, statements, clock


def _count(statements: list[str], text: str) -> int:
    found = sum(text in statement for statement in statements)
    statements.clear()
    return found


def test_migration_6_adds_the_tables_to_an_older_database(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    SQLiteStore(str(path)).close()
    with sqlite3.connect(path) as conn:  # make it a version-5 database again
        conn.execute("DROP TABLE eventyard_queue_counters")
        conn.execute("DROP TABLE eventyard_function_stats")
        conn.execute("DELETE FROM eventyard_schema WHERE version = 6")
    with eventyard.connect(str(path)) as client:
        queue = client.create_queue("q")
        queue.send("x")
        assert queue.counters().sent == 1
    with sqlite3.connect(path) as conn:
        assert max(row[0] for row in conn.execute("SELECT version FROM eventyard_schema")) == 6
    assert SCHEMA_VERSION == 6


def test_one_counter_upsert_per_batch_call(
    traced: tuple[eventyard.Client, list[str], FakeClock],
) -> None:
    client, statements, clock = traced
    client.create_queue("dlq")
    queue = client.create_queue(
        "q", visibility_timeout=5, dead_letter_queue="dlq", max_receive_count=1
    )
    statements.clear()
    queue.send_batch([str(i) for i in range(10)])
    assert _count(statements, "eventyard_queue_counters") == 1
    received = queue.receive(10)
    assert _count(statements, "eventyard_queue_counters") == 1
    queue.delete_batch(received[:9])
    assert _count(statements, "eventyard_queue_counters") == 1
    clock.advance(5)
    assert queue.receive(10) == []  # dead-letters the 10th: one upsert
    assert _count(statements, "eventyard_queue_counters") == 1
    assert queue.receive(10) == []  # nothing claimed: no write at all
    assert _count(statements, "eventyard_queue_counters") == 0
    topic = client.create_topic("t")
    topic.subscribe(queue)
    topic.subscribe(client.get_queue("dlq"))
    statements.clear()
    topic.publish_batch([str(i) for i in range(10)])
    assert _count(statements, "eventyard_queue_counters") == 1  # every queue in one statement


def test_a_receive_that_dead_letters_bumps_both_counters_at_once(
    traced: tuple[eventyard.Client, list[str], FakeClock],
) -> None:
    client, statements, clock = traced
    client.create_queue("dlq")
    queue = client.create_queue(
        "q", visibility_timeout=5, dead_letter_queue="dlq", max_receive_count=1
    )
    queue.send_batch(["poison", "fine"])
    queue.receive(1)
    clock.advance(5)
    statements.clear()
    assert len(queue.receive(10)) == 1
    assert _count(statements, "eventyard_queue_counters") == 1
    assert queue.counters() == eventyard.QueueCounters(sent=2, received=2, dead_lettered=1)


def test_peek_and_counters_need_no_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "e.db"
    with eventyard.connect(str(path), busy_timeout_seconds=0.2) as client:
        queue = client.create_queue("q")
        queue.send_batch(["a", "b"])
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            started = time.monotonic()
            assert len(queue.peek().messages) == 2
            assert queue.counters().sent == 2
            assert client.function_stats() == {}
            assert time.monotonic() - started < 0.2
            with pytest.raises(eventyard.StoreBusy):
                queue.delete_message_ids([queue.peek().messages[0].message_id])
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()


def test_function_statistics_one_upsert_and_pruning_now_and_then(
    traced: tuple[eventyard.Client, list[str], FakeClock],
    tmp_path: Path,
) -> None:
    client, statements, clock = traced
    store = client.store
    store.record_invocations("fn", client.now_ms(), 1, 0, 10, [12.5])
    assert _count(statements, "INSERT INTO eventyard_function_stats") == 1
    for _ in range(5):
        clock.advance(1)
        store.record_invocations("fn", client.now_ms(), 1, 0, 10, [12.5])
    assert _count(statements, "DELETE FROM eventyard_function_stats") == 0  # not every write
    clock.advance(2 * 3600)
    store.record_invocations("fn", client.now_ms(), 1, 0, 10, [12.5])
    assert _count(statements, "DELETE FROM eventyard_function_stats") == 1
    with sqlite3.connect(tmp_path / "e.db") as conn:
        minutes = [row[0] for row in conn.execute("SELECT minute_ms FROM eventyard_function_stats")]
    assert sorted(minutes)[0] == -1  # the all-time row stays
    assert len(minutes) == 2  # the old minute went; this minute's row
    assert client.function_stats()["fn"].total_invocations == 7


def test_mapping_statistics_join_the_settling_transaction(
    traced: tuple[eventyard.Client, list[str], FakeClock],
) -> None:
    client, _, _ = traced

    def record_then_fail() -> None:
        with client.transaction():
            client.store.record_invocations("fn", client.now_ms(), 1, 0, 1, [1.0])
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        record_then_fail()
    assert client.function_stats() == {}
