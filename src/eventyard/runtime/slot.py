"""A unit of a function's concurrency: one worker process, replaced when it fails.

A worker that crashes or runs past its timeout is replaced before the next
call, after a back-off that grows with consecutive failures (0.1 s doubling
to 10 s) and resets on a success, so a function crashing in a loop costs
little and never takes the supervisor down.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Final

from eventyard.runtime.process import WorkerFailed, WorkerProcess

BACKOFF_FIRST_SECONDS: Final = 0.1
BACKOFF_MAX_SECONDS: Final = 10.0


class WorkerSlot:
    def __init__(
        self,
        app_reference: str,
        function: str,
        database_url: str,
        stop: threading.Event,
        durability: str = "full",
    ) -> None:
        self._durability = durability
        self._app_reference = app_reference
        self._function = function
        self._database_url = database_url
        self._stop = stop
        self._worker: WorkerProcess | None = None
        self._failures = 0
        self.restarts = 0

    def _ensure(self) -> WorkerProcess:
        worker = self._worker
        if worker is not None and worker.alive():
            return worker
        if worker is not None:
            worker.kill()
            self.restarts += 1
        if self._failures:
            delay = min(BACKOFF_FIRST_SECONDS * 2 ** (self._failures - 1), BACKOFF_MAX_SECONDS)
            self._stop.wait(delay)
        worker = WorkerProcess(
            self._app_reference, self._function, self._database_url, self._durability
        )
        try:
            worker.start()
        except WorkerFailed:
            self._failures += 1
            worker.kill()
            raise
        self._worker = worker
        return worker

    def call(self, request: dict[str, Any], timeout_seconds: float) -> dict[str, Any]:
        """One call; a worker that failed is killed, and replaced at the next call."""
        self.send(request)
        return self.wait_reply(time.monotonic() + timeout_seconds)

    def send(self, request: dict[str, Any]) -> None:
        """Hand a request to the worker (started first if need be) without waiting."""
        worker = self._ensure()
        try:
            worker.send(request)
        except WorkerFailed:
            self._failures += 1
            worker.kill()
            raise

    def wait_reply(self, deadline: float) -> dict[str, Any]:
        """The reply to the request sent last; the worker is killed past ``deadline``."""
        worker = self._worker
        if worker is None:
            raise WorkerFailed("WorkerCrashed", f"no worker of {self._function!r} is running")
        try:
            reply = worker.wait_reply(deadline)
        except WorkerFailed:
            self._failures += 1
            worker.kill()
            raise
        self._failures = 0  # even a handler error: the worker itself is fine
        return reply

    def start(self) -> None:
        """Start the worker now (instead of at the first call)."""
        self._ensure()

    def close(self) -> None:
        if self._worker is not None:
            self._worker.stop()
            self._worker = None
