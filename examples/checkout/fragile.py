"""The chapter's "fragile way": checkout does all the work inside the request.

    POST /checkout ──> save the order, take the stock, render + write the label and
                       wait for the printer (one request, one transaction)

No queue, no topic, no function: the customer waits for the stock update and
for the label printer, and a printer without paper (or a slow one) makes
checkout fail (or slow) for everyone. It is the baseline of ``eventyard bench
checkout``, against the event-driven ``app.py``; it reuses that app's
validation (`OrderRequest`), tables, label code and printer switch, so the
same timing columns (``placed_at``, ``stock_taken_at``, ``label_printed_at``)
are filled. Run it with
``eventyard run eventyard.examples.checkout.fragile:app --db sqlite:///fragile.db``.
"""

from __future__ import annotations

import time

import eventyard

from .labels import labels_folder, write_label
from .orders import (
    OrderRequest,
    create_tables,
    new_order_id,
    order_event,
    quantities_by_sku,
    save_order,
    take_stock_for,
    unknown_skus,
)
from .printer import add_printer_routes, read_printer

app = eventyard.App("checkout-fragile")
app.setup(create_tables)


add_printer_routes(app)


@app.route("POST", "/checkout", max_body_bytes=64 * 1024)
def checkout(
    order: OrderRequest, tx: eventyard.Transaction, client: eventyard.Client
) -> tuple[int, dict[str, str]]:
    """Save, take stock and print the label before answering: 201 once all three are done."""
    printer = read_printer(tx)
    if not printer.paper:  # the whole checkout fails with the printer
        return 503, {"error": "OutOfPaper", "message": "the label printer is out of paper"}
    quantities = quantities_by_sku([item.model_dump() for item in order.items])
    unknown = unknown_skus(tx, list(quantities))
    if unknown:
        raise eventyard.InvalidParameterValue(f"unknown sku {', '.join(unknown)}")
    order_id = new_order_id()
    save_order(tx, order_id, order)
    take_stock_for(tx, order_id, quantities)
    path = write_label(labels_folder(client.url), order_event(order_id, order))
    time.sleep(printer.print_ms / 1000)  # the printer's own pace, with the transaction open
    tx.execute(
        "UPDATE orders SET label_path = ?, label_printed_at = ? WHERE order_id = ?",
        (path, time.time(), order_id),
    )
    return 201, {"order_id": order_id, "status": "shipped"}


@app.route("GET", "/")
def index() -> dict[str, object]:
    return {"app": app.name, "routes": [f"{route.method} {route.path}" for route in app.routes]}
