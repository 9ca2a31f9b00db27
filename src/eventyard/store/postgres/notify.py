"""Wake long-polling receivers when the database changes, through LISTEN/NOTIFY.

The PostgreSQL counterpart of `eventyard.store.sqlite.wakeup.ChangeSignal`,
with the same waiter interface (``token``, ``watch``, ``wait``, ``notify``,
``close``), so the store can hand either to its receivers.

The writer side is not here: the store runs ``NOTIFY <channel>`` (or
``pg_notify``) inside its own write transaction. PostgreSQL delivers the
notification only when that transaction commits, so a woken waiter always
sees the new data, and a rolled-back write wakes nobody. Notifications from
this process arrive the same way; the store may also call `notify` after
its commit to wake local waiters without the round trip.

The reading side: while someone waits, a daemon thread holds one dedicated
autocommit connection (not from the pool: a pooled connection would be
reset, and LISTEN would be lost) that has run ``LISTEN <channel>``, blocks
until the server sends something or `close` writes to a self-pipe, and bumps
the generation for each batch of notifications. The connection stays open a
few seconds after the last waiter leaves, so a receive loop that waits again
at once does not reconnect each time.

Waiters take a token (a generation number) *before* they look at the queue
and wait until the generation moves past it, so a change between the look
and the wait is never missed. A change while the connection is not listening
(before the first LISTEN, or after the server dropped it) cannot be seen: so
every time LISTEN takes effect the generation is bumped once and waiters
look again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

import psycopg
from psycopg import sql

_logger = logging.getLogger(__name__)

#: How long the listening connection outlives the last waiter.
LINGER_SECONDS: Final = 5.0
#: Reconnection delays: the first, and the cap of the doubling.
RETRY_FIRST_SECONDS: Final = 0.05
RETRY_MAX_SECONDS: Final = 2.0
#: The application_name of the listening connection (shown in pg_stat_activity).
APPLICATION_NAME: Final = "eventyard-listener"
# PostgreSQL truncates identifiers to 63 bytes and refuses longer channel names
# in pg_notify(): a longer name would listen on one channel and notify another.
_MAX_CHANNEL_BYTES: Final = 63
# A silently vanished peer (a dropped NAT entry, a dead host) never makes the
# socket readable: TCP keepalives turn it into an error within about a minute.
_CONNECT_OPTIONS: Final[dict[str, Any]] = {
    "autocommit": True,
    "application_name": APPLICATION_NAME,
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}


def channel_name(schema: str) -> str:
    """The NOTIFY channel of the eventyard in ``schema``: ``eventyard_<schema>``, lower case.

    Lower case, because an unquoted ``NOTIFY Name`` is folded to lower case
    while the listener quotes its name: with a lower-case name (and the
    schema's letters, digits and underscores) both spellings meet. Two
    schemas differing only in case share a channel: a spurious wake-up only.
    """
    name = f"eventyard_{schema}".lower()
    if len(name.encode()) > _MAX_CHANNEL_BYTES:
        raise ValueError(f"schema name {schema!r} is too long for a NOTIFY channel name")
    return name


class ChangeListener:
    """A generation counter that goes up whenever ``channel`` is notified in the database."""

    def __init__(self, conninfo: str, channel: str) -> None:
        if not channel or len(channel.encode()) > _MAX_CHANNEL_BYTES:
            raise ValueError(
                f"NOTIFY channel name {channel!r} must be 1 to {_MAX_CHANNEL_BYTES} bytes long"
            )
        self.conninfo = conninfo
        self.channel = channel
        self._closed = False
        self._pipe: tuple[int, int] | None = None
        self._generation = 0
        self._reset()

    def _reset(self) -> None:
        """Fresh per-process state (also in a forked child: threads do not survive a fork).

        The generation goes on (up by one): a token taken before a fork never
        waits past it. Every public method checks the pid first, so a child
        never touches a lock that a parent's thread held at the fork.
        """
        if self._pipe is not None:
            # The parent's pipe, inherited: the child's copies are its own to close.
            # (Its listening connection is left alone: psycopg does not close a
            # connection in a process other than the one that opened it.)
            for fd in self._pipe:
                os.close(fd)
            self._pipe = None
        self._pid = os.getpid()
        self._condition = threading.Condition()
        self._generation += 1
        self._waiters = 0
        self._idle_since = time.monotonic()
        self._thread: threading.Thread | None = None

    def _adopt(self) -> None:
        if self._pid != os.getpid():
            self._reset()

    @property
    def cross_process_notifications(self) -> bool:
        """Always True: other processes' commits wake waiters through LISTEN."""
        return True

    def notify(self) -> None:
        """Wake this process's waiters."""
        self._adopt()
        with self._condition:
            self._generation += 1
            self._condition.notify_all()

    def token(self) -> int:
        self._adopt()
        return self._generation

    @contextmanager
    def watch(self) -> Iterator[ChangeListener]:
        """Register as a waiter; the listening connection is kept while anyone is registered."""
        self._register()
        pid = self._pid
        try:
            yield self
        finally:
            if os.getpid() == pid:  # (a forked child never registered)
                self._unregister()

    def wait(self, token: int, timeout_seconds: float) -> bool:
        """Wait until the generation passes ``token`` or the timeout; True if it changed."""
        self._adopt()
        if timeout_seconds <= 0:
            return self._generation != token
        with self._condition:
            return self._condition.wait_for(lambda: self._generation != token, timeout_seconds)

    def close(self) -> None:
        """Stop listening (promptly: the thread wakes on the self-pipe) and close the connection."""
        self._adopt()
        with self._condition:
            if self._closed:
                return
            self._closed = True
            thread, pipe = self._thread, self._pipe
        if thread is not None and pipe is not None:
            os.write(pipe[1], b"x")
            thread.join(timeout=5)
            if thread.is_alive():
                return  # stuck connecting: leave it the pipe rather than a reused fd
        if pipe is not None:
            for fd in pipe:
                os.close(fd)
            self._pipe = None

    # -- the listening thread ------------------------------------------------

    def _register(self) -> None:
        self._adopt()
        with self._condition:
            self._waiters += 1
            if self._thread is not None or self._closed:
                return
            if self._pipe is None:
                read_end, write_end = os.pipe()
                os.set_blocking(read_end, False)
                self._pipe = (read_end, write_end)
            self._thread = threading.Thread(
                target=self._run, args=(self._pipe[0],), name="eventyard-pg-listen", daemon=True
            )
            self._thread.start()

    def _unregister(self) -> None:
        with self._condition:
            self._waiters -= 1
            if self._waiters == 0:
                self._idle_since = time.monotonic()

    def _stop_in(self) -> float | None:
        """Seconds the thread may block before it must look again; None: it is to stop now.

        Stopping for lack of waiters clears ``_thread`` under the lock, so a
        waiter that registers at the same moment starts a new thread.
        """
        with self._condition:
            if self._closed:
                return None
            if self._waiters > 0:
                return LINGER_SECONDS
            remaining = self._idle_since + LINGER_SECONDS - time.monotonic()
            if remaining <= 0:
                self._thread = None
                return None
            return remaining

    def _run(self, stop_fd: int) -> None:
        delay = RETRY_FIRST_SECONDS
        conn: psycopg.Connection[Any] | None = None
        try:
            while (timeout := self._stop_in()) is not None:
                if conn is None:
                    try:
                        conn = self._listen()
                    except psycopg.Error as error:
                        _logger.debug("cannot listen on %s yet: %s", self.channel, error)
                        if _readable(stop_fd, min(delay, timeout)):
                            return
                        delay = min(delay * 2, RETRY_MAX_SECONDS)
                        continue
                    delay = RETRY_FIRST_SECONDS
                    self.notify()  # changes made while nobody listened: look again
                try:
                    self._receive(conn, stop_fd, timeout)
                except (psycopg.Error, OSError) as error:
                    _logger.info("lost the connection listening on %s: %s", self.channel, error)
                    _close_quietly(conn)
                    conn = None
                    if _readable(stop_fd, delay):
                        return
                    delay = min(delay * 2, RETRY_MAX_SECONDS)
        finally:
            if conn is not None:
                _close_quietly(conn)

    def _listen(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(self.conninfo, **_CONNECT_OPTIONS)
        try:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
        except BaseException:
            _close_quietly(conn)
            raise
        return conn

    def _receive(self, conn: psycopg.Connection[Any], stop_fd: int, timeout: float) -> None:
        """Block until notifications, a stop or the timeout; notify waiters of notifications."""
        with selectors.DefaultSelector() as selector:
            selector.register(conn.fileno(), selectors.EVENT_READ)
            selector.register(stop_fd, selectors.EVENT_READ)
            ready = {key.fd for key, _ in selector.select(timeout)}
        if stop_fd in ready:
            _drain(stop_fd)
        if conn.fileno() not in ready:
            return
        # timeout=0: read what arrived and return; raises if the server went away.
        if list(conn.notifies(timeout=0)):
            self.notify()


def _readable(fd: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``fd`` to become readable (the stop pipe: a close)."""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        return bool(selector.select(timeout))


def _drain(fd: int) -> None:
    with contextlib.suppress(BlockingIOError):
        while os.read(fd, 64):
            pass


def _close_quietly(conn: psycopg.Connection[Any]) -> None:
    with contextlib.suppress(Exception):
        conn.close()
