"""The demo's live figures: what the shop's tables and queues hold right now.

Read through a read-only SQLite connection (WAL readers never wait for the
workers) and the queues' own stats; drawn as one rich table.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from rich import box
from rich.console import Console
from rich.live import Live
from rich.table import Table

import eventyard

QUEUES: Final = ("InventoryQueue", "InventoryDLQ", "ShippingQueue", "ShippingDLQ")
HEADERS: Final = ("Inventory\nQueue", "Inventory\nDLQ", "Shipping\nQueue", "Shipping\nDLQ")
REFRESH_SECONDS: Final = 0.25


class DemoStalled(Exception):
    """A step did not reach its goal in time (the demo says which, and stops)."""


@dataclass(frozen=True)
class Snapshot:
    orders: int
    stock_taken: int
    labels: int
    review: int
    standard: int
    queues: dict[str, eventyard.QueueStats]
    failures: dict[str, int] = field(default_factory=dict)

    def depth(self, queue: str) -> int:
        return self.queues[queue].total


class Board:
    """Snapshots of the running shop, and a live view that waits for a goal."""

    def __init__(self, client: eventyard.Client, database_path: str, console: Console) -> None:
        self.client = client
        self.console = console
        self._db = sqlite3.connect(f"file:{database_path}?mode=ro", uri=True)

    def close(self) -> None:
        self._db.close()

    def snapshot(self) -> Snapshot:
        orders, taken, labels, review, standard = self._db.execute(
            "SELECT count(*), count(stock_taken_at), count(label_printed_at),"
            " coalesce(sum(lane = 'review'), 0), coalesce(sum(lane = 'standard'), 0) FROM orders"
        ).fetchone()
        failures = dict(
            self._db.execute(
                "SELECT function, count(*) FROM eventyard_failures GROUP BY function"
            ).fetchall()
        )
        queues = {name: self.client.get_queue(name).stats() for name in QUEUES}
        return Snapshot(orders, taken, labels, review, standard, queues, failures)

    def stock(self) -> dict[str, int]:
        return dict(self._db.execute("SELECT sku, quantity FROM stock ORDER BY sku").fetchall())

    def table(self, snapshot: Snapshot, caption: str = "") -> Table:
        table = Table(caption=caption or None, caption_justify="left", box=box.SIMPLE_HEAD)
        for column in ("orders", "stock\ntaken", "labels", *HEADERS):
            table.add_column(column, justify="right")
        table.add_row(
            str(snapshot.orders),
            str(snapshot.stock_taken),
            str(snapshot.labels),
            *(_depth(snapshot.queues[name]) for name in QUEUES),
        )
        return table

    def watch(
        self, goal: str, reached: Callable[[Snapshot], bool], timeout: float = 60
    ) -> Snapshot:
        """Show the figures live until ``reached(snapshot)``; DemoStalled after ``timeout`` s.

        On a terminal the table updates in place; elsewhere (a log, CI) only the
        final figures are printed.
        """
        deadline = time.monotonic() + timeout
        snapshot = self.snapshot()
        if not self.console.is_terminal:
            while not reached(snapshot):
                if time.monotonic() > deadline:
                    raise DemoStalled(f"waited {timeout:.0f} s for: {goal}")
                time.sleep(REFRESH_SECONDS)
                snapshot = self.snapshot()
            self.console.print(self.table(snapshot, f"{goal}: done"))
            return snapshot
        with Live(self.table(snapshot, goal), console=self.console, auto_refresh=False) as live:
            while not reached(snapshot):
                if time.monotonic() > deadline:
                    raise DemoStalled(f"waited {timeout:.0f} s for: {goal}")
                time.sleep(REFRESH_SECONDS)  # a display refresh, not a message wait
                snapshot = self.snapshot()
                live.update(self.table(snapshot, goal), refresh=True)
            live.update(self.table(snapshot, f"{goal}: done"), refresh=True)
        return snapshot


def _depth(stats: eventyard.QueueStats) -> str:
    """Messages waiting, and ``+n`` in flight (received, not yet deleted)."""
    waiting = stats.visible + stats.delayed
    return f"{waiting}+{stats.in_flight}" if stats.in_flight else str(waiting)
