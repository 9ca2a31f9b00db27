"""The chapter's story, told against the running checkout example over its HTTP API.

Each step does what a customer, an operator or a flaky network would do, then
watches the figures until the system has answered: 50 orders; the printer runs
out of paper; a poison order; paper back, backlog drained, the DLQ redriven;
a duplicate delivery ignored; a big order routed to review.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

import httpx
from rich.console import Console
from rich.table import Table

import eventyard
from eventyard.demo.board import Board, Snapshot
from eventyard.demo.samples import PRICES, order

EVERYDAY_SKUS: Final = [sku for sku in PRICES if sku != "DESK-01"]
POISON_SKU: Final = "GHOST-404"
CONCURRENT_CLIENTS: Final = 8


class Shop:
    """The demo's customers: orders placed over HTTP, with their ids and latencies."""

    def __init__(self, api: str, console: Console) -> None:
        self.api = api
        self.console = console
        self.http = httpx.Client(base_url=api, timeout=30)
        self.placed: dict[str, dict[str, Any]] = {}  # order id -> what was posted
        self.latencies_ms: list[float] = []
        self._random = random.Random(8)
        self._next = 1

    def close(self) -> None:
        self.http.close()

    def everyday_order(self) -> dict[str, Any]:
        number, self._next = self._next, self._next + 1
        skus = self._random.sample(EVERYDAY_SKUS, self._random.randint(1, 3))
        return order(number, [{"sku": s, "quantity": self._random.randint(1, 3)} for s in skus])

    def special_order(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        number, self._next = self._next, self._next + 1
        return order(number, items)

    def place(self, orders: list[dict[str, Any]]) -> list[str]:
        """POST /checkout for each order, from concurrent clients; returns the order ids."""

        def post(order: dict[str, Any]) -> tuple[str, float]:
            started = time.perf_counter()
            response = self.http.post("/checkout", json=order)
            elapsed = (time.perf_counter() - started) * 1000
            response.raise_for_status()
            return str(response.json()["order_id"]), elapsed

        with ThreadPoolExecutor(CONCURRENT_CLIENTS) as pool:
            results = list(pool.map(post, orders))
        for posted, (order_id, elapsed) in zip(orders, results, strict=True):
            self.placed[order_id] = posted
            self.latencies_ms.append(elapsed)
        return [order_id for order_id, _ in results]

    def latency(self, last: int) -> str:
        recent = sorted(self.latencies_ms[-last:])
        p99 = recent[min(len(recent) - 1, round(0.99 * (len(recent) - 1)))]
        return f"p50 {statistics.median(recent):.1f} ms, p99 {p99:.1f} ms"

    def order(self, order_id: str) -> dict[str, Any]:
        response = self.http.get(f"/orders/{order_id}")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def printer(self, **change: Any) -> None:
        self.http.post("/printer", json=change).raise_for_status()


class Story:
    """The scenario's steps, in order; each narrates, acts, then watches the figures."""

    def __init__(
        self,
        client: eventyard.Client,
        shop: Shop,
        board: Board,
        console: Console,
        order_event: Callable[[str, dict[str, Any]], dict[str, Any]],
        *,
        dashboard: str | None = None,
    ) -> None:
        self.client = client
        self.shop = shop
        self.board = board
        self.say = console.print
        self._order_event = order_event
        #: The dashboard's base URL (``…/admin``), to point the viewer at the DLQ pages.
        self.dashboard = dashboard
        self.poison_id = ""

    def run(self) -> None:
        for number, step in enumerate(
            (
                self.orders_flow,
                self.printer_out_of_paper,
                self.paper_back,
                self.duplicate_delivery,
                self.big_order,
            ),
            start=1,
        ):
            self.say(f"\n[bold]{number}.[/bold] ", end="")
            step()

    def orders_flow(self) -> None:
        self.say(
            "[bold]50 orders flow through.[/bold] Each POST /checkout saves the order, publishes "
            "it to the NewOrderEvent topic and puts OrderPlaced on the bus, in one transaction. "
            "The topic copies it into InventoryQueue and ShippingQueue; update_stock takes "
            "batches of up to 10, print_labels writes one PDF per order."
        )
        self.shop.place([self.shop.everyday_order() for _ in range(50)])
        self.say(f"  checkout answered in {self.shop.latency(50)}")
        self.board.watch(
            "stock taken and labels printed for all 50",
            lambda s: s.stock_taken == 50 and s.labels == 50,
        )

    def printer_out_of_paper(self) -> None:
        self.shop.printer(paper=False)
        self.say(
            "[bold]The label printer runs out of paper.[/bold] print_labels now fails with "
            "OutOfPaper: its messages stay in ShippingQueue and come back after the visibility "
            "timeout, while checkout and update_stock carry on. A poison order for an unknown "
            f"sku ({POISON_SKU}) arrives too."
        )
        first = self.shop.place([self.shop.everyday_order() for _ in range(10)])
        (self.poison_id,) = self.shop.place(
            [self.shop.special_order([{"sku": POISON_SKU, "quantity": 1}])]
        )
        self.say(f"  checkout still answers in {self.shop.latency(11)}")
        self.board.watch(
            "the first orders fail three times and land in ShippingDLQ",
            lambda s: s.depth("ShippingDLQ") >= len(first) and s.depth("InventoryDLQ") == 1,
            timeout=90,
        )
        later = self.shop.place([self.shop.everyday_order() for _ in range(10)])
        snapshot = self.board.watch(
            "inventory keeps up while ShippingQueue holds the new orders",
            lambda s: s.stock_taken == s.orders - 1 and s.depth("ShippingQueue") >= len(later),
        )
        self._show_dead_letter("ShippingDLQ")
        self._show_dead_letter("InventoryDLQ")
        self.say(
            f"  stock is up to date for {snapshot.stock_taken} of {snapshot.orders} orders (all "
            f"but the poison one); {snapshot.labels} labels printed; the poison order "
            f"{self.poison_id} waits in InventoryDLQ for a human."
        )
        if self.dashboard is not None:
            self.say(
                f"  see them on the dashboard: {self.dashboard}/queues/ShippingDLQ and "
                f"{self.dashboard}/queues/InventoryDLQ (each message with its failure "
                "history and traceback; Redrive and Delete buttons)",
                soft_wrap=True,
                highlight=False,
            )

    def _show_dead_letter(self, queue: str) -> None:
        dead = self.client.get_queue(queue).receive(max_messages=1, visibility_timeout=0)
        if not dead:
            return
        failures = self.client.message_failures(dead[0].message_id)
        if failures:
            last = failures[-1]
            self.say(
                f"  {queue}: order {dead[0].body['order_id']} failed {len(failures)} times in "
                f"{last.function}, last with [red]{last.error_type}[/red]: {last.error_message}"
            )

    def paper_back(self) -> None:
        self.shop.printer(paper=True)
        self.say(
            "[bold]Paper is back.[/bold] The backlog in ShippingQueue drains; then the operator "
            "redrives ShippingDLQ, and those orders go back to ShippingQueue to be printed."
        )
        self.board.watch("ShippingQueue drained", lambda s: s.depth("ShippingQueue") == 0)
        task = self.client.start_redrive("ShippingDLQ")
        task.wait()
        progress = task.progress()
        self.say(f"  redrive of ShippingDLQ: {progress.moved} messages moved back")
        self.board.watch(
            "every order has its label",
            lambda s: s.labels == s.orders and s.depth("ShippingQueue") == 0,
        )

    def duplicate_delivery(self) -> None:
        order_id = next(iter(self.shop.placed))
        before = self.shop.order(order_id)
        self.say(
            "[bold]A duplicate delivery.[/bold] Queues deliver at least once, so the same "
            f"NewOrderEvent for {order_id} arrives again in both queues. update_stock's "
            "@idempotent record and print_labels' check of the label both say: done already."
        )
        stock_before = self.board.stock()
        self.client.get_topic("NewOrderEvent").publish(
            self._order_event(order_id, self.shop.placed[order_id])
        )
        self.board.watch(
            "the duplicate is consumed",
            lambda s: s.depth("InventoryQueue") == 0 and s.depth("ShippingQueue") == 0,
        )
        after = self.shop.order(order_id)
        unchanged = self.board.stock() == stock_before and after["label"] == before["label"]
        self.say(
            f"  stock {'unchanged' if unchanged else '[red]CHANGED[/red]'}, label printed once "
            f"(at {time.strftime('%H:%M:%S', time.localtime(after['label']['printed_at']))})"
        )

    def big_order(self) -> None:
        self.say(
            "[bold]A big order.[/bold] The bus rule orders-over-1000 sends OrderPlaced events "
            "with a total over $1000 to review_order; orders-up-to-1000 sends the rest to "
            "standard_priority."
        )
        (order_id,) = self.shop.place(
            [self.shop.special_order([{"sku": "DESK-01", "quantity": 3}])]
        )
        self.board.watch(
            "the big order is routed, stocked and labelled",
            lambda s: (
                s.review >= 1
                and s.stock_taken == s.orders - 1
                and s.labels == s.orders
                and s.depth("InventoryQueue") == 0
            ),
        )
        order = self.shop.order(order_id)
        self.say(
            f"  {order_id} (${order['total']:,.2f}) is in the [bold]{order['lane']}[/bold] lane"
        )

    def summary(self, invocations: dict[str, dict[str, int]]) -> Table:
        snapshot: Snapshot = self.board.snapshot()
        table = Table(title="summary", show_header=False)
        table.add_column("figure")
        table.add_column("value", justify="right")
        rows = [
            ("orders accepted", snapshot.orders),
            ("stock updated for", f"{snapshot.stock_taken} orders"),
            ("labels written", snapshot.labels),
            ("routed to review / standard", f"{snapshot.review} / {snapshot.standard}"),
            *((f"{name} depth", snapshot.depth(name)) for name in snapshot.queues),
            *(
                (f"{name} invocations", figures["invocations"])
                for name, figures in invocations.items()
            ),
            *((f"{name} failed tries", count) for name, count in snapshot.failures.items()),
            ("checkout latency", self.shop.latency(len(self.shop.latencies_ms))),
        ]
        for name, value in rows:
            table.add_row(name, str(value))
        stock = self.board.stock()
        table.add_row("stock left", ", ".join(f"{sku} {n}" for sku, n in stock.items()))
        return table
