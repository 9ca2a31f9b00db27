"""Helpers shared by tests: read the database behind a URL directly."""

from __future__ import annotations

import sqlite3

from eventyard.store import sqlite_path


def count_rows(database_url: str, table: str, where: str = "1") -> int:
    path = sqlite_path(database_url)
    assert path is not None
    with sqlite3.connect(path) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0])


class FakeClock:
    """A clock the test moves by hand (seconds since the epoch, like time.time)."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
