"""The shop's own data: what a customer may order, and the tables beside eventyard's.

The orders, the stock and the printer switch live in the same SQLite file as
eventyard's queues, so saving an order and publishing its event commit
together (the transactional outbox). Every table is created by `create_tables`,
which the app runs at each start (``@app.setup``); it is idempotent.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from decimal import Decimal
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

import eventyard

#: The catalog and its starting stock (seeded once; a restart never resets stock).
CATALOG: Final = {
    "BOOK-001": 500,
    "BOOK-002": 500,
    "MUG-RED": 300,
    "MUG-BLUE": 300,
    "TEE-M": 200,
    "TEE-L": 200,
    "LAMP-01": 100,
    "DESK-01": 50,
}

MAX_ITEMS: Final = 50
MAX_QUANTITY: Final = 1000
MAX_TOTAL: Final = Decimal("1000000")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Sku = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{0,31}$")]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]{1,64}@[^@\s]{1,185}\.[^@\s]+$")]


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: Sku
    quantity: Annotated[int, Field(strict=True, ge=1, le=MAX_QUANTITY)]


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Text
    line1: Text
    line2: Annotated[str, StringConstraints(max_length=200)] = ""
    city: Text
    postal_code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 -]{2,12}$")]
    country: Country


class OrderRequest(BaseModel):
    """What ``POST /checkout`` accepts; anything else is a 422 naming the field."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    customer: Email
    items: Annotated[list[Item], Field(min_length=1, max_length=MAX_ITEMS)]
    shipping_address: Address
    total: Annotated[Decimal, Field(ge=0, le=MAX_TOTAL, decimal_places=2, allow_inf_nan=False)]


def new_order_id() -> str:
    return "ord_" + uuid.uuid4().hex[:16]


ORDER_ID: Final = re.compile(r"^ord_[0-9a-f]{16}$")


def order_event(order_id: str, request: OrderRequest) -> dict[str, Any]:
    """The order as every consumer sees it: the body of NewOrderEvent and OrderPlaced."""
    return {
        "order_id": order_id,
        "customer": request.customer,
        "items": [item.model_dump() for item in request.items],
        "shipping_address": request.shipping_address.model_dump(),
        "total": float(request.total),
    }


# -- tables --------------------------------------------------------------------------

SCHEMA: Final = (
    """CREATE TABLE IF NOT EXISTS orders (
        order_id TEXT PRIMARY KEY,
        customer TEXT NOT NULL,
        items TEXT NOT NULL,
        shipping_address TEXT NOT NULL,
        total_cents INTEGER NOT NULL,
        placed_at DOUBLE PRECISION NOT NULL,
        stock_taken_at DOUBLE PRECISION,
        label_path TEXT,
        label_printed_at DOUBLE PRECISION,
        lane TEXT,
        routed_at DOUBLE PRECISION
    )""",
    "CREATE TABLE IF NOT EXISTS stock (sku TEXT PRIMARY KEY, quantity INTEGER NOT NULL)",
    """CREATE TABLE IF NOT EXISTS printer (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        paper INTEGER NOT NULL,
        print_ms INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS reviews (
        order_id TEXT PRIMARY KEY,
        total_cents INTEGER NOT NULL,
        recorded_at DOUBLE PRECISION NOT NULL
    )""",
)


def create_tables(client: eventyard.Client) -> None:
    """The shop's tables, the catalog's stock and a printer with paper (idempotent)."""
    with client.transaction() as tx:
        for statement in SCHEMA:
            tx.execute(statement)
        tx.executemany("INSERT INTO stock VALUES (?, ?) ON CONFLICT DO NOTHING", CATALOG.items())
        tx.execute("INSERT INTO printer VALUES (1, 1, 0) ON CONFLICT DO NOTHING")


def save_order(tx: eventyard.Transaction, order_id: str, request: OrderRequest) -> None:
    tx.execute(
        "INSERT INTO orders (order_id, customer, items, shipping_address, total_cents, placed_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            order_id,
            request.customer,
            json.dumps([item.model_dump() for item in request.items]),
            request.shipping_address.model_dump_json(),
            int(request.total * 100),
            time.time(),
        ),
    )


def find_order(tx: eventyard.Transaction, order_id: str) -> dict[str, Any] | None:
    """The order with its stock, label and routing status, or None."""
    row = tx.execute(
        "SELECT customer, items, shipping_address, total_cents, placed_at, stock_taken_at,"
        " label_path, label_printed_at, lane FROM orders WHERE order_id = ?",
        (order_id,),
    ).fetchone()
    if row is None:
        return None
    customer, items, address, cents, placed, taken, label, printed, lane = row
    skus = [item["sku"] for item in json.loads(items)]
    stock = dict(
        tx.execute(
            f"SELECT sku, quantity FROM stock WHERE sku IN ({','.join('?' * len(skus))})", skus
        ).fetchall()
    )
    return {
        "order_id": order_id,
        "customer": customer,
        "items": [{**item, "in_stock": stock.get(item["sku"])} for item in json.loads(items)],
        "shipping_address": json.loads(address),
        "total": cents / 100,
        "placed_at": placed,
        "stock": {"status": "taken" if taken else "pending", "taken_at": taken},
        "label": {
            "status": "printed" if printed else "waiting",
            "file": os.path.basename(label) if label else None,
            "printed_at": printed,
        },
        "lane": lane,
    }


def quantities_by_sku(items: list[dict[str, Any]]) -> dict[str, int]:
    """How many of each sku an order takes (a sku may be on several lines)."""
    quantities: dict[str, int] = {}
    for item in items:
        quantities[item["sku"]] = quantities.get(item["sku"], 0) + item["quantity"]
    return quantities


def unknown_skus(tx: eventyard.Transaction, skus: list[str]) -> list[str]:
    placeholders = ",".join("?" * len(skus))
    known = {
        sku for (sku,) in tx.execute(f"SELECT sku FROM stock WHERE sku IN ({placeholders})", skus)
    }
    return sorted(set(skus) - known)


def take_stock_for(tx: eventyard.Transaction, order_id: str, quantities: dict[str, int]) -> None:
    tx.executemany(
        "UPDATE stock SET quantity = quantity - ? WHERE sku = ?",
        [(quantity, sku) for sku, quantity in sorted(quantities.items())],  # see lock_stock
    )
    tx.execute("UPDATE orders SET stock_taken_at = ? WHERE order_id = ?", (time.time(), order_id))


def lock_stock(tx: eventyard.Transaction, orders: list[dict[str, Any]]) -> None:
    """Lock the stock rows these orders change, in sku order, before changing any.

    On PostgreSQL transactions run side by side, and each locks a row when it
    first updates it: two batches taking the same skus in different orders
    would deadlock, and PostgreSQL would roll one back (its whole batch then
    waits for a retry). Taking every row in one order first avoids that. On
    SQLite, which runs one writer at a time, it is harmless.
    """
    skus = sorted({item["sku"] for order in orders for item in order["items"]})
    tx.executemany("UPDATE stock SET quantity = quantity WHERE sku = ?", [(sku,) for sku in skus])


def stock_levels(tx: eventyard.Transaction) -> dict[str, int]:
    return dict(tx.execute("SELECT sku, quantity FROM stock ORDER BY sku").fetchall())
