"""`PostgresStore`: the storage contract on PostgreSQL (the SQL is `eventyard.store.sql`)."""

from __future__ import annotations

from eventyard.store.base import Durability
from eventyard.store.postgres.connection import Database
from eventyard.store.sql.store import SqlStore


class PostgresStore(SqlStore):
    """Queues and messages in a PostgreSQL schema, shared by processes on many machines."""

    database: Database

    def __init__(self, url: str, durability: Durability = "full") -> None:
        database = Database(url, durability)
        super().__init__(database, database.settings.display_url, durability, connect_url=url)
