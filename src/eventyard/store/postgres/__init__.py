"""The PostgreSQL backend: one schema in a database many machines share (psycopg 3)."""

from eventyard.store.postgres.store import PostgresStore

__all__ = ["PostgresStore"]
