"""The storage layer: the `Store` contract and the backends that implement it.

`open_store` turns a database URL into a store:

* ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or a bare
  file path: the embedded SQLite backend (the default is
  ``sqlite:///./eventyard.db``, or ``$EVENTYARD_DB`` when set);
* ``postgresql://user:password@host:port/database`` (any libpq URL): the
  PostgreSQL backend, with ``?schema=`` (default ``eventyard``) and
  ``?pool_size=`` (connections per process, default 10) read by eventyard.
"""

from __future__ import annotations

import os
from typing import Final

from eventyard.errors import UnsupportedDatabaseUrl
from eventyard.store.base import ChangeWatch, Durability, RecordChanged, Store
from eventyard.store.records import (
    ClaimedRow,
    MoveBatchOutcome,
    MoveTaskRecord,
    OutgoingMessage,
    QueueRecord,
    QueueStats,
    ReceiveOutcome,
    SentMessage,
)

DEFAULT_URL: Final = "sqlite:///./eventyard.db"
ENVIRONMENT_VARIABLE: Final = "EVENTYARD_DB"

__all__ = [
    "DEFAULT_URL",
    "ChangeWatch",
    "ClaimedRow",
    "Durability",
    "MoveBatchOutcome",
    "MoveTaskRecord",
    "OutgoingMessage",
    "RecordChanged",
    "QueueRecord",
    "QueueStats",
    "ReceiveOutcome",
    "SentMessage",
    "Store",
    "open_store",
    "resolve_url",
    "sqlite_path",
]


def resolve_url(url: str | None) -> str:
    """The URL to open: the one given, else ``$EVENTYARD_DB``, else the default file."""
    return url or os.environ.get(ENVIRONMENT_VARIABLE) or DEFAULT_URL


def sqlite_path(url: str) -> str | None:
    """The file path of a SQLite URL (or a bare path); None for other schemes."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
    elif url.startswith("sqlite://"):
        raise UnsupportedDatabaseUrl(
            f"database URL {url!r}: use sqlite:///relative/path.db or sqlite:////absolute/path.db"
        )
    elif "://" in url:
        return None
    else:
        path = url
    if not path or path == ":memory:" or path.startswith("file:"):
        raise UnsupportedDatabaseUrl(
            f"database URL {url!r} names no file; eventyard stores messages durably in a file "
            "(e.g. sqlite:///./eventyard.db)"
        )
    return path


def open_store(
    url: str | None = None,
    *,
    durability: Durability = "full",
    busy_timeout_seconds: float = 30.0,
) -> Store:
    """Open (and create or migrate) the store a URL names."""
    resolved = resolve_url(url)
    path = sqlite_path(resolved)
    if path is not None:
        from eventyard.store.sqlite import SQLiteStore

        return SQLiteStore(path, durability=durability, busy_timeout_seconds=busy_timeout_seconds)
    scheme = resolved.split("://", 1)[0]
    if scheme in ("postgresql", "postgres"):
        try:
            from eventyard.store.postgres import PostgresStore
        except ImportError as exc:
            raise UnsupportedDatabaseUrl(
                f"database URL scheme {scheme!r} needs the PostgreSQL driver ({exc.name} is "
                "not installed): pip install 'eventyard[postgres]'"
            ) from None
        return PostgresStore(resolved, durability=durability)
    raise UnsupportedDatabaseUrl(
        f"database URL scheme {scheme!r} is not supported; use sqlite:///path/to.db or "
        "postgresql://user:password@host/database"
    )
