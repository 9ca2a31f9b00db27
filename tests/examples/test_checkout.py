"""The checkout example end to end: real `eventyard run` processes, HTTP, a database and PDFs.

Every test runs on both backends: a SQLite file in the test's folder, and a
fresh database on the session's throwaway PostgreSQL server. The app runs as
``eventyard run examples/checkout/app.py --db URL`` with
``CHECKOUT_RETRY_SECONDS`` small (a failed message comes back after that many
seconds, and lands in its DLQ after 3 receives) and its labels in the test's
folder (``CHECKOUT_LABELS_DIR``). Results are read from the database itself
(with its own driver), through the API and through eventyard's client.

Most tests share one running shop (module-scoped); the printer story and the
kill -9 tests get their own. For the kill tests the shop is split in two
processes: ``eventyard run`` of a small front app (the checkout app without
the function under test: ``eventyard run`` has no ``--function``) and
``eventyard worker --function X`` for the function killed. Function handlers
run in worker processes of their own sessions, so "kill -9 of the worker"
here means SIGKILL of the supervisor's group *and* of each handler process.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from postgres_server import database_url as postgres_database_url
from running_app import running_app, start_eventyard, stop, wait_until
from tests_support import query

import eventyard

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "examples" / "checkout" / "app.py")
RETRY_SECONDS = 2  # visibility timeout: a failed message is back after 2 s
MAX_RECEIVES = 3
PACKAGE = "eventyard.examples.checkout"  # the examples install as eventyard.examples
SKUS = ("BOOK-001", "BOOK-002", "MUG-RED", "MUG-BLUE", "TEE-M", "TEE-L", "LAMP-01")
QUEUES = ("InventoryQueue", "InventoryDLQ", "ShippingQueue", "ShippingDLQ")


# -- orders --------------------------------------------------------------------------


def new_order(items: list[tuple[str, int]], total: str = "25.00") -> dict[str, Any]:
    return {
        "customer": f"buyer-{uuid.uuid4().hex[:8]}@example.com",
        "items": [{"sku": sku, "quantity": quantity} for sku, quantity in items],
        "shipping_address": {
            "name": "Ada Lovelace",
            "line1": "12 St James's Square",
            "city": "London",
            "postal_code": "SW1Y 4JH",
            "country": "GB",
        },
        "total": total,
    }


def random_order(rng: random.Random) -> dict[str, Any]:
    skus = rng.sample(SKUS, rng.randint(1, 3))
    return new_order([(sku, rng.randint(1, 3)) for sku in skus], f"{rng.randint(1, 900)}.50")


def quantities(orders: list[dict[str, Any]]) -> Counter[str]:
    placed: Counter[str] = Counter()
    for order in orders:
        for item in order["items"]:
            placed[item["sku"]] += item["quantity"]
    return placed


# -- the shop as the tests see it -------------------------------------------------------


@dataclass
class Shop:
    """A running checkout app: its API, its database and its labels folder."""

    api_url: str
    database_url: str
    labels: Path
    logs: list[Path] = field(default_factory=list)

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.api_url, timeout=60)

    def place(self, order: dict[str, Any], http: httpx.Client | None = None) -> str:
        if http is None:
            with self.http() as own:
                return self.place(order, own)
        response = http.post("/checkout", json=order)
        assert response.status_code == 201, response.text
        order_id = response.json()["order_id"]
        assert isinstance(order_id, str)
        return order_id

    def view(self, order_id: str) -> dict[str, Any]:
        with self.http() as http:
            response = http.get(f"/orders/{order_id}")
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def printer(self, **change: Any) -> dict[str, Any]:
        with self.http() as http:
            response = http.post("/printer", json=change)
        assert response.status_code == 200, response.text
        state: dict[str, Any] = response.json()
        return state

    # The database, read directly (a fresh connection each time: no lock kept).
    def rows(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return query(self.database_url, sql, parameters)

    def count(self, sql: str, parameters: tuple[Any, ...] = ()) -> int:
        [(value,)] = self.rows(sql, parameters)
        return int(value)

    def stock(self) -> dict[str, int]:
        return dict(self.rows("SELECT sku, quantity FROM stock"))  # type: ignore[arg-type]

    def order_rows(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        columns = "order_id, items, total_cents, stock_taken_at, label_path, label_printed_at, lane"
        found = {}
        for row in self.rows(
            f"SELECT {columns} FROM orders WHERE order_id IN ({','.join('?' * len(ids))})",
            tuple(ids),
        ):
            found[row[0]] = dict(zip(columns.split(", "), row, strict=True))
        return found

    def stocked(self, ids: list[str]) -> bool:
        rows = self.order_rows(ids)
        return len(rows) == len(ids) and all(r["stock_taken_at"] for r in rows.values())

    def labelled(self, ids: list[str]) -> bool:
        rows = self.order_rows(ids)
        return len(rows) == len(ids) and all(r["label_printed_at"] for r in rows.values())

    def routed(self, ids: list[str]) -> bool:
        rows = self.order_rows(ids)
        return len(rows) == len(ids) and all(r["lane"] for r in rows.values())

    def label_files(self) -> list[Path]:
        return sorted(self.labels.glob("*.pdf")) if self.labels.exists() else []

    def temporary_files(self) -> list[Path]:
        return sorted(self.labels.glob(".*.tmp")) if self.labels.exists() else []

    def depths(self) -> dict[str, int]:
        with eventyard.connect(self.database_url) as client:
            return {name: client.get_queue(name).stats().total for name in QUEUES}

    def settled(self) -> bool:
        """Nothing left to do: the consumers' queues are empty and every order is routed."""
        depths = self.depths()
        return (
            depths["InventoryQueue"] == 0
            and depths["ShippingQueue"] == 0
            and self.count("SELECT count(*) FROM orders WHERE lane IS NULL") == 0
        )

    def wait_settled(self) -> None:
        wait_until(self.settled, timeout=120, interval=0.2, what="the shop to settle")

    def invocations(self, function: str) -> list[dict[str, Any]]:
        """The invocation log lines of one function, from every process of the shop."""
        found = []
        for log in self.logs:
            for line in log.read_text(errors="replace").splitlines():
                _, _, text = line.partition("eventyard.invocations ")
                if text.startswith("{"):
                    record = json.loads(text)
                    if record.get("function") == function:
                        found.append(record)
        return found


def shop_env(labels: Path, retry_seconds: int = RETRY_SECONDS) -> dict[str, str]:
    return {"CHECKOUT_RETRY_SECONDS": str(retry_seconds), "CHECKOUT_LABELS_DIR": str(labels)}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """The store of every test here (module-scoped: one shared shop per backend)."""
    return str(request.param)


@contextmanager
def shop_database(backend: str, folder: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A new database for a shop: ``checkout.db`` in ``folder``, or a fresh PostgreSQL
    database on the session's server (dropped afterwards)."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'checkout.db'}"
        return
    server_url = str(request.getfixturevalue("postgres_server_url"))
    import psycopg
    from psycopg import sql

    name = f"checkout_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield postgres_database_url(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def running_shop(
    folder: Path, database_url: str, app: str = APP, retry_seconds: int = RETRY_SECONDS
) -> Iterator[Shop]:
    labels = folder / "labels"  # CHECKOUT_LABELS_DIR, on both backends
    env = shop_env(labels, retry_seconds)
    if not database_url.startswith("sqlite:"):  # no file beside the database to keep it in
        env["EVENTYARD_ADMIN_TOKEN"] = f"checkout-tests-{uuid.uuid4().hex}"
    with running_app(
        app,
        database_url,
        folder / "run.log",
        env=env,
        ready_path="/stock",
    ) as running:
        yield Shop(running.url, database_url, labels, [running.log_path])


@pytest.fixture
def shop_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The database of a test's own shop (the tests that run one in ``tmp_path``)."""
    with shop_database(backend, tmp_path, request) as url:
        yield url


def assert_label(shop: Shop, order_id: str) -> None:
    """The order's label: one complete PDF under its own name, naming the order."""
    path = shop.labels / f"{order_id}.pdf"
    data = path.read_bytes()
    assert data.startswith(b"%PDF-"), path
    assert data.rstrip().endswith(b"%%EOF"), f"{path} is torn"
    assert order_id.encode() in data  # the title and the barcode's text
    [row] = shop.order_rows([order_id]).values()
    assert row["label_path"] == str(path)
    assert row["label_printed_at"] is not None


@pytest.fixture(scope="module")
def shop(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Shop]:
    folder = tmp_path_factory.mktemp(f"checkout-{backend}")
    with shop_database(backend, folder, request) as url, running_shop(folder, url) as running:
        yield running


# -- 1. the happy path ----------------------------------------------------------------


def test_orders_are_stocked_labelled_and_routed_by_total(shop: Shop) -> None:
    shop.wait_settled()
    before = shop.stock()
    reviews_before = shop.count("SELECT count(*) FROM reviews")
    orders = [
        new_order([("BOOK-001", 2), ("MUG-RED", 1)], "42.50"),
        new_order([("LAMP-01", 3)], "1000.00"),  # the boundary: still standard
        new_order([("DESK-01", 2), ("BOOK-002", 1)], "1000.01"),
        new_order([("TEE-M", 4), ("TEE-L", 1), ("BOOK-001", 1)], "2500"),
        new_order([("MUG-BLUE", 1), ("MUG-BLUE", 2)], "15.00"),  # one sku on two lines
    ]
    with shop.http() as http:
        ids = [shop.place(order, http) for order in orders]
    assert len(set(ids)) == len(ids)

    wait_until(lambda: shop.stocked(ids), timeout=60, what="stock taken for every order")
    wait_until(lambda: shop.labelled(ids), timeout=60, what="a label for every order")
    wait_until(lambda: shop.routed(ids), timeout=60, what="every order routed")

    placed = quantities(orders)
    assert placed["MUG-BLUE"] == 3
    assert shop.stock() == {sku: level - placed[sku] for sku, level in before.items()}

    rows = shop.order_rows(ids)
    assert [rows[i]["lane"] for i in ids] == [
        "standard",
        "standard",
        "review",
        "review",
        "standard",
    ]
    assert [rows[i]["total_cents"] for i in ids] == [4250, 100000, 100001, 250000, 1500]
    reviews = shop.rows(
        f"SELECT order_id, total_cents FROM reviews WHERE order_id IN ({','.join('?' * 5)})",
        tuple(ids),
    )
    assert sorted(reviews) == sorted([(ids[2], 100001), (ids[3], 250000)])
    assert shop.count("SELECT count(*) FROM reviews") == reviews_before + 2

    for order_id in ids:
        assert_label(shop, order_id)
    stock_now = shop.stock()
    for order_id, order in zip(ids, orders, strict=True):
        view = shop.view(order_id)
        assert view["order_id"] == order_id
        assert view["customer"] == order["customer"]
        assert view["stock"]["status"] == "taken"
        assert view["stock"]["taken_at"] is not None
        assert view["label"]["status"] == "printed"
        assert view["label"]["file"] == f"{order_id}.pdf"
        assert view["lane"] == rows[order_id]["lane"]
        assert [(i["sku"], i["quantity"]) for i in view["items"]] == [
            (i["sku"], i["quantity"]) for i in order["items"]
        ]
        assert all(i["in_stock"] == stock_now[i["sku"]] for i in view["items"])

    with shop.http() as http:
        for unknown in ("ord_0000000000000000", "ord_nope", "x" * 300):
            response = http.get(f"/orders/{unknown}")
            assert response.status_code == 404, response.text
            assert response.json()["error"] == "OrderNotFound"
        assert http.get("/stock").json() == stock_now


# -- 2. Idempotency-Key ----------------------------------------------------------------


def test_an_idempotency_key_places_an_order_once(shop: Shop) -> None:
    shop.wait_settled()
    before_stock = shop.stock()
    before_orders = shop.count("SELECT count(*) FROM orders")
    order = new_order([("BOOK-002", 7), ("TEE-L", 2)], "99.99")
    key = f"retry-{uuid.uuid4()}"
    with shop.http() as http:
        first = http.post("/checkout", json=order, headers={"Idempotency-Key": key})
        second = http.post("/checkout", json=order, headers={"Idempotency-Key": key})
        assert first.status_code == 201, first.text
        assert second.status_code == 201, second.text
        order_id = first.json()["order_id"]
        assert second.json() == first.json() == {"order_id": order_id, "status": "accepted"}

        changed = {**order, "total": "100.00"}
        conflict = http.post("/checkout", json=changed, headers={"Idempotency-Key": key})
        assert conflict.status_code == 409, conflict.text
        assert conflict.json()["error"] == "IdempotencyKeyConflict"

        for bad in ("k" * 256, "has spaces in it", ""):
            response = http.post("/checkout", json=order, headers={"Idempotency-Key": bad})
            assert response.status_code == 400, (bad, response.text)
            assert response.json()["error"] == "InvalidParameterValue"
            assert "Idempotency-Key" in response.json()["message"]
        # The longest key allowed is fine (and a new key is a new order).
        longest = http.post("/checkout", json=order, headers={"Idempotency-Key": "k" * 255})
        assert longest.status_code == 201, longest.text
        other_id = longest.json()["order_id"]
    assert other_id != order_id

    ids = [order_id, other_id]
    wait_until(lambda: shop.stocked(ids), timeout=60, what="stock taken for both orders")
    shop.wait_settled()
    assert shop.count("SELECT count(*) FROM orders") == before_orders + 2
    assert shop.count("SELECT count(*) FROM orders WHERE order_id = ?", (order_id,)) == 1
    assert shop.count("SELECT count(*) FROM orders WHERE total_cents = 10000") == 0
    after = shop.stock()
    assert after["BOOK-002"] == before_stock["BOOK-002"] - 14  # two orders, not three
    assert after["TEE-L"] == before_stock["TEE-L"] - 4
    assert {s: q for s, q in after.items() if s not in ("BOOK-002", "TEE-L")} == {
        s: q for s, q in before_stock.items() if s not in ("BOOK-002", "TEE-L")
    }
    assert len(list(shop.labels.glob(f"{order_id}*"))) == 1


# -- 4. a poison message --------------------------------------------------------------


def test_an_unknown_sku_fails_only_its_own_message(shop: Shop) -> None:
    shop.wait_settled()
    before = shop.stock()
    dead_before = shop.depths()["InventoryDLQ"]
    good = [new_order([("BOOK-001", 1), ("MUG-RED", 2)]) for _ in range(4)]
    poison = new_order([("BOOK-001", 3), ("GHOST-404", 1)])  # valid pattern, not stocked
    more = [new_order([("LAMP-01", 1)]) for _ in range(4)]
    with shop.http() as http:  # within one batching window: one batch, or a few
        good_ids = [shop.place(order, http) for order in good]
        poison_id = shop.place(poison, http)
        good_ids += [shop.place(order, http) for order in more]

    wait_until(lambda: shop.stocked(good_ids), timeout=60, what="the good orders stocked")
    with eventyard.connect(shop.database_url) as client:
        dead_letters = client.get_queue("InventoryDLQ")
        wait_until(
            lambda: dead_letters.stats().total == dead_before + 1,
            timeout=90,
            what="the poison order in InventoryDLQ",
        )
        received = dead_letters.receive(max_messages=10, visibility_timeout=0)
        [dead] = [m for m in received if m.body["order_id"] == poison_id]
        failures = client.message_failures(dead.message_id)
    assert [f.error_type for f in failures] == ["UnknownSku"] * MAX_RECEIVES
    assert {f.function for f in failures} == {"update_stock"}
    assert {f.queue for f in failures} == {"InventoryQueue"}
    assert all("unknown sku GHOST-404" in f.error_message for f in failures)
    assert all(poison_id in f.error_message for f in failures)

    # The good orders were stocked by the first try of the batches the poison was in.
    first_failure = min(f.failed_at_ms for f in failures) / 1000
    rows = shop.order_rows([*good_ids, poison_id])
    assert all(rows[i]["stock_taken_at"] <= first_failure + 0.5 for i in good_ids[:4])
    assert rows[poison_id]["stock_taken_at"] is None
    batches = [
        r for r in shop.invocations("update_stock") if r.get("failed") == 1 and r["batch_size"] > 1
    ]
    assert batches, "the poison order never shared a batch with a good one"
    assert shop.view(poison_id)["stock"]["status"] == "pending"

    shop.wait_settled()
    placed = quantities([*good, *more])  # not the poison order's 3 books
    assert shop.stock() == {sku: level - placed[sku] for sku, level in before.items()}
    assert "GHOST-404" not in shop.stock()


# -- 7. 200 concurrent checkouts ---------------------------------------------------------


def test_200_concurrent_checkouts_are_all_stocked_and_labelled_once(shop: Shop) -> None:
    shop.wait_settled()
    before = shop.stock()
    labels_before = len(shop.label_files())
    rng = random.Random(7)
    orders = [random_order(rng) for _ in range(200)]
    limits = httpx.Limits(max_connections=24, max_keepalive_connections=24)
    with (
        httpx.Client(base_url=shop.api_url, timeout=120, limits=limits) as http,
        ThreadPoolExecutor(max_workers=24) as pool,
    ):
        responses = list(pool.map(lambda order: http.post("/checkout", json=order), orders))
    assert [r.status_code for r in responses] == [201] * 200, {
        r.status_code: r.text for r in responses if r.status_code != 201
    }
    ids = [r.json()["order_id"] for r in responses]
    assert len(set(ids)) == 200
    assert len(shop.order_rows(ids)) == 200

    wait_until(lambda: shop.stocked(ids), timeout=120, interval=0.5, what="200 orders stocked")
    wait_until(lambda: shop.labelled(ids), timeout=120, interval=0.5, what="200 labels")
    shop.wait_settled()
    placed = quantities(orders)
    assert shop.stock() == {sku: level - placed[sku] for sku, level in before.items()}
    rows = shop.order_rows(ids)
    assert {row["lane"] for row in rows.values()} == {"standard"}
    assert len(shop.label_files()) == labels_before + 200
    for order_id in ids:
        assert rows[order_id]["label_path"] == str(shop.labels / f"{order_id}.pdf")
        assert (shop.labels / f"{order_id}.pdf").read_bytes().startswith(b"%PDF-")
    assert shop.temporary_files() == []


# -- 8. bad input -----------------------------------------------------------------------

GOOD = new_order([("BOOK-001", 1)])


def _with(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """GOOD with one field replaced (or deleted, for value ``...``)."""
    order = json.loads(json.dumps(GOOD))
    target = order
    for step in path[:-1]:
        target = target[step]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return order


UNPROCESSABLE = {
    "customer-not-a-string": (_with(("customer",), 42), ["body", "customer"]),
    "quantity-as-text": (_with(("items", 0, "quantity"), "2"), ["body", "items", 0, "quantity"]),
    "quantity-float": (_with(("items", 0, "quantity"), 1.5), ["body", "items", 0, "quantity"]),
    "negative-quantity": (_with(("items", 0, "quantity"), -1), ["body", "items", 0, "quantity"]),
    "zero-quantity": (_with(("items", 0, "quantity"), 0), ["body", "items", 0, "quantity"]),
    "items-not-a-list": (_with(("items",), {"sku": "BOOK-001"}), ["body", "items"]),
    "unknown-field": (_with(("coupon",), "FREE"), ["body", "coupon"]),
    "unknown-item-field": (_with(("items", 0, "price"), 1), ["body", "items", 0, "price"]),
    "missing-field": (_with(("shipping_address",), ...), ["body", "shipping_address"]),
    "missing-city": (
        _with(("shipping_address", "city"), ...),
        ["body", "shipping_address", "city"],
    ),
    "empty-items": (_with(("items",), []), ["body", "items"]),
    "51-items": (
        _with(("items",), [{"sku": "BOOK-001", "quantity": 1}] * 51),
        ["body", "items"],
    ),
    "bad-sku": (_with(("items", 0, "sku"), "book 1"), ["body", "items", 0, "sku"]),
    "lowercase-country": (
        _with(("shipping_address", "country"), "gb"),
        ["body", "shipping_address", "country"],
    ),
    "three-letter-country": (
        _with(("shipping_address", "country"), "GBR"),
        ["body", "shipping_address", "country"],
    ),
    "total-3-decimals": (_with(("total",), "12.345"), ["body", "total"]),
    "total-3-decimals-number": (_with(("total",), 12.345), ["body", "total"]),
    "negative-total": (_with(("total",), "-1.00"), ["body", "total"]),
    "not-an-object": ([GOOD], ["body"]),
}


def shop_state(shop: Shop) -> tuple[Any, ...]:
    return (
        shop.count("SELECT count(*) FROM orders"),
        shop.stock(),
        shop.depths(),
        len(shop.label_files()),
    )


def test_the_good_order_of_the_bad_input_cases_is_good(shop: Shop) -> None:
    # Every 422 case below differs from GOOD in one field only; GOOD itself is accepted.
    order_id = shop.place(GOOD)
    wait_until(lambda: shop.stocked([order_id]), timeout=60, what="the good order stocked")


@pytest.mark.parametrize(("order", "loc"), UNPROCESSABLE.values(), ids=list(UNPROCESSABLE))
def test_an_invalid_order_is_422_naming_the_field_and_changes_nothing(
    shop: Shop, order: Any, loc: list[Any]
) -> None:
    shop.wait_settled()
    before = shop_state(shop)
    with shop.http() as http:
        response = http.post("/checkout", json=order)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert loc in [error["loc"] for error in detail], detail
    assert shop_state(shop) == before


@pytest.mark.parametrize(
    ("content", "headers", "status"),
    [
        (b'{"customer": "a@example.com", "items": [', {}, 400),
        (b"", {}, 422),
        (b"\xff\xfe not even text", {}, 400),
        (json.dumps(GOOD).encode() + b" " * (2 * 1024 * 1024), {}, 413),
        (
            b'{"customer": "' + b"a" * (2 * 1024 * 1024) + b'"}',
            {"Idempotency-Key": "too-big"},
            413,
        ),
    ],
    ids=["malformed-json", "empty-body", "not-utf8", "2-MiB-of-padding", "2-MiB-field"],
)
def test_a_malformed_or_oversized_body_is_refused_and_changes_nothing(
    shop: Shop, content: bytes, headers: dict[str, str], status: int
) -> None:
    shop.wait_settled()
    before = shop_state(shop)
    with shop.http() as http:
        response = http.post(
            "/checkout", content=content, headers={"Content-Type": "application/json", **headers}
        )
    assert response.status_code == status, response.text
    assert shop_state(shop) == before


def test_a_2_mib_body_without_content_length_is_413(shop: Shop) -> None:
    shop.wait_settled()
    before = shop_state(shop)

    def chunks() -> Iterator[bytes]:
        yield json.dumps(GOOD).encode()[:-1] + b', "padding": "'
        for _ in range(32):
            yield b"x" * 65536
        yield b'"}'

    with shop.http() as http:
        response = http.post(
            "/checkout", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 413, response.text
    assert shop_state(shop) == before


# -- 3. the printer runs out of paper ---------------------------------------------------


def printer_cli(database_url: str, *args: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", f"{PACKAGE}.printer", *args, "--db", database_url],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    state: dict[str, Any] = json.loads(result.stdout)
    return state


def test_without_paper_orders_wait_then_dead_letter_then_print_once(
    tmp_path: Path, shop_url: str
) -> None:
    with running_shop(tmp_path, shop_url) as shop:
        initial = shop.stock()
        assert shop.printer(paper=False) == {"paper": False, "print_ms": 0}
        with shop.http() as http:
            assert http.get("/printer").json() == {"paper": False, "print_ms": 0}

        rng = random.Random(3)
        first = [random_order(rng) for _ in range(6)]
        with shop.http() as http:
            first_ids = [shop.place(order, http) for order in first]
        # Published with the order; 3 receives take >= 2 x RETRY_SECONDS: still in the queue.
        assert shop.depths()["ShippingQueue"] == len(first_ids)

        # Inventory carries on; the labels wait.
        wait_until(lambda: shop.stocked(first_ids), timeout=60, what="stock taken")
        placed = quantities(first)
        assert shop.stock() == {sku: level - placed[sku] for sku, level in initial.items()}
        # The stock commits in the handler; the batch's deletes follow its reply.
        wait_until(lambda: shop.depths()["InventoryQueue"] == 0, timeout=30, what="deletes")
        assert shop.count("SELECT count(label_printed_at) FROM orders") == 0
        assert shop.label_files() == []
        assert shop.view(first_ids[0])["label"]["status"] == "waiting"

        # After 3 failed receives they are in ShippingDLQ, with the reason kept.
        wait_until(
            lambda: shop.depths()["ShippingDLQ"] == len(first_ids),
            timeout=90,
            interval=0.2,
            what="the first orders in ShippingDLQ",
        )
        with eventyard.connect(shop.database_url) as client:
            dead = client.get_queue("ShippingDLQ").receive(max_messages=10, visibility_timeout=0)
            assert sorted(m.body["order_id"] for m in dead) == sorted(first_ids)
            for message in dead:
                failures = client.message_failures(message.message_id)
                assert [f.error_type for f in failures] == ["OutOfPaper"] * MAX_RECEIVES
                assert {f.function for f in failures} == {"print_labels"}
                assert failures[-1].error_message == "the label printer is out of paper"
        assert shop.depths()["ShippingQueue"] == 0

        # The command line sees the same printer as the API.
        assert printer_cli(shop.database_url) == {"paper": False, "print_ms": 0}

        # More orders while the paper is still out: checkout answers, they wait in the queue.
        second = [random_order(rng) for _ in range(5)]
        with shop.http() as http:
            second_ids = [shop.place(order, http) for order in second]
        assert shop.depths()["ShippingQueue"] == len(second_ids)
        assert shop.label_files() == []

        # Paper back, from the command line (before those reach ShippingDLQ too).
        assert printer_cli(shop.database_url, "--paper", "--print-ms", "5") == {
            "paper": True,
            "print_ms": 5,
        }
        with shop.http() as http:
            assert http.get("/printer").json() == {"paper": True, "print_ms": 5}

        # Paper back: the backlog drains; the dead letters wait for a redrive.
        wait_until(lambda: shop.labelled(second_ids), timeout=60, what="the backlog printed")
        assert not any(r["label_printed_at"] for r in shop.order_rows(first_ids).values())
        assert shop.depths()["ShippingDLQ"] == len(first_ids)

        with eventyard.connect(shop.database_url) as client:
            progress = client.start_redrive("ShippingDLQ").wait()
        assert progress.moved == len(first_ids)
        wait_until(lambda: shop.labelled(first_ids), timeout=60, what="the redriven labels")
        shop.wait_settled()

        ids = first_ids + second_ids
        assert sorted(p.name for p in shop.label_files()) == sorted(f"{i}.pdf" for i in ids)
        for order_id in ids:
            assert_label(shop, order_id)
        assert shop.temporary_files() == []
        assert shop.depths() == dict.fromkeys(QUEUES, 0)
        assert shop.stocked(ids)
        placed = quantities(first + second)  # stock was taken once, paper or not
        assert shop.stock() == {sku: level - placed[sku] for sku, level in initial.items()}

        assert printer_cli(shop.database_url, "--no-paper") == {"paper": False, "print_ms": 5}
        with shop.http() as http:
            assert http.get("/printer").json() == {"paper": False, "print_ms": 5}


# -- 5. and 6. kill -9 of a worker -------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry))
    return found


def kill_hard(process: subprocess.Popen[str]) -> int:
    """SIGKILL a supervisor's group and its function workers (each in its own session)."""
    os.killpg(process.pid, signal.SIGSTOP)  # frozen: it starts no new worker meanwhile
    workers = _children(process.pid)
    for pid in workers:
        with suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)
    return len(workers)


def front_app(folder: Path, functions: set[str]) -> str:
    """The checkout app minus one function, for ``eventyard run`` (which has no --function)."""
    path = folder / "front.py"
    path.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from examples.checkout.app import app as checkout\n"
        f"app = checkout.with_functions({sorted(functions)!r})\n"
    )
    return str(path)


@contextmanager
def split_shop(folder: Path, database_url: str, worker_function: str) -> Iterator[tuple[Shop, Any]]:
    """``eventyard run`` of every function but one, and a restartable worker for that one."""
    others = {"update_stock", "print_labels", "review_order", "standard_priority"}
    others.discard(worker_function)
    with running_shop(folder, database_url, app=front_app(folder, others)) as shop:
        log = folder / "worker.log"
        processes: list[subprocess.Popen[str]] = []

        def start_worker() -> subprocess.Popen[str]:
            process = start_eventyard(
                "worker",
                APP,
                shop.database_url,
                log,
                extra_args=("--function", worker_function),
                env=shop_env(shop.labels),
            )
            processes.append(process)
            return process

        shop.logs.append(log)
        try:
            yield shop, start_worker
        finally:
            for process in processes:
                stop(process)


def test_kill_9_of_the_shipping_worker_mid_batch_prints_each_label_once(
    tmp_path: Path, shop_url: str
) -> None:
    with split_shop(tmp_path, shop_url, "print_labels") as (shop, start_worker):
        rng = random.Random(5)
        orders = [random_order(rng) for _ in range(60)]
        with shop.http() as http:
            ids = [shop.place(order, http) for order in orders]
        assert shop.depths()["ShippingQueue"] == 60  # nobody prints yet
        assert shop.printer(print_ms=50)["print_ms"] == 50

        worker = start_worker()

        def mid_batch() -> bool:
            files = len(shop.label_files())
            recorded = shop.count("SELECT count(label_printed_at) FROM orders")
            return files >= 15 and files - recorded >= 3

        wait_until(mid_batch, timeout=120, interval=0.02, what="labels partway through a batch")
        assert kill_hard(worker) >= 1
        files = {p.name for p in shop.label_files()}
        recorded = shop.count("SELECT count(label_printed_at) FROM orders")
        assert recorded < len(files) < 60  # killed with labels written but not recorded
        time.sleep(RETRY_SECONDS + 1)  # all dead (no orphan handler): nothing prints
        assert {p.name for p in shop.label_files()} == files
        assert shop.count("SELECT count(label_printed_at) FROM orders") == recorded

        start_worker()
        wait_until(lambda: shop.labelled(ids), timeout=120, what="every label after the restart")
        shop.wait_settled()
        assert sorted(p.name for p in shop.label_files()) == sorted(f"{i}.pdf" for i in ids)
        for order_id in ids:
            assert_label(shop, order_id)
        assert shop.temporary_files() == []
        assert shop.depths() == dict.fromkeys(QUEUES, 0)


def test_kill_9_of_the_inventory_worker_takes_stock_once_per_order(
    tmp_path: Path, shop_url: str
) -> None:
    with split_shop(tmp_path, shop_url, "update_stock") as (shop, start_worker):
        initial = shop.stock()
        worker = start_worker()
        rng = random.Random(6)
        orders = [random_order(rng) for _ in range(60)]
        ids: list[str] = []

        def place_all() -> None:
            with shop.http() as http:
                for order in orders:
                    ids.append(shop.place(order, http))
                    time.sleep(0.02)

        placing = threading.Thread(target=place_all)
        placing.start()
        with eventyard.connect(shop.database_url) as client:
            inventory = client.get_queue("InventoryQueue")

            def mid_stream() -> bool:
                stocked = shop.count("SELECT count(stock_taken_at) FROM orders")
                return stocked >= 10 and inventory.stats().in_flight > 0

            wait_until(mid_stream, timeout=120, interval=0.02, what="a batch in flight")
            assert kill_hard(worker) >= 1
            stranded = inventory.stats().in_flight
        assert stranded > 0  # received by the killed worker, not deleted
        placing.join(120)
        assert len(ids) == 60
        assert shop.count("SELECT count(stock_taken_at) FROM orders") < 60

        start_worker()
        wait_until(lambda: shop.stocked(ids), timeout=120, what="every order stocked")
        shop.wait_settled()
        placed = quantities(orders)
        assert shop.stock() == {sku: level - placed[sku] for sku, level in initial.items()}

        # A redelivered order (at-least-once) takes no stock and prints nothing a second time.
        wait_until(lambda: shop.labelled(ids), timeout=120, what="every label")
        done = shop.order_rows(ids)
        with eventyard.connect(shop.database_url) as client:
            topic = client.get_topic("NewOrderEvent")
            for order_id, order in list(zip(ids, orders, strict=True))[:5]:
                address = {"line2": "", **order["shipping_address"]}
                event = {"order_id": order_id, "shipping_address": address}
                topic.publish({**order, **event, "total": float(order["total"])})
        wait_until(
            lambda: shop.depths()["InventoryQueue"] == 0 and shop.depths()["ShippingQueue"] == 0,
            timeout=60,
            what="the duplicates consumed",
        )
        assert shop.stock() == {sku: level - placed[sku] for sku, level in initial.items()}
        assert shop.depths() == dict.fromkeys(QUEUES, 0)  # no conflict, no failure
        assert shop.order_rows(ids) == done  # the same stock_taken_at and label_printed_at
        assert len(shop.label_files()) == 60
