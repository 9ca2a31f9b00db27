"""What `SqlStore` needs from a backend's database: transactions, reads, wake-ups."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Literal, Protocol

from eventyard.store.base import ChangeWatch
from eventyard.store.sql.dialect import Connection, Dialect


class Signal(Protocol):
    """Wakes long-polling receivers (`ChangeWatch` while registered)."""

    def watch(self) -> AbstractContextManager[ChangeWatch]: ...


class Database(Protocol):
    """Connections to one database, shared by the threads of a process."""

    dialect: Dialect

    @property
    def signal(self) -> Signal: ...

    #: When a receive first looks (one cheap read, no lock) before it claims:
    #: "always" where claiming takes the database's only write lock (SQLite),
    #: "after_empty" where claims run side by side and an extra round trip would
    #: only slow a busy consumer (PostgreSQL): then only while the queue was empty.
    look_before_claim: Literal["always", "after_empty"]

    def write(self, announce: bool = True) -> AbstractContextManager[Connection]:
        """A write transaction (joined, as a savepoint, if this thread has one open).

        ``announce``: wake waiting receivers (here and in other processes) once it
        commits; False for writes that cannot make a message visible.
        """
        ...

    def announce_at_commit(self) -> None:
        """Inside `write`: announce this transaction after all (it made messages visible)."""
        ...

    def read(self) -> AbstractContextManager[Connection]:
        """A connection for reads that each see the latest commit (or this thread's
        open transaction, when it has one)."""
        ...

    def snapshot(self) -> AbstractContextManager[Connection]:
        """Several reads from one consistent snapshot (or this thread's open transaction)."""
        ...

    def in_transaction(self) -> bool:
        """True while this thread has a transaction open (`write`, `Store.transaction`)."""
        ...

    def close(self) -> None: ...
