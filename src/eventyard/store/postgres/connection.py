"""Connections to one PostgreSQL database: a pool, transactions, wake-ups.

Every process keeps a `psycopg_pool.ConnectionPool`. A store call borrows a
connection for the length of its transaction (or of its read) and gives it
back; a thread inside `Database.write` (or the application's
``client.transaction()``) keeps its connection, and the store calls it makes
join that transaction (as savepoints). Connections run in autocommit mode
between transactions, so reads see the latest commit and hold no snapshot.

The application's tables and eventyard's live in the same database: the
eventyard schema (``eventyard`` unless the URL says ``?schema=...``) is
appended to each connection's ``search_path``, so ``tx.execute`` finds the
application's tables where it always has, and eventyard's by their
``eventyard_`` names.

Wake-ups: a write that can make a message visible sends ``NOTIFY`` inside
its transaction; PostgreSQL delivers it to every listening process when (and
only if) the transaction commits. This process's waiters are woken directly
after the commit (`notify.ChangeListener`).

Durability: ``full`` commits wait for the WAL flush (``synchronous_commit``
on, the server's default); ``process`` sets ``synchronous_commit = off``: a
commit survives any client crash, but the server may lose its last commits
(never half of one) if it crashes.

A lost connection (server restart, ``pg_terminate_backend``, network) fails
the call in progress with `StoreUnavailable` (retryable); the pool drops the
broken connection and opens new ones, with backoff, for the calls that follow.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, Final, Literal
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql as pgsql
from psycopg_pool import ConnectionPool, PoolTimeout

from eventyard.errors import (
    StoreBusy,
    StoreError,
    StoreUnavailable,
    UnsupportedDatabaseUrl,
)
from eventyard.store.base import Durability, check_durability
from eventyard.store.postgres.notify import ChangeListener, channel_name
from eventyard.store.postgres.placeholders import rewrite
from eventyard.store.postgres.schema import DEFAULT_SCHEMA, check_schema_name, migrate
from eventyard.store.sql.dialect import POSTGRES, Dialect

DEFAULT_POOL_SIZE: Final = 10
DEFAULT_POOL_TIMEOUT_SECONDS: Final = 30.0
_MAX_POOL_SIZE: Final = 1000
#: The URL query parameters eventyard reads itself (libpq never sees them).
_OWN_PARAMETERS: Final = ("schema", "pool_size")

_open_databases: weakref.WeakSet[Database] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for database in list(_open_databases):
        database._forget_pool_after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


class PgCursor:
    """A psycopg cursor as the SQL modules use it (rows as tuples)."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def description(self) -> Any:
        return self._cursor.description

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall() if self._cursor.description is not None else []

    def fetchone(self) -> Any:
        return self._cursor.fetchone() if self._cursor.description is not None else None

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class PgConnection:
    """A psycopg connection that takes eventyard's ``?`` placeholders (see `placeholders`)."""

    __slots__ = ("raw",)
    dialect: Dialect = POSTGRES

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        #: The psycopg connection itself (its own placeholders are ``%s``).
        self.raw = raw

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> PgCursor:
        statement = rewrite(sql)
        return PgCursor(self.raw.execute(statement.sql, statement.parameters(parameters)))

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> PgCursor:
        statement = rewrite(sql)
        cursor = self.raw.cursor()
        cursor.executemany(
            statement.sql,
            [statement.parameters(values) for values in parameters],
        )
        return PgCursor(cursor)


class ConnectionSettings:
    """What a ``postgresql://`` URL says: libpq's connection string and eventyard's own."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("postgresql", "postgres"):
            raise UnsupportedDatabaseUrl(f"database URL {url!r} is not a postgresql:// URL")
        query = parse_qsl(parts.query, keep_blank_values=True)
        own = {key: value for key, value in query if key in _OWN_PARAMETERS}
        self.schema = check_schema_name(own.get("schema", DEFAULT_SCHEMA))
        self.pool_size = _pool_size(own.get("pool_size"))
        kept = [(key, value) for key, value in query if key not in _OWN_PARAMETERS]
        self.conninfo = urlunsplit(parts._replace(query=urlencode(kept, quote_via=quote)))
        try:
            psycopg.conninfo.conninfo_to_dict(self.conninfo)
        except psycopg.ProgrammingError as exc:
            raise UnsupportedDatabaseUrl(f"database URL {_redacted(url)!r}: {exc}") from None
        #: The URL without its password (for messages and `Store.url`).
        self.display_url = _redacted(url)


def _pool_size(value: str | None) -> int:
    if value is None:
        return DEFAULT_POOL_SIZE
    try:
        size = int(value)
    except ValueError:
        size = 0
    if not 1 <= size <= _MAX_POOL_SIZE:
        raise UnsupportedDatabaseUrl(
            f"database URL parameter pool_size={value!r}: give a whole number from 1 to "
            f"{_MAX_POOL_SIZE} (connections per process)"
        )
    return size


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


class Database:
    """One PostgreSQL database (one eventyard schema in it), shared by this process's threads."""

    dialect: Dialect = POSTGRES
    look_before_claim: Literal["always", "after_empty"] = "after_empty"

    def __init__(
        self,
        url: str,
        durability: Durability = "full",
        pool_timeout_seconds: float = DEFAULT_POOL_TIMEOUT_SECONDS,
    ) -> None:
        self.settings = ConnectionSettings(url)
        self.durability: Durability = check_durability(durability)
        self.pool_timeout_seconds = pool_timeout_seconds
        self._channel = channel_name(self.settings.schema)
        self._notify_sql = f"NOTIFY {self._channel}"
        self._listener = ChangeListener(self.settings.conninfo, self._channel)
        self._local = threading.local()
        self._pool: ConnectionPool[psycopg.Connection[Any]] | None = None
        self._pool_pid = -1
        self._pool_lock = threading.Lock()
        self._closed = False
        _open_databases.add(self)
        try:
            with self._connect() as conn:
                migrate(conn, self.settings.schema, int(time.time() * 1000))
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(
                f"cannot connect to PostgreSQL at {self.settings.display_url}: {exc}"
            ) from exc

    @property
    def signal(self) -> ChangeListener:
        return self._listener

    @property
    def channel(self) -> str:
        """The NOTIFY channel of this schema's changes."""
        return self._channel

    @contextmanager
    def autocommit(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled psycopg connection for one statement that is its own transaction
        (`fast_paths`); errors come out as eventyard's."""
        with self._borrowed() as raw:
            yield raw

    # -- connections ---------------------------------------------------------
    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.settings.conninfo, autocommit=True)

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        """Each pooled connection: eventyard's schema on the search path, durability."""
        conn.execute(
            "SELECT set_config('search_path', current_setting('search_path') || ', ' || %s, false)",
            (pgsql.Identifier(self.settings.schema).as_string(conn),),
        )
        conn.execute("SET application_name = 'eventyard'")
        if self.durability == "process":
            conn.execute("SET synchronous_commit = off")

    def pool(self) -> ConnectionPool[psycopg.Connection[Any]]:
        """This process's pool, opened on first use (and again in a forked child)."""
        if self._closed:
            raise StoreError(f"the store for {self.settings.display_url} is closed")
        pool = self._pool
        if pool is not None and self._pool_pid == os.getpid():
            return pool
        with self._pool_lock:
            if self._pool is None or self._pool_pid != os.getpid():
                self._pool = ConnectionPool(
                    self.settings.conninfo,
                    min_size=1,
                    max_size=self.settings.pool_size,
                    kwargs={"autocommit": True},
                    configure=self._configure,
                    timeout=self.pool_timeout_seconds,
                    reconnect_timeout=0,
                    name=f"eventyard-{self.settings.schema}",
                    open=True,
                )
                self._pool_pid = os.getpid()
            return self._pool

    def _forget_pool_after_fork(self) -> None:
        # The parent's sockets are not ours to use (nor to close).
        self._pool = None
        self._local = threading.local()
        self._pool_lock = threading.Lock()

    @contextmanager
    def _borrowed(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            with self.pool().connection() as conn:
                yield conn
        except PoolTimeout as exc:
            raise StoreBusy(
                f"no connection to {self.settings.display_url} was free for "
                f"{self.pool_timeout_seconds:g} s (pool_size={self.settings.pool_size}); "
                "raise pool_size in the URL or the server's max_connections"
            ) from exc
        except psycopg.Error as exc:
            error = self._translated(exc)
            if isinstance(error, StoreUnavailable) and self._pool is not None:
                # The server may have restarted: the other idle connections are broken
                # too. Drop them now rather than fail one call per connection.
                with suppress(Exception):
                    self._pool.check()
            raise error from exc

    def _translated(self, exc: psycopg.Error) -> StoreError:
        """An eventyard error for what PostgreSQL (or the network) said."""
        state = exc.sqlstate or ""
        where = self.settings.display_url
        if state.startswith("40"):  # serialization failure, deadlock: nothing was applied
            return StoreBusy(
                f"the transaction conflicted with another one on {where} and was "
                f"rolled back; try again ({exc})"
            )
        if state == "57014":
            return StoreBusy(
                f"a statement on {where} was cancelled (statement_timeout, or cancelled by "
                f"an operator) and its transaction rolled back; try again ({exc})"
            )
        if isinstance(exc, psycopg.OperationalError):
            return StoreUnavailable(f"the connection to PostgreSQL at {where} failed: {exc}")
        return StoreError(f"PostgreSQL refused a statement on {where}: {exc}")

    # -- transactions --------------------------------------------------------
    def _current(self) -> PgConnection | None:
        current: PgConnection | None = getattr(self._local, "conn", None)
        return current

    @contextmanager
    def write(self, announce: bool = True) -> Iterator[PgConnection]:
        current = self._current()
        if current is not None:
            if announce:
                self._local.announce = True
            with current.raw.transaction():  # a savepoint
                yield current
            return
        with self._borrowed() as raw:
            conn = PgConnection(raw)
            self._local.conn = conn
            self._local.announce = announce
            try:
                with raw.transaction():
                    yield conn
                    if self._local.announce:
                        raw.execute(self._notify_sql)
            finally:
                self._local.conn = None
        if self._local.announce:
            self._listener.notify()

    def announce_at_commit(self) -> None:
        self._local.announce = True

    @contextmanager
    def read(self) -> Iterator[PgConnection]:
        current = self._current()
        if current is not None:
            yield current
            return
        with self._borrowed() as raw:
            yield PgConnection(raw)

    @contextmanager
    def snapshot(self) -> Iterator[PgConnection]:
        current = self._current()
        if current is not None:
            yield current
            return
        with self._borrowed() as raw, raw.transaction():
            raw.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield PgConnection(raw)

    def in_transaction(self) -> bool:
        return self._current() is not None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None and self._pool_pid == os.getpid():
            pool.close()
        self._listener.close()
