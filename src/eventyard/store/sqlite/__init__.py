"""The SQLite backend: one file, WAL mode, shared by threads and processes."""

from eventyard.store.sqlite.store import SQLiteStore

__all__ = ["SQLiteStore"]
