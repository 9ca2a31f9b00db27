"""Wake long-polling receivers when the database changes, without sleep-polling.

Two sources of change reach one `ChangeSignal` per store:

* this process commits: the store calls `ChangeSignal.notify` right after
  the commit (no system call, no delay);
* another process commits: SQLite appends to the ``-wal`` file (or writes the
  database file), and Linux's inotify tells a watcher thread, which notifies.

Waiters take a token (a generation number) *before* they look at the queue,
and wait until the generation moves past it: a change between the look and
the wait is never missed. The inotify watch exists only while someone waits,
so a busy producer costs an idle consumer nothing.

Where inotify is missing (macOS, BSD), a waiter looks again every 25 ms for
other processes' changes; same-process wake-ups stay immediate.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import select
import struct
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

_IN_MODIFY: Final = 0x00000002
_IN_CLOSE_WRITE: Final = 0x00000008
_IN_MOVED_TO: Final = 0x00000080
_IN_CREATE: Final = 0x00000100
_IN_NONBLOCK: Final = 0o4000
_IN_CLOEXEC: Final = 0o2000000
_EVENT_HEADER: Final = struct.Struct("iIII")
_FALLBACK_WAIT_SECONDS: Final = 0.025


class _Inotify:
    """The three inotify calls, through ctypes (Linux only)."""

    def __init__(self) -> None:
        libc_name = ctypes.util.find_library("c") or "libc.so.6"
        libc = ctypes.CDLL(libc_name, use_errno=True)
        self._add = libc.inotify_add_watch
        self._add.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        self._rm = libc.inotify_rm_watch
        self._rm.argtypes = [ctypes.c_int, ctypes.c_int]
        fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self.fd: int = fd

    def add_watch(self, directory: str) -> int:
        wd: int = self._add(
            self.fd,
            os.fsencode(directory),
            _IN_MODIFY | _IN_CREATE | _IN_MOVED_TO | _IN_CLOSE_WRITE,
        )
        if wd < 0:
            raise OSError(ctypes.get_errno(), f"inotify_add_watch({directory}) failed")
        return wd

    def remove_watch(self, wd: int) -> None:
        self._rm(self.fd, wd)

    def read_names(self) -> list[bytes]:
        """Drain pending events; return the file names they concern."""
        names: list[bytes] = []
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return names
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                raise
            offset = 0
            while offset + _EVENT_HEADER.size <= len(data):
                _wd, _mask, _cookie, length = _EVENT_HEADER.unpack_from(data, offset)
                offset += _EVENT_HEADER.size
                names.append(data[offset : offset + length].rstrip(b"\0"))
                offset += length

    def close(self) -> None:
        os.close(self.fd)


class ChangeSignal:
    """A generation counter that goes up on every change to one database file."""

    def __init__(self, database_path: str) -> None:
        self._path = os.path.abspath(database_path)
        self._directory = os.path.dirname(self._path)
        base = os.fsencode(os.path.basename(self._path))
        self._names = frozenset({base, base + b"-wal"})
        self._condition = threading.Condition()
        self._generation = 0
        self._waiters = 0
        self._inotify: _Inotify | None = None
        self._watch_descriptor: int | None = None
        self._thread: threading.Thread | None = None
        self._stop_read, self._stop_write = -1, -1
        self._cross_process = sys.platform.startswith("linux")
        self._closed = False

    @property
    def cross_process_notifications(self) -> bool:
        """True when other processes' commits wake waiters at once (inotify works)."""
        return self._cross_process

    def notify(self) -> None:
        """Called after this process commits a change."""
        with self._condition:
            self._generation += 1
            self._condition.notify_all()

    def token(self) -> int:
        return self._generation

    @contextmanager
    def watch(self) -> Iterator[ChangeSignal]:
        """Register as a waiter; cross-process watching is on while anyone is registered."""
        self._register()
        try:
            yield self
        finally:
            self._unregister()

    def wait(self, token: int, timeout_seconds: float) -> bool:
        """Wait until the generation passes ``token`` or the timeout; True if it changed."""
        if timeout_seconds <= 0:
            return self._generation != token
        with self._condition:
            if self._cross_process:
                return self._condition.wait_for(lambda: self._generation != token, timeout_seconds)
            # Fallback without inotify: another process's commit is only seen when the
            # caller looks again, so wake up at least every 25 ms to let it look.
            self._condition.wait_for(
                lambda: self._generation != token, min(timeout_seconds, _FALLBACK_WAIT_SECONDS)
            )
            return True

    def _register(self) -> None:
        with self._condition:
            self._waiters += 1
            if self._waiters > 1 or not self._cross_process:
                return
            try:
                self._start_watching()
            except OSError:
                self._cross_process = False  # e.g. inotify limits reached: fall back

    def _unregister(self) -> None:
        with self._condition:
            self._waiters -= 1
            if self._waiters == 0 and self._inotify is not None and self._watch_descriptor:
                self._inotify.remove_watch(self._watch_descriptor)
                self._watch_descriptor = None

    def _start_watching(self) -> None:
        if self._inotify is None:
            self._inotify = _Inotify()
            self._stop_read, self._stop_write = os.pipe()
            self._thread = threading.Thread(
                target=self._watch_loop, name="eventyard-sqlite-watch", daemon=True
            )
            self._thread.start()
        self._watch_descriptor = self._inotify.add_watch(self._directory)

    def _watch_loop(self) -> None:
        inotify = self._inotify
        assert inotify is not None
        while True:
            readable, _, _ = select.select([inotify.fd, self._stop_read], [], [])
            if self._stop_read in readable:
                return
            names = inotify.read_names()
            if any(name in self._names for name in names):
                self.notify()

    def close(self) -> None:
        with self._condition:
            if self._closed:
                return
            self._closed = True
            if self._thread is not None:
                os.write(self._stop_write, b"x")
        if self._thread is not None:
            self._thread.join(timeout=5)
            os.close(self._stop_read)
            os.close(self._stop_write)
        if self._inotify is not None:
            self._inotify.close()
