"""The dashboard in a real headless Chromium, against the checkout example run for real.

`eventyard run examples/checkout/app.py` with quick retries; the printer is
switched off and a poison order (an unknown sku) placed, so ShippingDLQ and
InventoryDLQ fill up. Then, in the browser: a page without login goes to the
login form (and the API refuses and changes nothing); log in through the form
with the token from the file beside the database; the topology shows
NewOrderEvent → InventoryQueue / ShippingQueue → update_stock / print_labels;
InventoryDLQ shows the poison order with its UnknownSku failure and the message
view its traceback; with paper back, redriving ShippingDLQ's selected messages
empties it and the depth shown drops to 0 (their labels then print); a
``<script>`` body shows as text and never runs.

Chromium is Debian's (``chromium`` on the PATH), driven by Playwright through
``executable_path`` (no downloaded browser). Without it these tests skip,
unless ``EVENTYARD_REQUIRE_BROWSER=1`` (as in CI) makes that a failure.
``EVENTYARD_SCREENSHOTS=docs`` saves the screenshots into ``docs/``
(``dashboard-*.png``); otherwise they go to the test's temporary folder.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from running_app import running_app, wait_until

from eventyard.admin.auth import TOKEN_ENV, token_path

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "examples" / "checkout" / "app.py")
REQUIRE_BROWSER = os.environ.get("EVENTYARD_REQUIRE_BROWSER") == "1"
SCREENSHOTS = os.environ.get("EVENTYARD_SCREENSHOTS")
XSS = "<script>window.pwned=1</script>"
POISON_SKU = "GHOST-404"


def _chromium() -> str:
    """The system Chromium, or a skip (a failure when the browser is required)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    reason = None
    if found is None:
        reason = "no Chromium on the PATH (Debian: apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "playwright is not installed (pip install -e '.[test]')"
    if reason is not None:
        if REQUIRE_BROWSER:
            pytest.fail(f"EVENTYARD_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(f"browser tests skipped: {reason}")
    assert found is not None
    return found


def _order(number: int, sku: str) -> dict[str, Any]:
    return {
        "customer": f"customer{number}@example.com",
        "items": [{"sku": sku, "quantity": 1}],
        "shipping_address": {
            "name": f"Customer {number}",
            "line1": f"{number} Harbour Street",
            "city": "Delft",
            "postal_code": "2611 AB",
            "country": "NL",
        },
        "total": "24.50",
    }


@dataclass
class Shop:
    url: str
    token: str
    api: httpx.Client  # the app's routes
    admin: httpx.Client  # the admin API, with the bearer token
    shots: Path
    shipping_dead: list[str]  # orders whose labels failed (printer out of paper)
    poison: str

    def depth(self, queue: str) -> int:
        response = self.admin.get(f"/admin/api/queues/{queue}")
        assert response.status_code == 200, response.text
        body = response.json()
        return int(body["visible"] + body["in_flight"] + body["delayed"])

    def labelled(self, orders: list[str]) -> bool:
        return all(
            self.api.get(f"/orders/{order}").json()["label"]["status"] == "printed"
            for order in orders
        )

    def place(self, sku: str, number: int) -> str:
        response = self.api.post("/checkout", json=_order(number, sku))
        assert response.status_code == 201, response.text
        return str(response.json()["order_id"])


@pytest.fixture(scope="module")
def chromium_path() -> str:
    return _chromium()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Shop]:
    folder = tmp_path_factory.mktemp("dashboard")
    database = folder / "checkout.db"
    shots = ROOT / "docs" if SCREENSHOTS == "docs" else folder / "screenshots"
    shots.mkdir(exist_ok=True)
    env = {"CHECKOUT_RETRY_SECONDS": "1", "CHECKOUT_LABELS_DIR": str(folder / "labels")}
    with running_app(
        APP, f"sqlite:///{database}", folder / "run.log", env=env, ready_path="/stock"
    ) as app:
        token = os.environ.get(TOKEN_ENV) or Path(token_path(str(database))).read_text().strip()
        with (
            httpx.Client(base_url=app.url, timeout=30) as api,
            httpx.Client(
                base_url=app.url, timeout=30, headers={"Authorization": f"Bearer {token}"}
            ) as admin,
        ):
            shop = Shop(app.url, token, api, admin, shots, [], "")
            shop.poison = shop.place(POISON_SKU, 1)  # labelled, but never stocked
            first = [shop.place("BOOK-001", number) for number in range(2, 7)]
            wait_until(lambda: shop.labelled([*first, shop.poison]), what="the first labels")
            api.post("/printer", json={"paper": False}).raise_for_status()
            shop.shipping_dead = [shop.place("MUG-RED", number) for number in (7, 8)]
            depths: list[tuple[int, int]] = []

            def filled() -> bool:
                depths.append((shop.depth("ShippingDLQ"), shop.depth("InventoryDLQ")))
                return depths[-1] == (2, 1)

            try:
                wait_until(filled, timeout=60, what="the dead-letter queues to fill")
            except AssertionError as exc:
                raise AssertionError(f"{exc}; (ShippingDLQ, InventoryDLQ): {depths[-1]}") from None
            api.post("/printer", json={"paper": True}).raise_for_status()
            yield shop


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, headless=True)
        try:
            yield launched
        finally:
            launched.close()


def _new_page(browser: Browser) -> Page:
    context = browser.new_context(viewport={"width": 1320, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("dialog", lambda dialog: dialog.accept())
    return page


@pytest.fixture
def anonymous(browser: Browser) -> Iterator[Page]:
    page = _new_page(browser)
    yield page
    page.context.close()


@pytest.fixture
def page(browser: Browser, shop: Shop) -> Iterator[Page]:
    """A browser page logged in through the form."""
    page = _new_page(browser)
    page.goto(shop.url + "/admin/")
    assert page.url.endswith("/admin/login")
    page.fill("input[name=token]", shop.token)
    page.click("button[type=submit]")
    page.wait_for_url(shop.url + "/admin/")
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert cookies["eventyard_session"]["httpOnly"]
    assert cookies["eventyard_session"]["sameSite"] == "Strict"
    yield page
    page.context.close()


def _shoot(page: Page, shop: Shop, name: str) -> None:
    page.screenshot(path=str(shop.shots / f"dashboard-{name}.png"), full_page=True)


def _wait_for_charts(page: Page, count: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('[data-chart] svg polyline').length >= n", arg=count
    )


# -- the tests, in the order a visitor would go ----------------------------------------


def test_without_login_pages_go_to_the_form_and_the_api_refuses(
    anonymous: Page, shop: Shop
) -> None:
    before = shop.depth("InventoryDLQ"), shop.depth("ShippingDLQ")
    anonymous.goto(shop.url + "/admin/queues/InventoryDLQ")
    assert anonymous.url == shop.url + "/admin/login"
    assert anonymous.locator("input[name=token]").is_visible()
    tries = [
        ("GET", "/admin/api/queues"),
        ("POST", "/admin/api/queues/ShippingDLQ/redrive"),
        ("POST", "/admin/api/queues/InventoryDLQ/purge"),
        ("GET", "/admin/static/dashboard.js"),
        ("GET", "/metrics"),
    ]
    statuses = [
        anonymous.request.fetch(shop.url + path, method=method, data="{}").status
        if method == "POST"
        else anonymous.request.fetch(shop.url + path, method=method).status
        for method, path in tries
    ]
    assert statuses == [401] * 5
    assert (shop.depth("InventoryDLQ"), shop.depth("ShippingDLQ")) == before


def test_the_overview_shows_the_checkout_topology(page: Page, shop: Shop) -> None:
    topology = page.locator("#topology")
    topic = topology.locator("tbody.topic", has_text="NewOrderEvent")
    for queue, function in (("InventoryQueue", "update_stock"), ("ShippingQueue", "print_labels")):
        row = topic.locator("tr", has_text=queue)
        assert row.count() == 1
        assert function in row.inner_text()
    inventory = topic.locator("tr", has_text="InventoryQueue").inner_text()
    assert "InventoryDLQ: 1" in inventory
    bus = topology.locator("tbody.bus", has_text="default")
    assert "orders-over-1000" in bus.inner_text()
    assert "review_order" in bus.inner_text()
    dead = page.locator("#queues tr[data-queue=InventoryDLQ]")
    assert "DLQ" in dead.inner_text()
    if SCREENSHOTS:  # half a minute of uneven traffic, so the charts have something to draw
        for number in range(20, 60):
            shop.place("TEE-M", number)
            time.sleep(0.2 if number % 10 < 5 else 0.9)
        page.wait_for_timeout(6_000)
    _wait_for_charts(page, 2)
    _shoot(page, shop, "overview")


def test_the_dead_letter_queue_shows_the_poison_order_and_its_error(page: Page, shop: Shop) -> None:
    page.click("#queues a:text-is('InventoryDLQ')")
    page.wait_for_url("**/admin/queues/InventoryDLQ")
    row = page.locator("#messages tr[data-message]", has_text=POISON_SKU)
    assert row.count() == 1
    failures = row.locator("td.failures").inner_text()
    assert "3 failures" in failures
    assert "UnknownSku" in failures
    assert f"unknown sku {POISON_SKU}" in failures
    assert "update_stock" in failures
    assert page.locator("button[data-action=redrive-all]").is_visible()
    row.locator("td.id a").click()
    page.wait_for_url("**/admin/queues/InventoryDLQ/messages/*")
    assert f'"sku": "{POISON_SKU}"' in page.locator("#body").inner_text()
    history = page.locator("ol.failures > li")
    assert history.count() == 3
    history.first.locator("summary").click()
    traceback = history.first.locator("pre.traceback").inner_text()
    assert "Traceback" in traceback
    assert "UnknownSku" in traceback
    _shoot(page, shop, "message")


def test_redriving_a_fixed_failure_empties_the_dead_letter_queue(page: Page, shop: Shop) -> None:
    page.goto(shop.url + "/admin/queues/ShippingDLQ")
    depth = page.locator("#depth")
    assert depth.inner_text() == "2"
    assert "OutOfPaper" in page.locator("#messages").inner_text()
    redrive = page.locator("button[data-action=redrive]")
    assert redrive.is_disabled()
    page.check("#select-all")
    assert page.locator("#selection").inner_text() == "2 selected"
    if SCREENSHOTS:
        page.wait_for_timeout(7_000)  # a few points on the depth chart (selections are kept)
        assert page.locator("#selection").inner_text() == "2 selected"
    _wait_for_charts(page, 1)
    _shoot(page, shop, "dlq")
    redrive.click()
    page.wait_for_function("() => document.querySelector('#notice').textContent.length > 0")
    assert page.locator("#notice").inner_text() == "2 redriven"
    page.wait_for_function("() => document.querySelector('#depth').textContent.trim() === '0'")
    assert "no messages" in page.locator("#messages").inner_text()
    assert shop.depth("ShippingDLQ") == 0

    wait_until(
        lambda: shop.labelled(shop.shipping_dead), timeout=30, what="the redriven orders' labels"
    )


def test_a_script_in_a_body_shows_as_text_and_does_not_run(page: Page, shop: Shop) -> None:
    sent = shop.admin.post("/admin/api/queues/InventoryDLQ/messages", json={"body": XSS})
    assert sent.status_code == 201, sent.text
    message_id = sent.json()["message_id"]
    page.goto(shop.url + "/admin/queues/InventoryDLQ")
    row = page.locator(f"#messages tr[data-message='{message_id}']")
    assert row.locator("code.body-preview").inner_text() == XSS
    page.goto(f"{shop.url}/admin/queues/InventoryDLQ/messages/{message_id}")
    assert page.locator("#body").inner_text() == XSS
    page.wait_for_timeout(3_500)  # a live refresh too
    assert page.evaluate("() => typeof window.pwned") == "undefined"
    # Delete it again from its page (a CSRF-checked change through the session).
    page.click("button[data-action=delete]")
    page.wait_for_url(shop.url + "/admin/queues/InventoryDLQ")
    assert page.locator(f"#messages tr[data-message='{message_id}']").count() == 0
    assert page.evaluate("() => typeof window.pwned") == "undefined"
    assert shop.depth("InventoryDLQ") == 1
