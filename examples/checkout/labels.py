"""Shipping labels: a 4x6 inch PDF per order with the address, the items and a Code 128 barcode.

Drawn with reportlab (its ``code128`` barcode); written atomically (a temporary
file, fsync, rename) under the order's own name, so printing an order twice
(a redelivery after a crash) leaves one complete label, never a torn one. The
temporary file has the order's name too: a crash mid-write leaves it behind
only until the redelivered order is printed again (one printer: the shipping
function runs with ``max_concurrency=1``, so two writers never share it).
"""

from __future__ import annotations

import io
import os
from typing import Any, Final

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas

PAGE: Final = (4 * inch, 6 * inch)
MARGIN: Final = 0.25 * inch
MAX_ITEM_LINES: Final = 12


def labels_folder(database_url: str) -> str:
    """``CHECKOUT_LABELS_DIR``, else ``labels/`` beside the SQLite database."""
    configured = os.environ.get("CHECKOUT_LABELS_DIR")
    if configured:
        return configured
    if not database_url.startswith("sqlite:///"):
        raise ValueError("set CHECKOUT_LABELS_DIR: labels go beside the database only for SQLite")
    return os.path.join(os.path.dirname(database_url[len("sqlite:///") :]), "labels")


def label_name(order_id: str) -> str:
    return f"{order_id}.pdf"


def render_label(order: dict[str, Any]) -> bytes:
    """The label of one order (the body of a NewOrderEvent message) as PDF bytes."""
    width, height = PAGE
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=PAGE, pageCompression=1)
    canvas.setTitle(f"Shipping label {order['order_id']}")
    y = height - MARGIN - 12
    canvas.setFont("Helvetica-Bold", 12)
    canvas.drawString(MARGIN, y, "SHIP TO")
    address = order["shipping_address"]
    canvas.setFont("Helvetica", 11)
    lines = [
        address["name"],
        address["line1"],
        address.get("line2", ""),
        f"{address['postal_code']} {address['city']}",
        address["country"],
    ]
    for line in (line for line in lines if line):
        y -= 15
        canvas.drawString(MARGIN, y, line[:48])
    y -= 24
    canvas.setFont("Helvetica-Bold", 10)
    canvas.drawString(MARGIN, y, f"Order {order['order_id']}")
    canvas.setFont("Helvetica", 9)
    items = order["items"]
    for item in items[:MAX_ITEM_LINES]:
        y -= 12
        canvas.drawString(MARGIN, y, f"{item['quantity']:>5} x {item['sku']}")
    if len(items) > MAX_ITEM_LINES:
        y -= 12
        canvas.drawString(MARGIN, y, f"      ... and {len(items) - MAX_ITEM_LINES} more lines")
    barcode = Code128(order["order_id"], barHeight=0.8 * inch, barWidth=1.0, humanReadable=True)
    barcode.drawOn(canvas, (width - barcode.width) / 2, MARGIN + 6)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def write_label(folder: str, order: dict[str, Any]) -> str:
    """Render and write the order's label; returns its path (the same path every time)."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, label_name(order["order_id"]))
    data = render_label(order)
    temporary = os.path.join(folder, f".{label_name(order['order_id'])}.tmp")
    try:
        with open(temporary, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return path
