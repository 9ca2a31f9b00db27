"""`SQLiteStore`: the storage contract on one SQLite file (the SQL is `eventyard.store.sql`)."""

from __future__ import annotations

import os

from eventyard.store.base import Durability
from eventyard.store.sql.store import SqlStore
from eventyard.store.sqlite.connection import DEFAULT_BUSY_TIMEOUT_SECONDS, Database


class SQLiteStore(SqlStore):
    """Queues and messages in one SQLite file (WAL), shared by threads and processes."""

    database: Database

    def __init__(
        self,
        path: str,
        durability: Durability = "full",
        busy_timeout_seconds: float = DEFAULT_BUSY_TIMEOUT_SECONDS,
    ) -> None:
        self.path = os.path.abspath(path)
        super().__init__(
            Database(self.path, durability, busy_timeout_seconds),
            f"sqlite:///{self.path}",
            durability,
        )
