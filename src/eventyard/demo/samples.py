"""Sample orders for the checkout example (`eventyard.examples.checkout`): what the demo's
customers and the benchmark's clients post to ``POST /checkout``.

The prices are made up: the example trusts the stated total, as the chapter does.
"""

from __future__ import annotations

from typing import Any, Final

PRICES: Final = {
    "BOOK-001": 24.5,
    "BOOK-002": 31.0,
    "MUG-RED": 12.0,
    "MUG-BLUE": 12.0,
    "TEE-M": 19.9,
    "TEE-L": 19.9,
    "LAMP-01": 79.0,
    "DESK-01": 899.0,
}
#: A price for a sku the catalog does not have (a poison order still needs a total).
UNKNOWN_PRICE: Final = 10.0
CITIES: Final = (("Delft", "2611 AB", "NL"), ("Gent", "9000", "BE"), ("Lyon", "69001", "FR"))


def address(number: int) -> dict[str, str]:
    city, postal_code, country = CITIES[number % len(CITIES)]
    return {
        "name": f"Customer {number}",
        "line1": f"{number} Harbour Street",
        "city": city,
        "postal_code": postal_code,
        "country": country,
    }


def order(number: int, items: list[dict[str, Any]], customer: str | None = None) -> dict[str, Any]:
    """A valid ``POST /checkout`` body for customer ``number``, its total from `PRICES`."""
    total = sum(PRICES.get(item["sku"], UNKNOWN_PRICE) * item["quantity"] for item in items)
    return {
        "customer": customer or f"customer{number}@example.com",
        "items": items,
        "shipping_address": address(number),
        "total": f"{total:.2f}",
    }
