"""Wake long-polling receivers when the database changes, without sleep-polling.

Two sources of change reach one `ChangeSignal` per store:

* this process commits: the store calls `ChangeSignal.announce` right after
  the commit, which wakes this process's waiters at once (no system call)
  and writes one byte to a sidecar file, ``<database>-wake``;
* another process commits: its write to the sidecar file reaches Linux's
  inotify, and a watcher thread here notifies our waiters.

The sidecar is written *after* the commit returns, so a woken waiter always
sees the new data. (Watching the ``-wal`` file instead would wake waiters
while the commit is still being written, before it is visible, and they
would go back to sleep past it.) Only eventyard's own commits announce
themselves; that is all that adds messages.

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
import os
import select
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

_IN_MODIFY: Final = 0x00000002
_IN_NONBLOCK: Final = 0o4000
_IN_CLOEXEC: Final = 0o2000000
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

    def add_watch(self, path: str) -> int:
        wd: int = self._add(self.fd, os.fsencode(path), _IN_MODIFY)
        if wd < 0:
            raise OSError(ctypes.get_errno(), f"inotify_add_watch({path}) failed")
        return wd

    def remove_watch(self, wd: int) -> None:
        self._rm(self.fd, wd)

    def drain(self) -> None:
        """Read and drop the pending events (a watch on one file: any event means a change)."""
        while True:
            try:
                if not os.read(self.fd, 65536):
                    return
            except BlockingIOError:
                return
            except InterruptedError:
                continue

    def close(self) -> None:
        os.close(self.fd)


class ChangeSignal:
    """A generation counter that goes up on every change to one database file."""

    def __init__(self, database_path: str) -> None:
        self._path = os.path.abspath(database_path)
        self.wake_path = self._path + "-wake"
        self._wake_fd: int | None = None
        self._wake_pid = -1
        self._closed = False
        self._reset()

    def _reset(self) -> None:
        """Fresh per-process state (also in a forked child: threads do not survive a fork)."""
        self._pid = os.getpid()
        self._condition = threading.Condition()
        self._generation = 0
        self._waiters = 0
        self._inotify: _Inotify | None = None
        self._watch_descriptor: int | None = None
        self._thread: threading.Thread | None = None
        self._stop_read, self._stop_write = -1, -1
        self._cross_process = sys.platform.startswith("linux")

    @property
    def cross_process_notifications(self) -> bool:
        """True when other processes' commits wake waiters at once (inotify works)."""
        return self._cross_process

    def notify(self) -> None:
        """Wake this process's waiters."""
        with self._condition:
            self._generation += 1
            self._condition.notify_all()

    def announce(self) -> None:
        """Called after this process committed: wake waiters here and in other processes."""
        self.notify()
        if self._wake_pid != os.getpid():
            # Opened lazily, and again in a forked child (one write per commit, no fsync).
            self._wake_fd = os.open(self.wake_path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
            self._wake_pid = os.getpid()
        assert self._wake_fd is not None
        os.pwrite(self._wake_fd, b"\0", 0)

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
        if self._pid != os.getpid():
            self._reset()
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
        # Watch the sidecar itself (created if need be), not the busy directory around it.
        os.close(os.open(self.wake_path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644))
        self._watch_descriptor = self._inotify.add_watch(self.wake_path)

    def _watch_loop(self) -> None:
        inotify = self._inotify
        assert inotify is not None
        while True:
            readable, _, _ = select.select([inotify.fd, self._stop_read], [], [])
            if self._stop_read in readable:
                return
            inotify.drain()
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
        if self._wake_fd is not None and self._wake_pid == os.getpid():
            os.close(self._wake_fd)
            self._wake_fd = None
