"""`Replay`: a replay of archived events onto a bus, watched from any process.

`EventBus.start_replay` records it; a dispatcher carries it out (a lease per
replay, a cursor moved with each batch); this handle reads its progress,
waits for its end (woken by commits, not a timer) and cancels it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from eventyard.store.records import ReplayRecord

if TYPE_CHECKING:
    from eventyard.broker.client import Client


class Replay:
    """A replay of archived events onto a bus, carried out by a dispatcher."""

    def __init__(self, client: Client, name: str) -> None:
        self._client = client
        self.name = name

    def progress(self) -> ReplayRecord:
        """Status (STARTING, RUNNING, COMPLETED, CANCELLED, FAILED) and events replayed."""
        return self._client.store.get_replay(self.name)

    def wait(self, timeout: float | None = None) -> ReplayRecord:
        """Block until the replay ends (a dispatcher must be running somewhere)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._client.store.watch() as watch:
            while True:
                token = watch.token()
                record = self.progress()
                if record.status in ("COMPLETED", "CANCELLED", "FAILED"):
                    return record
                remaining = 5.0 if deadline is None else deadline - time.monotonic()
                if remaining <= 0:
                    return record
                watch.wait(token, min(remaining, 5.0))

    def cancel(self) -> ReplayRecord:
        record = self.progress()
        if record.status in ("STARTING", "RUNNING"):
            return self._client.store.set_replay_status(
                self.name, "CANCELLING", self._client.now_ms()
            )
        return record
