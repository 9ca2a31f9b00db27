"""The chapter's event-driven notification system, on eventyard.

    POST /checkout ──> checkout: save the order + publish NewOrderEvent + put OrderPlaced
                       (one transaction: the outbox)
    NewOrderEvent ──> InventoryQueue ──> update_stock  (batches of 10, idempotent,
                  │                                    partial batch failures, InventoryDLQ)
                  └─> ShippingQueue  ──> print_labels  (PDF labels; OutOfPaper -> waits,
                                                        ShippingDLQ after 3 failures)
    OrderPlaced on the default bus ──> total > 1000  ──> review_order
                                   └─> total <= 1000 ──> standard_priority

Run it with ``eventyard run examples/checkout/app.py --db sqlite:///checkout.db``;
``eventyard demo`` runs it with a narrated scenario. Settings (environment):
``CHECKOUT_RETRY_SECONDS`` (default 30): the queues' visibility timeout, so how
long a failed message waits before its next try, and the functions' timeout;
``CHECKOUT_LABELS_DIR``: where labels go (default: ``labels/`` beside the database).
"""

from __future__ import annotations

import os
import re
import time
from typing import Any, Final

from starlette.requests import Request

import eventyard

from .labels import labels_folder, write_label
from .orders import (
    ORDER_ID,
    OrderRequest,
    create_tables,
    find_order,
    lock_stock,
    new_order_id,
    order_event,
    quantities_by_sku,
    save_order,
    stock_levels,
    take_stock_for,
    unknown_skus,
)
from .printer import OutOfPaper, add_printer_routes, read_printer

RETRY_SECONDS: Final = int(os.environ.get("CHECKOUT_RETRY_SECONDS", "30"))
MAX_RECEIVES: Final = 3
BIG_ORDER: Final = 1000
IDEMPOTENCY_KEY: Final = re.compile(r"^[\x21-\x7e]{1,255}$")

app = eventyard.App("checkout")
app.setup(create_tables)

new_order_event = app.topic("NewOrderEvent")
inventory_queue = app.queue(
    "InventoryQueue",
    visibility_timeout=RETRY_SECONDS,
    dead_letter_queue="InventoryDLQ",
    max_receive_count=MAX_RECEIVES,
)
shipping_queue = app.queue(
    "ShippingQueue",
    visibility_timeout=RETRY_SECONDS,
    dead_letter_queue="ShippingDLQ",
    max_receive_count=MAX_RECEIVES,
)
new_order_event.subscribe(inventory_queue, raw=True)
new_order_event.subscribe(shipping_queue, raw=True)


# -- the API (the API Gateway role) ---------------------------------------------------


def _place(attempt: dict[str, Any], tx: eventyard.Transaction) -> dict[str, str]:
    """Save the order and announce it, in the caller's transaction (the outbox)."""
    order = OrderRequest.model_validate(attempt["order"])
    order_id = new_order_id()
    save_order(tx, order_id, order)
    event = order_event(order_id, order)
    tx.publish(new_order_event.name, event)
    tx.put_events([{"source": "shop.checkout", "detail_type": "OrderPlaced", "detail": event}])
    return {"order_id": order_id, "status": "accepted"}


# A client retrying with the same Idempotency-Key gets the first answer back; the key
# record commits in the same transaction as the order.
_place_once = eventyard.idempotent(
    key="idempotency_key", namespace="checkout", expires_seconds=24 * 3600
)(_place)


@app.route("POST", "/checkout", max_body_bytes=64 * 1024)
def checkout(
    order: OrderRequest, request: Request, tx: eventyard.Transaction
) -> tuple[int, dict[str, str]]:
    """Accept an order: 201 with its id once it and its events are committed."""
    attempt: dict[str, Any] = {"order": order.model_dump(mode="json")}
    key = request.headers.get("idempotency-key")
    if key is None:
        return 201, _place(attempt, tx)
    if not IDEMPOTENCY_KEY.match(key):
        raise eventyard.InvalidParameterValue(
            "header Idempotency-Key must be 1 to 255 printable ASCII characters without "
            f"spaces, got {key[:40]!r}{'...' if len(key) > 40 else ''} ({len(key)} characters)"
        )
    return 201, _place_once({**attempt, "idempotency_key": key}, tx)


@app.route("GET", "/orders/{order_id}")
def get_order(order_id: str, tx: eventyard.Transaction) -> tuple[int, dict[str, Any]]:
    found = find_order(tx, order_id) if ORDER_ID.match(order_id) else None
    if found is None:
        return 404, {"error": "OrderNotFound", "message": f"no order {order_id[:40]!r}"}
    return 200, found


@app.route("GET", "/stock")
def get_stock(tx: eventyard.Transaction) -> dict[str, int]:
    return stock_levels(tx)


add_printer_routes(app)


@app.route("GET", "/")
def index() -> dict[str, Any]:
    return {
        "app": app.name,
        "routes": [f"{route.method} {route.path}" for route in app.routes],
    }


# -- inventory ------------------------------------------------------------------------


class UnknownSku(LookupError):
    """An order names a sku the shop does not stock: only that message fails."""


@eventyard.idempotent(key="order_id", namespace="inventory")
def take_stock(record: eventyard.Record, tx: eventyard.Transaction) -> int:
    """Decrement stock for one order, once: a redelivered order finds its record and stops."""
    order = record.body
    quantities = quantities_by_sku(order["items"])
    unknown = unknown_skus(tx, list(quantities))
    if unknown:  # before any write: the transaction keeps the other orders' changes
        raise UnknownSku(f"order {order['order_id']}: unknown sku {', '.join(unknown)}")
    take_stock_for(tx, order["order_id"], quantities)
    return len(quantities)


@app.consumer(
    inventory_queue, batch_size=10, batching_window_seconds=1, timeout_seconds=RETRY_SECONDS
)
def update_stock(
    batch: eventyard.Batch, context: eventyard.FunctionContext
) -> eventyard.BatchResponse:
    """Up to 10 orders per call, one transaction; an unknown sku fails only its own message."""
    failed = eventyard.BatchResponse()
    with context.transaction() as tx:
        lock_stock(tx, [record.body for record in batch])  # in one order: no deadlock
        for record in batch:
            try:
                take_stock(record, tx)
            except (UnknownSku, eventyard.IdempotencyKeyConflict) as exc:
                failed.fail(record, exc)  # only this one is retried; the reason is kept
    return failed


# -- shipping -------------------------------------------------------------------------


@app.consumer(shipping_queue, batch_size=10, max_concurrency=1, timeout_seconds=RETRY_SECONDS)
def print_labels(
    batch: eventyard.Batch, context: eventyard.FunctionContext
) -> eventyard.BatchResponse:
    """One PDF label per order; without paper the whole batch fails and waits in the queue."""
    with context.transaction() as tx:
        printer = read_printer(tx)
        ids = [record.body["order_id"] for record in batch]
        printed = {
            order_id
            for (order_id,) in tx.execute(
                "SELECT order_id FROM orders WHERE label_printed_at IS NOT NULL"
                f" AND order_id IN ({','.join('?' * len(ids))})",
                ids,
            )
        }
    if not printer.paper:
        raise OutOfPaper("the label printer is out of paper")
    folder = labels_folder(context.client.url)
    done: list[tuple[str, float, str]] = []
    failed = eventyard.BatchResponse()
    for record in batch:
        order = record.body
        if order["order_id"] in printed:
            continue  # a duplicate delivery: its label exists, print nothing
        try:
            path = write_label(folder, order)
        except OSError as exc:
            failed.fail(record, exc)
            continue
        time.sleep(printer.print_ms / 1000)  # the printer's own pace
        printed.add(order["order_id"])
        done.append((path, time.time(), order["order_id"]))
    if done:
        with context.transaction() as tx:
            tx.executemany(
                "UPDATE orders SET label_path = ?, label_printed_at = ? WHERE order_id = ?", done
            )
    return failed


# -- routing by content (EventBridge rules) ---------------------------------------------

ORDER_PLACED: Final = {"source": ["shop.checkout"], "detail-type": ["OrderPlaced"]}


def _route(event: dict[str, Any], context: eventyard.FunctionContext, lane: str) -> None:
    detail = event["detail"]
    with context.transaction() as tx:
        tx.execute(
            "UPDATE orders SET lane = ?, routed_at = COALESCE(routed_at, ?) WHERE order_id = ?",
            (lane, time.time(), detail["order_id"]),
        )
        if lane == "review":
            tx.execute(
                "INSERT INTO reviews VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (detail["order_id"], round(detail["total"] * 100), time.time()),
            )


@app.on_event(
    rule="orders-over-1000",
    pattern={**ORDER_PLACED, "detail": {"total": [{"numeric": [">", BIG_ORDER]}]}},
)
def review_order(event: dict[str, Any], context: eventyard.FunctionContext) -> None:
    """Orders over $1000 wait for a human: recorded for manual review."""
    _route(event, context, "review")


@app.on_event(
    rule="orders-up-to-1000",
    pattern={**ORDER_PLACED, "detail": {"total": [{"numeric": ["<=", BIG_ORDER]}]}},
)
def standard_priority(event: dict[str, Any], context: eventyard.FunctionContext) -> None:
    """Every other order takes the standard lane."""
    _route(event, context, "standard")
