"""The PostgreSQL schema: same tables and columns as SQLite's, migrated once, safely."""

from __future__ import annotations

import multiprocessing
import re
import sqlite3
from typing import Any

import psycopg
import pytest

from eventyard.errors import SchemaTooNew, UnsupportedDatabaseUrl
from eventyard.model.internal import DELIVERY_QUEUE
from eventyard.store.postgres import schema
from eventyard.store.postgres.schema import SCHEMA_VERSION, check_schema_name, migrate
from eventyard.store.sqlite.schema import MIGRATIONS as SQLITE_MIGRATIONS

NOW_MS = 1_800_000_000_000
#: The columns PostgreSQL adds on purpose (counter shards), by table.
EXTRA_COLUMNS = {
    "eventyard_queue_counters": {"shard"},
    "eventyard_function_stats": {"shard"},
}


def connect(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(url, autocommit=True)


def sqlite_columns() -> dict[str, set[str]]:
    """Every table of the SQLite schema and its columns, from a database migrated in memory."""
    conn = sqlite3.connect(":memory:")
    conn.executescript("".join(SQLITE_MIGRATIONS))
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'eventyard%'"
        )
    ]
    return {t: {row[1] for row in conn.execute(f"PRAGMA table_info({t})")} for t in tables}


def postgres_columns(conn: psycopg.Connection[Any], schema_name: str) -> dict[str, set[str]]:
    columns: dict[str, set[str]] = {}
    for table, column in conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = %s",
        (schema_name,),
    ):
        columns.setdefault(table, set()).add(column)
    return columns


def versions(conn: psycopg.Connection[Any], schema_name: str = "eventyard") -> list[int]:
    rows = conn.execute(
        f'SELECT version FROM "{schema_name}".eventyard_schema ORDER BY version'
    ).fetchall()
    return [row[0] for row in rows]


def test_a_fresh_database_gets_every_sqlite_table(postgres_url: str) -> None:
    with connect(postgres_url) as conn:
        assert migrate(conn, "eventyard", NOW_MS) == SCHEMA_VERSION
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'eventyard'"
            )
        }
    created = re.findall(r"CREATE TABLE (\w+)", "".join(SQLITE_MIGRATIONS))
    assert created, "the SQLite migrations create tables"
    assert tables == {*created, "eventyard_schema"}


def test_every_table_has_the_sqlite_columns(postgres_url: str) -> None:
    with connect(postgres_url) as conn:
        migrate(conn, "eventyard", NOW_MS)
        columns = postgres_columns(conn, "eventyard")
    columns.pop("eventyard_schema")
    expected = {
        table: names | EXTRA_COLUMNS.get(table, set()) for table, names in sqlite_columns().items()
    }
    assert columns == expected


def test_named_indexes_match_sqlite(postgres_url: str) -> None:
    expected = set(re.findall(r"CREATE INDEX (\w+)", "".join(SQLITE_MIGRATIONS)))
    with connect(postgres_url) as conn:
        migrate(conn, "eventyard", NOW_MS)
        indexes = {
            row[0]
            for row in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = 'eventyard'"
                " AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'"
            )
        }
    assert indexes == expected


def test_types_follow_postgresql(postgres_url: str) -> None:
    with connect(postgres_url) as conn:
        migrate(conn, "eventyard", NOW_MS)
        types = {
            (row[0], row[1]): row[2]
            for row in conn.execute(
                "SELECT table_name, column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = 'eventyard'"
            )
        }
        identity = conn.execute(
            "SELECT is_identity FROM information_schema.columns WHERE table_schema = 'eventyard'"
            " AND table_name = 'eventyard_messages' AND column_name = 'id'"
        ).fetchone()
    assert types["eventyard_messages", "body"] == "bytea"
    assert types["eventyard_messages", "visible_at_ms"] == "bigint"
    assert types["eventyard_messages", "receipt"] == "bigint"
    assert types["eventyard_function_stats", "duration_ms"] == "double precision"
    assert identity == ("YES",)


def test_the_counter_tables_are_sharded(postgres_url: str) -> None:
    with connect(postgres_url) as conn:
        migrate(conn, "eventyard", NOW_MS)
        keys = dict(
            conn.execute(
                "SELECT c.relname, pg_get_constraintdef(k.oid) FROM pg_constraint k"
                " JOIN pg_class c ON c.oid = k.conrelid"
                " WHERE k.contype = 'p' AND c.relname IN"
                " ('eventyard_queue_counters', 'eventyard_function_stats')"
            ).fetchall()
        )
    assert keys == {
        "eventyard_queue_counters": "PRIMARY KEY (queue_id, shard)",
        "eventyard_function_stats": "PRIMARY KEY (function, minute_ms, shard)",
    }


def test_the_message_table_is_tuned_and_analysed(postgres_url: str) -> None:
    with connect(postgres_url) as conn:
        migrate(conn, "eventyard", NOW_MS)
        row = conn.execute(
            "SELECT reloptions, reltuples FROM pg_class"
            " WHERE oid = 'eventyard.eventyard_messages'::regclass"
        ).fetchone()
    assert row is not None
    options, reltuples = row
    assert "fillfactor=80" in options
    assert "autovacuum_vacuum_scale_factor=0.01" in options
    assert reltuples == 0  # -1 means never analysed


def test_the_delivery_queue_and_default_bus_exist(postgres_url: str) -> None:
    with connect(postgres_url) as conn:
        migrate(conn, "eventyard", NOW_MS)
        queues = conn.execute("SELECT name, fifo FROM eventyard.eventyard_queues").fetchall()
        buses = conn.execute("SELECT name FROM eventyard.eventyard_buses").fetchall()
    assert queues == [(DELIVERY_QUEUE, 0)]
    assert buses == [("default",)]


def test_migrating_twice_is_a_no_op_of_one_query(postgres_url: str) -> None:
    with connect(postgres_url) as conn:
        migrate(conn, "eventyard", NOW_MS)
    with CountingConnection.connect(postgres_url, autocommit=True) as conn:
        assert migrate(conn, "eventyard", NOW_MS + 1) == SCHEMA_VERSION
        assert conn.queries == 1
        applied = conn.execute("SELECT DISTINCT applied_at_ms FROM eventyard.eventyard_schema")
        assert applied.fetchall() == [(NOW_MS,)]
        assert versions(conn) == list(range(1, SCHEMA_VERSION + 1))


class CountingConnection(psycopg.Connection[Any]):
    """Counts the statements run through `execute`."""

    queries = 0

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        self.queries += 1
        return super().execute(*args, **kwargs)


def test_an_older_schema_is_brought_up_to_date(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with connect(postgres_url) as conn:
        monkeypatch.setattr(schema, "SCHEMA_VERSION", 3)
        assert migrate(conn, "eventyard", NOW_MS) == 3
        assert versions(conn) == [1, 2, 3]
        monkeypatch.undo()
        assert migrate(conn, "eventyard", NOW_MS) == SCHEMA_VERSION
        assert versions(conn) == list(range(1, SCHEMA_VERSION + 1))
        assert len(postgres_columns(conn, "eventyard")) == len(sqlite_columns()) + 1


def test_schemas_are_independent_and_public_stays_empty(postgres_url: str) -> None:
    with connect(postgres_url) as conn:
        migrate(conn, "eventyard", NOW_MS)
        migrate(conn, "Other_1", NOW_MS)
        assert versions(conn, "Other_1") == list(range(1, SCHEMA_VERSION + 1))
        assert postgres_columns(conn, "Other_1") == postgres_columns(conn, "eventyard")
        assert postgres_columns(conn, "public") == {}
        # SET LOCAL ended with the migration's transaction.
        assert conn.execute("SHOW search_path").fetchone() == ('"$user", public',)


def test_a_newer_schema_is_refused(postgres_url: str) -> None:
    with connect(postgres_url) as conn:
        migrate(conn, "eventyard", NOW_MS)
        conn.execute(
            "INSERT INTO eventyard.eventyard_schema (version, applied_at_ms) VALUES (%s, 0)",
            (SCHEMA_VERSION + 1,),
        )
        with pytest.raises(SchemaTooNew, match=f"version {SCHEMA_VERSION + 1}, newer"):
            migrate(conn, "eventyard", NOW_MS)


@pytest.mark.parametrize(
    "name", ["", "1abc", "a-b", "a b", 'x"; DROP TABLE y; --', "é", "a" * 64, "pg_temp_x"]
)
def test_a_bad_schema_name_is_refused(name: str, postgres_server_url: str) -> None:
    with pytest.raises(UnsupportedDatabaseUrl, match=re.escape(repr(name))):
        check_schema_name(name)
    # Refused before any statement runs (so the server's own database is safe).
    with connect(postgres_server_url) as conn, pytest.raises(UnsupportedDatabaseUrl):
        migrate(conn, name, NOW_MS)


@pytest.mark.parametrize("name", ["eventyard", "_x", "A1_b", "a" * 63])
def test_good_schema_names_are_accepted(name: str) -> None:
    assert check_schema_name(name) == name


def test_migrate_needs_autocommit(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn, pytest.raises(ValueError, match="autocommit"):
        migrate(conn, "eventyard", NOW_MS)


def _migrate_in_child(url: str, barrier: Any, results: Any) -> None:
    with connect(url) as conn:
        barrier.wait(timeout=60)
        results.put(migrate(conn, "eventyard", NOW_MS))


@pytest.mark.slow
def test_two_processes_migrating_at_once_both_succeed(postgres_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    children = [
        context.Process(target=_migrate_in_child, args=(postgres_url, barrier, results))
        for _ in range(2)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=120)
    assert [child.exitcode for child in children] == [0, 0]
    assert sorted(results.get(timeout=5) for _ in children) == [SCHEMA_VERSION] * 2
    with connect(postgres_url) as conn:
        assert versions(conn) == list(range(1, SCHEMA_VERSION + 1))
        assert conn.execute("SELECT count(*) FROM eventyard.eventyard_queues").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM eventyard.eventyard_buses").fetchone() == (1,)
