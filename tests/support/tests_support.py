"""Helpers shared by tests: read the database behind a URL directly."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from eventyard.store import sqlite_path


def count_rows(database_url: str, table: str, where: str = "1=1") -> int:
    """Rows of one of eventyard's tables, read with the database's own driver."""
    return int(query(database_url, f"SELECT count(*) FROM {table} WHERE {where}")[0][0])


def query(
    database_url: str, sql: str, parameters: Sequence[object] = ()
) -> list[tuple[object, ...]]:
    """One statement straight on the database behind a URL (SQLite file or PostgreSQL).

    ``parameters`` fill ``?`` placeholders (``?N`` too), as in ``tx.execute``, on both
    backends. A fresh connection each call, closed before returning: no lock is kept.
    """
    path = sqlite_path(database_url)
    if path is not None:
        conn = sqlite3.connect(path, timeout=60)
        try:
            return [tuple(row) for row in conn.execute(sql, tuple(parameters))]
        finally:
            conn.close()
    import psycopg

    from eventyard.store.postgres.connection import ConnectionSettings
    from eventyard.store.postgres.placeholders import rewrite

    settings = ConnectionSettings(database_url)
    with psycopg.connect(settings.conninfo, autocommit=True) as pg:
        pg.execute(f"SET search_path TO {settings.schema}, public")
        if not parameters:  # sent as written: psycopg reads no placeholder (nor any %)
            return [tuple(row) for row in pg.execute(sql).fetchall()]
        statement = rewrite(sql)
        cursor = pg.execute(statement.sql, statement.parameters(parameters))
        return [tuple(row) for row in cursor.fetchall()]


class FakeClock:
    """A clock the test moves by hand (seconds since the epoch, like time.time)."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
