"""One worker process as the supervisor sees it: start, call with a deadline, kill, stop.

Requests and replies are JSON lines over the worker's stdin and stdout (see
`eventyard.runtime.worker`). A call that outlives its deadline kills the
process (a runaway handler cannot be interrupted any other way); a process
that dies mid-call is reported as such. The caller starts a new one.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from typing import Any, Final

from eventyard.errors import EventyardError

READY_TIMEOUT_SECONDS: Final = 60.0
REPLY_MAX_BYTES: Final = 16 * 1024 * 1024


class WorkerFailed(EventyardError):
    """The worker process timed out or died during a call."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


class WorkerProcess:
    """A handle on one worker process of one function."""

    def __init__(
        self, app_reference: str, function: str, database_url: str, durability: str = "full"
    ) -> None:
        self.app_reference = app_reference
        self.function = function
        self.database_url = database_url
        self.durability = durability
        self._process: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self._stdin_fd = -1
        self._stdout_fd = -1
        self._selector: selectors.BaseSelector | None = None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        env = dict(os.environ)
        env["EVENTYARD_DB"] = self.database_url
        env["EVENTYARD_DURABILITY"] = self.durability
        self._process = subprocess.Popen(
            [sys.executable, "-m", "eventyard.runtime.worker", self.app_reference, self.function],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            # Its own session: a Ctrl-C in the terminal reaches the supervisor, which
            # then lets running batches finish before it stops the workers.
            start_new_session=True,
        )
        self._buffer = b""
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._stdin_fd = self._process.stdin.fileno()
        self._stdout_fd = self._process.stdout.fileno()
        # One selector for the worker's life: a reply wait is on the hot path.
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._stdout_fd, selectors.EVENT_READ)
        reply = self._read_line(time.monotonic() + READY_TIMEOUT_SECONDS)
        if not reply.get("ready"):
            raise WorkerFailed("WorkerStartFailed", f"worker of {self.function!r} did not start")

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def call(self, request: dict[str, Any], timeout_seconds: float) -> dict[str, Any]:
        """Send one request and wait for its reply, at most ``timeout_seconds``."""
        self.send(request)
        return self.wait_reply(time.monotonic() + timeout_seconds)

    def send(self, request: dict[str, Any]) -> None:
        """Write one request without waiting (the reply is read by `wait_reply`)."""
        if self._stdin_fd < 0:
            raise WorkerFailed("WorkerCrashed", f"the worker of {self.function!r} is not running")
        data = json.dumps(request, separators=(",", ":")).encode("utf-8") + b"\n"
        try:
            view = memoryview(data)
            while view:
                written = os.write(self._stdin_fd, view)
                view = view[written:]
        except OSError:
            raise WorkerFailed("WorkerCrashed", self._death()) from None

    def wait_reply(self, deadline: float) -> dict[str, Any]:
        """Read one reply line; past ``deadline`` the worker is killed (a runaway handler)."""
        return self._read_line(deadline)

    def _read_line(self, deadline: float) -> dict[str, Any]:
        selector = self._selector
        if selector is None:
            raise WorkerFailed("WorkerCrashed", f"the worker of {self.function!r} is not running")
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise WorkerFailed("Timeout", f"function {self.function!r} ran past its timeout")
            if not selector.select(remaining):
                continue
            chunk = os.read(self._stdout_fd, 65536)
            if not chunk:
                raise WorkerFailed("WorkerCrashed", self._death())
            self._buffer += chunk
            if len(self._buffer) > REPLY_MAX_BYTES:
                self.kill()
                raise WorkerFailed("InvalidReply", "the worker's reply is too large")
        line, _, self._buffer = self._buffer.partition(b"\n")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def _death(self) -> str:
        process = self._process
        if process is None:
            return "the worker is not running"
        try:
            code = process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = process.returncode
        if code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
            return f"the worker of {self.function!r} was killed by {name}"
        return f"the worker of {self.function!r} exited with code {code}"

    def kill(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        self._close_pipes()

    def _close_pipes(self) -> None:
        if self._selector is not None:
            self._selector.close()
            self._selector = None
        process = self._process
        if process is not None:
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
        self._stdin_fd = self._stdout_fd = -1

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the worker to exit (stdin closed), then kill it if it does not."""
        process = self._process
        if process is None:
            return
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._close_pipes()
