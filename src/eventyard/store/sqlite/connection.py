"""Connections to one SQLite file: pragmas, write transactions, busy handling.

Each thread gets its own connection (sqlite3 connections are not shared
across threads), all in WAL mode so readers never block the writer. Writes
open with ``BEGIN IMMEDIATE``: the write lock is taken up front, so a
transaction never fails half-way with SQLITE_BUSY when it upgrades from
reading to writing. Waiting for the lock is SQLite's busy handler, bounded
by ``busy_timeout_seconds``; only if another writer holds the lock longer
than that does the caller see `StoreBusy` (never "database is locked").

Durability: ``full`` sets ``synchronous=FULL`` (the WAL is fsync'd at every
commit: what a call accepted survives a power cut); ``process`` sets
``synchronous=NORMAL`` (a commit survives the process crashing, but the last
commits may be lost if the machine loses power).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Final, Literal

from eventyard.errors import StoreBusy, StoreError
from eventyard.store.base import Durability, check_durability
from eventyard.store.sql.dialect import SQLITE, Dialect
from eventyard.store.sqlite.schema import migrate
from eventyard.store.sqlite.wakeup import ChangeSignal

_SYNCHRONOUS: Final[dict[str, str]] = {"full": "FULL", "process": "NORMAL"}

_open_databases: weakref.WeakSet[Database] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for database in list(_open_databases):
        database._forget_connections_after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)
DEFAULT_BUSY_TIMEOUT_SECONDS: Final = 30.0


class SQLiteConnection(sqlite3.Connection):
    """A sqlite3 connection that tells eventyard's SQL modules its dialect."""

    dialect: Dialect = SQLITE


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    message = str(exc)
    return "database is locked" in message or "database is busy" in message


class Database:
    """One SQLite file, shared by the threads of this process (and other processes)."""

    dialect: Dialect = SQLITE
    look_before_claim: Literal["always", "after_empty"] = "always"

    def __init__(
        self,
        path: str,
        durability: Durability = "full",
        busy_timeout_seconds: float = DEFAULT_BUSY_TIMEOUT_SECONDS,
    ) -> None:
        self.path = path
        self.durability: Durability = check_durability(durability)
        self.busy_timeout_seconds = busy_timeout_seconds
        self.signal = ChangeSignal(path)
        self._local = threading.local()
        self._connections: list[SQLiteConnection] = []
        self._lock = threading.Lock()
        self._closed = False
        _open_databases.add(self)
        with self.write() as conn:
            migrate(conn, int(time.time() * 1000))

    # -- connections ---------------------------------------------------------
    def connection(self) -> SQLiteConnection:
        """This thread's connection, opened on first use."""
        if self._closed:
            raise StoreError(f"the store for {self.path} is closed")
        conn: SQLiteConnection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        conn = self._open()
        self._local.conn = conn
        with self._lock:
            self._connections.append(conn)
        return conn

    def _forget_connections_after_fork(self) -> None:
        # A forked child must not use its parent's connections (nor close them).
        self._connections = []
        self._local = threading.local()
        self._lock = threading.Lock()

    def _open(self) -> SQLiteConnection:
        conn = sqlite3.connect(
            self.path,
            factory=SQLiteConnection,
            timeout=self.busy_timeout_seconds,
            isolation_level=None,
            check_same_thread=False,
            cached_statements=256,
        )
        try:
            self._retry_locked(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            conn.execute(f"PRAGMA synchronous = {_SYNCHRONOUS[self.durability]}")
            conn.execute("PRAGMA cache_size = -16000")
            conn.execute("PRAGMA temp_store = MEMORY")
            conn.execute("PRAGMA journal_size_limit = 67108864")
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(f"cannot open SQLite database {self.path}: {exc}") from exc
        return conn

    def _retry_locked(self, action: Callable[[], object]) -> None:
        deadline = time.monotonic() + self.busy_timeout_seconds
        while True:
            try:
                action()
                return
            except sqlite3.OperationalError as exc:
                if not _is_locked(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.005)

    # -- transactions --------------------------------------------------------
    @contextmanager
    def write(self, announce: bool = True) -> Iterator[SQLiteConnection]:
        """A write transaction; joins (as a savepoint) one already open on this thread.

        ``announce=False`` for writes that cannot make a message visible (deletes on
        standard queues, purges): waiting receivers are not woken for nothing.
        """
        conn = self.connection()
        if conn.in_transaction:
            if announce:
                self._local.announce = True
            conn.execute("SAVEPOINT eventyard_nested")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK TO eventyard_nested")
                conn.execute("RELEASE eventyard_nested")
                raise
            conn.execute("RELEASE eventyard_nested")
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _is_locked(exc):
                raise StoreBusy(
                    f"the database {self.path} stayed locked by other writers for more than "
                    f"{self.busy_timeout_seconds:g} s; try again, or raise busy_timeout_seconds"
                ) from exc
            raise StoreError(f"cannot begin a transaction on {self.path}: {exc}") from exc
        self._local.announce = announce
        try:
            yield conn
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StoreError(f"a write to {self.path} failed and was rolled back: {exc}") from exc
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StoreError(f"commit failed on {self.path}: {exc}") from exc
        if self._local.announce:
            self.signal.announce()

    def announce_at_commit(self) -> None:
        self._local.announce = True

    @contextmanager
    def read(self) -> Iterator[SQLiteConnection]:
        """This thread's connection: autocommit reads (each statement sees the latest
        commit), or inside this thread's open transaction."""
        yield self.connection()

    @contextmanager
    def snapshot(self) -> Iterator[SQLiteConnection]:
        """A read transaction (or this thread's open one) for several consistent reads."""
        conn = self.connection()
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    def in_transaction(self) -> bool:
        return self.connection().in_transaction

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            connections, self._connections = self._connections, []
        for conn in connections:
            with suppress(sqlite3.Error):
                conn.close()
        self.signal.close()
