"""Dead-letter queue redrive: move messages back, in the background, rate-limited.

`Client.start_redrive` records a move task in the store and starts a thread
of this process that moves the task's messages in batches (one transaction
each) until none are left, the task is cancelled (from any process: the
status lives in the store), or the client closes. Progress is in the store
too, so another process (the dashboard, the CLI) can watch it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING, Final

from eventyard.errors import EventyardError, StoreError
from eventyard.store.records import MoveTaskRecord

if TYPE_CHECKING:
    from eventyard.broker.client import Client

#: Messages moved per transaction when no rate limit asks for fewer.
MOVE_BATCH_SIZE: Final = 100
#: A running task whose process has not touched it for this long is taken over.
STALE_AFTER_MS: Final = 30_000

RedriveProgress = MoveTaskRecord


class RedriveTask:
    """A running (or finished) redrive of one dead-letter queue."""

    def __init__(self, client: Client, record: MoveTaskRecord) -> None:
        self._client = client
        self.task_id = record.task_id
        self.source_queue = record.source_queue
        self.destination_queue = record.destination_queue
        self._rate = record.max_messages_per_second
        self._wake = threading.Event()
        # Waiters wait on this, not on Thread.join: on Python 3.11 a Ctrl-C that interrupts a
        # join can leave the thread looking stopped while it still runs.
        self._finished = threading.Event()
        self._thread = threading.Thread(
            target=self._run_then_finish,
            name=f"eventyard-redrive-{record.source_queue}",
            daemon=False,
        )

    def start(self) -> RedriveTask:
        self._thread.start()
        return self

    def progress(self) -> RedriveProgress:
        """Status and counts: ``to_move``, ``moved``, ``skipped``, ``status``."""
        return self._client.store.get_move_task(self.task_id)

    def wait(self, timeout: float | None = None) -> RedriveProgress:
        """Block until the task finishes (or the timeout); returns the progress then."""
        self._finished.wait(timeout)
        return self.progress()

    def cancel(self) -> RedriveProgress:
        """Stop after the batch in progress; what was moved stays moved."""
        record = self.progress()
        if not record.finished:
            self._client.store.set_move_task_status(
                self.task_id, "CANCELLING", self._client.now_ms()
            )
        self._wake.set()
        return self.wait(timeout=30)

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._finished.is_set()

    def _run_then_finish(self) -> None:
        try:
            self._run()
        finally:
            self._finished.set()

    def _run(self) -> None:
        store = self._client.store
        batch = min(MOVE_BATCH_SIZE, self._rate) if self._rate else MOVE_BATCH_SIZE
        try:
            while True:
                started = time.monotonic()
                outcome = store.move_batch(self.task_id, batch, self._client.now_ms())
                if outcome.done:
                    return
                if self._rate:
                    # Rate limit: this batch may take batch/rate seconds in all.
                    pause = batch / self._rate - (time.monotonic() - started)
                    if pause > 0:
                        self._wake.wait(pause)
                if self._wake.is_set():
                    self._wake.clear()
        except (EventyardError, StoreError) as exc:
            with contextlib.suppress(EventyardError):
                store.set_move_task_status(
                    self.task_id, "FAILED", self._client.now_ms(), f"{type(exc).__name__}: {exc}"
                )
