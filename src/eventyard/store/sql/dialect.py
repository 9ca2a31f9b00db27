"""What the SQL modules need from a connection, and the few places the two SQL dialects differ.

The modules of `eventyard.store.sql` hold eventyard's SQL once, for both
backends. They write it with ``?`` placeholders (``?1``, ``?2`` where one
value is used twice), ``ON CONFLICT`` upserts and ``RETURNING``, which
SQLite (3.35+) and PostgreSQL both run; the PostgreSQL connection rewrites
the placeholders for psycopg (`eventyard.store.postgres.placeholders`). What
cannot be written the same way is asked of ``conn.dialect``:

* a fresh random receipt token for each claimed row;
* "this column is one of a list": SQLite takes the list as JSON
  (``json_each``), PostgreSQL as an array (``= ANY``);
* message bodies: SQLite keeps text as text in the body column, PostgreSQL
  keeps every body as ``bytea`` and gives text back as text;
* hot counter rows: SQLite has one writer at a time, so one row per queue
  (and per function minute) is enough; PostgreSQL runs writers side by
  side, and one row they all update would serialize them on its row lock,
  so each connection adds to its own shard of the row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final, Protocol

from eventyard.model.body import BODY_BYTES


class Cursor(Protocol):
    """The DB-API cursor calls the SQL modules use (sqlite3's and psycopg's both fit)."""

    @property
    def rowcount(self) -> int: ...

    @property
    def description(self) -> Any:
        """The result's columns (name first in each), or None for a statement without rows."""
        ...

    def fetchall(self) -> list[Any]: ...

    def fetchone(self) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...


class Dialect:
    """SQLite's answers; `PostgresDialect` overrides them."""

    name: str = "sqlite"
    #: An SQL expression drawing a new random 63-bit receipt token per row.
    random_receipt: str = "random()"
    #: An SQL expression naming the counter shard this connection adds to.
    counter_shard: str = "0"
    #: Null-safe equality.
    is_same: str = "IS"
    #: A statement that locks one queue id until the transaction ends ("": no need).
    queue_lock: str = ""
    #: The same for a name's 32-bit hash (`messages.lock_named`).
    named_lock: str = ""

    def adding_upsert(
        self, table: str, key: tuple[str, ...], columns: tuple[str, ...], rows: int
    ) -> str:
        """One statement adding ``columns`` to ``rows`` rows of a counter table (key values
        first, then the amounts, per row), creating the rows that are missing.

        On PostgreSQL the key gets the connection's shard (`counter_shard`) too.
        """
        key_columns, key_values = list(key), ["?"] * len(key)
        if self.counter_shard != "0":
            key_columns.append("shard")
            key_values.append(self.counter_shard)
        row = f"({', '.join(key_values + ['?'] * len(columns))})"
        keys = ", ".join(key_columns)
        return (
            f"INSERT INTO {table} ({keys}, {', '.join(columns)})"
            f" VALUES {', '.join([row] * rows)} ON CONFLICT ({keys}) DO UPDATE SET "
            + ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in columns)
        )

    def one_of(self, column: str) -> str:
        """``column`` is one of the values of the next placeholder (see `values`)."""
        return f"{column} IN (SELECT value FROM json_each(?))"

    def not_one_of(self, column: str) -> str:
        return f"{column} NOT IN (SELECT value FROM json_each(?))"

    def values(self, items: Iterable[object]) -> object:
        """The parameter for `one_of` / `not_one_of`."""
        return json.dumps(list(items))

    def stored_body(self, body: str | bytes) -> str | bytes:
        """A body as the message table stores it."""
        return body

    def loaded_body(self, stored: Any, body_kind: int) -> str | bytes:
        """A stored body as eventyard hands it on (text for text and JSON, bytes for bytes)."""
        return stored  # type: ignore[no-any-return]

    @property
    def converts_bodies(self) -> bool:
        return False


class PostgresDialect(Dialect):
    name = "postgresql"
    # random() is a double in [0, 1): scale it to the positive bigint range.
    random_receipt = "floor(random() * 9.2e18)::bigint"
    counter_shard = "(pg_backend_pid() % 16)"
    is_same = "IS NOT DISTINCT FROM"
    queue_lock = "SELECT pg_advisory_xact_lock(1701147252, ?)"
    named_lock = "SELECT pg_advisory_xact_lock(1701147253, ?)"

    def one_of(self, column: str) -> str:
        return f"{column} = ANY(?)"

    def not_one_of(self, column: str) -> str:
        return f"NOT ({column} = ANY(?))"

    def values(self, items: Iterable[object]) -> object:
        return list(items)

    def stored_body(self, body: str | bytes) -> str | bytes:
        return body.encode() if isinstance(body, str) else body

    def loaded_body(self, stored: Any, body_kind: int) -> str | bytes:
        data = bytes(stored)
        return data if body_kind == BODY_BYTES else data.decode()

    @property
    def converts_bodies(self) -> bool:
        return True


SQLITE: Final = Dialect()
POSTGRES: Final = PostgresDialect()


class Connection(Protocol):
    """A connection inside a transaction the store opened (or autocommit, for reads)."""

    @property
    def dialect(self) -> Dialect: ...

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor: ...
