"""`eventyard demo`: a narrated run of a queue's whole life on a fresh SQLite file.

Send a batch, receive it in a batch, fail on a poison message, see it come
back after its visibility timeout, see it parked in the dead-letter queue
after three receives, fix the consumer, redrive, drain. Later versions grow
this into the chapter's checkout system.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

import eventyard

VISIBILITY_TIMEOUT_SECONDS = 2
MAX_RECEIVE_COUNT = 3


class OutOfStock(Exception):
    """The demo consumer's bug: it cannot handle an order without a sku."""


def _process(order: dict[str, Any], fixed: bool) -> str:
    if "sku" not in order and not fixed:
        raise OutOfStock(f"order {order['order_id']} has no sku")
    return f"order {order['order_id']}: {order.get('sku', 'manual review')} x{order['quantity']}"


def _stats_table(client: eventyard.Client, names: list[str]) -> Table:
    table = Table(title="queues", show_lines=False)
    for column in ("queue", "visible", "in flight", "delayed", "oldest age"):
        table.add_column(column, justify="right" if column != "queue" else "left")
    for name in names:
        stats = client.get_queue(name).stats()
        age = "-" if stats.oldest_age_seconds is None else f"{stats.oldest_age_seconds:.1f} s"
        table.add_row(name, str(stats.visible), str(stats.in_flight), str(stats.delayed), age)
    return table


def run_demo(database: str | None = None, console: Console | None = None) -> int:
    """Run the narrated demo; returns the process exit code."""
    out = console or Console()
    if database is None:
        database = os.path.join(tempfile.mkdtemp(prefix="eventyard-demo-"), "eventyard.db")
    say: Callable[..., None] = out.print
    say(f"[bold]eventyard demo[/bold]: a queue's life on [cyan]{database}[/cyan]\n")
    with eventyard.connect(f"sqlite:///{database}") as client:
        say(
            "[bold]1.[/bold] Create [cyan]orders-dlq[/cyan], then [cyan]orders[/cyan] with a "
            f"{VISIBILITY_TIMEOUT_SECONDS} s visibility timeout and a dead-letter queue after "
            f"{MAX_RECEIVE_COUNT} receives."
        )
        client.create_queue("orders-dlq")
        orders = client.create_queue(
            "orders",
            visibility_timeout=VISIBILITY_TIMEOUT_SECONDS,
            dead_letter_queue="orders-dlq",
            max_receive_count=MAX_RECEIVE_COUNT,
        )
        batch = [
            {"order_id": 1, "sku": "book-42", "quantity": 1},
            {"order_id": 2, "sku": "mug-7", "quantity": 2},
            {"order_id": 3, "quantity": 1},  # the poison pill: no sku
            {"order_id": 4, "sku": "pen-1", "quantity": 10},
            {"order_id": 5, "sku": "lamp-3", "quantity": 1},
        ]
        results = orders.send_batch(batch)
        say(
            f"\n[bold]2.[/bold] Send {len(results.successful)} orders in one batch (one "
            "transaction, fsync'd before send_batch returns). Order 3 has no sku: a poison pill."
        )

        say(
            "\n[bold]3.[/bold] The consumer receives up to 10 at once (long poll) and handles "
            "them; order 3 fails, so it is not deleted."
        )
        attempt = 0
        poison_id: str | None = None
        while True:
            messages = orders.receive(max_messages=10, wait_seconds=VISIBILITY_TIMEOUT_SECONDS + 3)
            if not messages:
                break
            attempt += 1
            done = []
            for message in messages:
                try:
                    say(f"   [green]ok[/green]   {_process(message.body, fixed=False)}")
                    done.append(message)
                except OutOfStock as exc:
                    poison_id = message.message_id
                    say(
                        f"   [red]fail[/red] receive #{message.receive_count} of "
                        f"order {message.body['order_id']}: {exc}"
                    )
            if done:
                orders.delete_batch(done)
            if attempt == 1:
                say(_stats_table(client, ["orders", "orders-dlq"]))
                say(
                    f"   Order 3 is in flight; after {VISIBILITY_TIMEOUT_SECONDS} s it is "
                    "visible again and comes back (redelivery)."
                )
        say(
            f"\n[bold]4.[/bold] On the receive that would have been #{MAX_RECEIVE_COUNT + 1}, "
            "order 3 moved to the dead-letter queue instead: no infinite poison loop."
        )
        say(_stats_table(client, ["orders", "orders-dlq"]))

        dlq = client.get_queue("orders-dlq")
        say("\n[bold]5.[/bold] Monday morning, an engineer looks at the dead-letter queue:")
        for message in dlq.receive(max_messages=10):
            say(
                f"   message {message.message_id}: body {message.body}, from "
                f"{message.system_attributes.get('DeadLetterQueueSourceArn')}; receive count "
                f"{message.receive_count} ({MAX_RECEIVE_COUNT} failed receives in orders, and "
                "this look)"
            )
            dlq.change_visibility(message, 0)  # only looking: leave it in the DLQ
        assert poison_id is not None

        say(
            "\n[bold]6.[/bold] The bug is fixed (orders without a sku go to manual review). "
            "Redrive the dead-letter queue back to its source:"
        )
        task = client.start_redrive("orders-dlq")
        progress = task.wait(timeout=30)
        say(
            f"   redrive {progress.status.lower()}: {progress.moved} of {progress.to_move} "
            "moved, receive count restarted"
        )
        for message in orders.receive(max_messages=10, wait_seconds=5):
            say(
                f"   [green]ok[/green]   receive #{message.receive_count}: "
                f"{_process(message.body, fixed=True)}"
            )
            orders.delete(message)
        say(_stats_table(client, ["orders", "orders-dlq"]))
        say(
            "\nEvery order was handled exactly once in the end; none was lost. "
            f"The database stays at [cyan]{database}[/cyan]."
        )
    return 0
