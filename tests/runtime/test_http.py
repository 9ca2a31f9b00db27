"""The HTTP routes of an app, served by a real uvicorn on 127.0.0.1 and called with httpx.

Every test starts `serve` in a thread on a free port, waits for ``ready``,
and stops it with ``stop``. The handlers use a real database: a checkout
saves an order row and publishes to a topic with two subscribed queues in
one transaction, so "both or neither" is checked on the queues themselves.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
import pydantic
import pytest
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

import eventyard
from eventyard.runtime.http import create_asgi_app, serve
from eventyard.runtime.specs import RouteSpec

# -- the app under test ------------------------------------------------------------


class Item(pydantic.BaseModel):
    sku: str
    qty: int = pydantic.Field(gt=0)


class CheckoutRequest(pydantic.BaseModel):
    customer: str
    items: list[Item]
    total: float


def checkout(
    request: CheckoutRequest, tx: eventyard.Transaction, client: eventyard.Client
) -> tuple[int, dict[str, Any]]:
    cursor = tx.execute(
        "INSERT INTO orders (customer, total) VALUES (?, ?)", (request.customer, request.total)
    )
    tx.publish("orders", {"order_id": cursor.lastrowid, "customer": request.customer})
    if request.customer == "boom":
        raise RuntimeError("card declined for token sk_live_SECRET")
    # On the handler's thread a transaction joins the request's (same connection);
    # on any other thread it would wait for the request's write lock.
    with client.transaction() as inner:
        same = inner.connection is tx.connection
    return 201, {"order_id": cursor.lastrowid, "same_connection": same}


async def async_checkout(
    request: CheckoutRequest, tx: eventyard.Transaction, client: eventyard.Client
) -> tuple[int, dict[str, Any]]:
    await asyncio.sleep(0.01)
    return checkout(request, tx, client)


def unrenderable(tx: eventyard.Transaction) -> dict[str, Any]:
    tx.execute("INSERT INTO orders (customer, total) VALUES ('ghost', 1)")
    return {"when": object()}


def get_order(order_id: int, tx: eventyard.Transaction) -> Any:
    row = tx.execute("SELECT customer, total FROM orders WHERE id = ?", (order_id,)).fetchone()
    if row is None:
        return 404, {"error": "NoSuchOrder", "order_id": order_id}
    return {"order_id": order_id, "customer": row[0], "total": row[1]}


def search(
    q: Annotated[str, pydantic.StringConstraints(min_length=1, max_length=20)],
    limit: Annotated[int, pydantic.Field(ge=1, le=100)] = 10,
    exact: bool = False,
    min_total: float | None = None,
    sort: Literal["asc", "desc"] = "asc",
) -> dict[str, Any]:
    return {"q": q, "limit": limit, "exact": exact, "min_total": min_total, "sort": sort}


def put_queue(
    name: str, client: eventyard.Client, visibility_timeout: int = 30
) -> tuple[int, dict[str, Any]]:
    queue = client.create_queue(name, visibility_timeout=visibility_timeout)
    return 201, {"arn": queue.arn}


def queue_stats(name: str, client: eventyard.Client) -> dict[str, int]:
    return {"visible": client.get_queue(name).stats().visible}


def delete_queue(name: str, client: eventyard.Client) -> None:
    client.delete_queue(name)


def accepted(body: dict[str, Any]) -> tuple[int, None]:
    return 202, None


def upload(body: bytes) -> dict[str, int]:
    return {"size": len(body)}


def ping() -> str:
    return "pong"


def teapot() -> Response:
    return PlainTextResponse("short and stout", status_code=418)


def crash() -> None:
    raise RuntimeError("db password is hunter2")


def forbidden() -> None:
    raise HTTPException(403, "members only")


def bad_tuple() -> tuple[int, int, int]:
    return 1, 2, 3


async def async_echo(request: Request, body: Any, delay: float = 0.0) -> dict[str, Any]:
    await asyncio.sleep(delay)
    return {"echo": body, "header": request.headers.get("x-test"), "method": request.method}


async def async_missing(client: eventyard.Client) -> dict[str, Any]:
    return {"visible": client.get_queue("no-such-queue").stats().visible}


UPLOAD_LIMIT = 1024

ROUTES = [
    RouteSpec("POST", "/checkout", checkout, "checkout"),
    RouteSpec("POST", "/async/checkout", async_checkout, "async_checkout"),
    RouteSpec("POST", "/unrenderable", unrenderable, "unrenderable"),
    RouteSpec("GET", "/orders/{order_id}", get_order, "get_order"),
    RouteSpec("GET", "/search", search, "search"),
    RouteSpec("PUT", "/queues/{name}", put_queue, "put_queue"),
    RouteSpec("GET", "/queues/{name}", queue_stats, "queue_stats"),
    RouteSpec("DELETE", "/queues/{name}", delete_queue, "delete_queue"),
    RouteSpec("POST", "/accepted", accepted, "accepted"),
    RouteSpec("POST", "/upload", upload, "upload", max_body_bytes=UPLOAD_LIMIT),
    RouteSpec("POST", "/ping", ping, "ping", max_body_bytes=UPLOAD_LIMIT),
    RouteSpec("GET", "/teapot", teapot, "teapot"),
    RouteSpec("GET", "/crash", crash, "crash"),
    RouteSpec("GET", "/forbidden", forbidden, "forbidden"),
    RouteSpec("GET", "/bad-tuple", bad_tuple, "bad_tuple"),
    RouteSpec("POST", "/async/echo", async_echo, "async_echo"),
    RouteSpec("GET", "/async/missing", async_missing, "async_missing"),
]


# -- the server ----------------------------------------------------------------------


@dataclass
class Live:
    url: str
    http: httpx.Client
    stop: threading.Event
    thread: threading.Thread


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(routes: list[RouteSpec], client: eventyard.Client, **options: Any) -> Iterator[Live]:
    app = create_asgi_app(routes, lambda: client, **options)
    port = _free_port()
    ready, stop = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def run() -> None:
        try:
            serve(app, "127.0.0.1", port, ready=ready, stop=stop)
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=run, name="test-http-server", daemon=True)
    thread.start()
    assert ready.wait(10), f"the server did not start: {failures}"
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=10) as http:
            yield Live(url, http, stop, thread)
    finally:
        stop.set()
        thread.join(15)
    assert not thread.is_alive(), "the server did not stop"
    assert not failures


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[eventyard.Client]:
    with eventyard.connect(f"sqlite:///{tmp_path}/x.db") as client:
        with client.transaction() as tx:
            tx.execute(
                "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, total REAL NOT NULL)"
            )
        topic = client.create_topic("orders")
        topic.subscribe(client.create_queue("billing"), raw=True)
        topic.subscribe(client.create_queue("shipping"), raw=True)
        yield client


@pytest.fixture
def live(shop: eventyard.Client) -> Iterator[Live]:
    with running(ROUTES, shop) as server:
        yield server


def _orders(client: eventyard.Client) -> int:
    with client.transaction() as tx:
        return int(tx.execute("SELECT count(*) FROM orders").fetchone()[0])


def _visible(client: eventyard.Client) -> tuple[int, int]:
    billing, shipping = (client.get_queue(q).stats().visible for q in ("billing", "shipping"))
    return billing, shipping


ORDER = {"customer": "ada", "items": [{"sku": "tea", "qty": 2}], "total": 9.5}


# -- the transaction ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/checkout", "/async/checkout"])
def test_checkout_saves_the_row_and_publishes_together(
    live: Live, shop: eventyard.Client, path: str
) -> None:
    response = live.http.post(path, json=ORDER)
    assert response.status_code == 201, response.text
    assert response.json() == {"order_id": 1, "same_connection": True}
    assert _orders(shop) == 1
    assert _visible(shop) == (1, 1)
    (message,) = shop.get_queue("billing").receive()
    assert message.body == {"order_id": 1, "customer": "ada"}
    assert live.http.get("/orders/1").json() == {"order_id": 1, "customer": "ada", "total": 9.5}


@pytest.mark.parametrize("path", ["/checkout", "/async/checkout"])
def test_a_failing_checkout_keeps_neither_row_nor_messages(
    live: Live, shop: eventyard.Client, path: str
) -> None:
    response = live.http.post(path, json={**ORDER, "customer": "boom"})
    assert response.status_code == 500
    assert _orders(shop) == 0
    assert _visible(shop) == (0, 0)


def test_a_result_that_cannot_be_rendered_rolls_back(live: Live, shop: eventyard.Client) -> None:
    assert live.http.post("/unrenderable").status_code == 500
    assert _orders(shop) == 0


def test_concurrent_checkouts_each_get_their_own_transaction(
    live: Live, shop: eventyard.Client
) -> None:
    def one(n: int) -> int:
        path = "/checkout" if n % 2 else "/async/checkout"
        with httpx.Client(base_url=live.url, timeout=30) as http:
            response = http.post(path, json={**ORDER, "customer": f"c{n}"})
            assert response.json()["same_connection"] is True
            return response.status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(one, range(24)))
    assert statuses == [201] * 24
    assert _orders(shop) == 24
    assert _visible(shop) == (24, 24)


# -- binding ---------------------------------------------------------------------------


def test_invalid_body_gives_422_with_field_errors(live: Live, shop: eventyard.Client) -> None:
    bad = {"customer": 5, "items": [{"sku": "tea", "qty": "many"}, {"sku": "cup", "qty": 0}]}
    response = live.http.post("/checkout", json=bad)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert all(set(error) == {"loc", "msg", "type"} for error in detail)
    by_loc = {tuple(error["loc"]): error["type"] for error in detail}
    assert by_loc == {
        ("body", "customer"): "string_type",
        ("body", "items", 0, "qty"): "int_parsing",
        ("body", "items", 1, "qty"): "greater_than",
        ("body", "total"): "missing",
    }
    assert _orders(shop) == 0


@pytest.mark.parametrize(
    ("content", "loc", "kind"),
    [(b"", ["body"], "missing"), (b"[1, 2]", ["body"], "model_type")],
)
def test_an_empty_or_non_object_body_gives_422(
    live: Live, content: bytes, loc: list[str], kind: str
) -> None:
    response = live.http.post("/checkout", content=content)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert (error["loc"], error["type"]) == (loc, kind)


@pytest.mark.parametrize("content", [b'{"customer": "ada",', b"\xff\xfe{", b"NaN", b"[" * 5000])
def test_malformed_json_gives_400(live: Live, content: bytes) -> None:
    response = live.http.post("/checkout", content=content)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "MalformedJSON"
    assert body["message"].startswith("the request body is not valid JSON")


def test_path_parameters_are_converted(live: Live, shop: eventyard.Client) -> None:
    response = live.http.get("/orders/41")
    assert response.status_code == 404
    assert response.json() == {"error": "NoSuchOrder", "order_id": 41}
    bad = live.http.get("/orders/forty-one")
    assert bad.status_code == 422
    (error,) = bad.json()["detail"]
    assert error["loc"] == ["path", "order_id"]
    assert error["type"] == "int_parsing"


def test_query_parameters_by_name_and_type(live: Live) -> None:
    response = live.http.get("/search", params={"q": "tea", "limit": "5", "exact": "true"})
    assert response.json() == {
        "q": "tea",
        "limit": 5,
        "exact": True,
        "min_total": None,
        "sort": "asc",
    }
    response = live.http.get("/search", params={"q": "x", "min_total": "1.5", "sort": "desc"})
    assert response.json()["min_total"] == 1.5
    assert response.json()["sort"] == "desc"
    constrained = live.http.get("/search", params={"q": "x" * 21, "limit": "0"})
    assert {(tuple(e["loc"]), e["type"]) for e in constrained.json()["detail"]} == {
        (("query", "q"), "string_too_long"),
        (("query", "limit"), "greater_than_equal"),
    }
    bad = live.http.get("/search", params={"limit": "lots", "sort": "up"})
    assert bad.status_code == 422
    assert {(tuple(e["loc"]), e["type"]) for e in bad.json()["detail"]} == {
        (("query", "q"), "missing"),
        (("query", "limit"), "int_parsing"),
        (("query", "sort"), "literal_error"),
    }


def test_request_and_raw_json_body_in_an_async_handler(live: Live) -> None:
    response = live.http.post("/async/echo", json=[1, {"a": None}], headers={"x-test": "yes"})
    assert response.json() == {"echo": [1, {"a": None}], "header": "yes", "method": "POST"}


def test_async_handlers_run_concurrently_on_the_loop(live: Live) -> None:
    def one(n: int) -> int:
        with httpx.Client(base_url=live.url, timeout=10) as http:
            return http.post("/async/echo", params={"delay": "0.5"}, json=n).status_code

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=10) as pool:
        assert list(pool.map(one, range(10))) == [200] * 10
    assert time.monotonic() - started < 3.0  # 10 x 0.5 s in sequence would be 5 s


def test_handler_signatures_are_checked_when_the_app_is_built(shop: eventyard.Client) -> None:
    def star(*args: Any) -> None: ...
    def listy(tags: list[str]) -> None: ...
    def two_bodies(first: CheckoutRequest, body: dict[str, Any]) -> None: ...
    def opaque(body: socket.socket) -> None: ...

    for handler in (star, listy, two_bodies, opaque):
        with pytest.raises(TypeError, match=f"route GET /x \\({handler.__name__}\\)"):
            create_asgi_app([RouteSpec("GET", "/x", handler, handler.__name__)], lambda: shop)
    twice = [RouteSpec("GET", "/x", ping, "a"), RouteSpec("GET", "/x", ping, "b")]
    with pytest.raises(eventyard.InvalidParameterValue, match="declared twice"):
        create_asgi_app(twice, lambda: shop)


# -- size limits ---------------------------------------------------------------------------


def test_a_body_up_to_the_limit_is_accepted(live: Live) -> None:
    assert live.http.post("/upload", content=b"x" * UPLOAD_LIMIT).json() == {"size": UPLOAD_LIMIT}

    def chunks() -> Iterator[bytes]:
        yield b"x" * 500
        yield b"y" * 500

    assert live.http.post("/upload", content=chunks()).json() == {"size": 1000}


def test_a_content_length_past_the_limit_gives_413(live: Live) -> None:
    for path in ("/upload", "/ping"):  # /ping never reads its body
        response = live.http.post(path, content=b"x" * (UPLOAD_LIMIT + 1))
        assert response.status_code == 413
        assert response.json()["error"] == "RequestEntityTooLarge"


def test_a_chunked_body_past_the_limit_gives_413(live: Live) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(4):
            yield b"x" * 512

    response = live.http.post("/upload", content=chunks())
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert str(UPLOAD_LIMIT) in response.json()["message"]


def _raw_exchange(live: Live, head: bytes, body: bytes = b"") -> bytes:
    """Send a request head (and part of a body) and read the answer, the body left unfinished."""
    host, port = live.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(head + body)
        answer = b""
        while chunk := sock.recv(65536):  # the server closes after a 413
            answer += chunk
    return answer


def test_413_is_answered_without_waiting_for_the_rest_of_the_body(live: Live) -> None:
    declared = b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 50000000\r\n\r\n"
    assert _raw_exchange(live, declared).startswith(b"HTTP/1.1 413 ")
    chunked = b"POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = b"".join(b"200\r\n" + b"z" * 512 + b"\r\n" for _ in range(3))  # no last chunk
    assert _raw_exchange(live, chunked, body).startswith(b"HTTP/1.1 413 ")


# -- results ---------------------------------------------------------------------------------


def test_results_become_responses(live: Live) -> None:
    pong = live.http.post("/ping")
    assert (pong.status_code, pong.json()) == (200, "pong")
    assert pong.headers["content-type"] == "application/json"
    status = live.http.post("/accepted", json={"a": 1})
    assert (status.status_code, status.content) == (202, b"")
    tea = live.http.get("/teapot")
    assert (tea.status_code, tea.text) == (418, "short and stout")


def test_none_gives_204(live: Live, shop: eventyard.Client) -> None:
    assert live.http.put("/queues/scratch").status_code == 201
    response = live.http.delete("/queues/scratch")
    assert (response.status_code, response.content) == (204, b"")


# -- errors ------------------------------------------------------------------------------------


def test_eventyard_errors_map_to_statuses(live: Live) -> None:
    missing = live.http.get("/queues/nowhere")
    assert missing.status_code == 404
    assert missing.json()["error"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert "nowhere" in missing.json()["message"]

    bad = live.http.put("/queues/no spaces allowed")
    assert bad.status_code == 400
    assert bad.json()["error"] == "InvalidParameterValue"

    assert live.http.put("/queues/jobs", params={"visibility_timeout": 30}).status_code == 201
    assert live.http.put("/queues/jobs", params={"visibility_timeout": 30}).status_code == 201
    conflict = live.http.put("/queues/jobs", params={"visibility_timeout": 60})
    assert conflict.status_code == 409
    assert conflict.json()["error"] == "QueueAlreadyExists"

    assert live.http.delete("/queues/jobs").status_code == 204
    retry = live.http.put("/queues/jobs")
    assert retry.status_code == 503
    assert retry.headers["retry-after"] == "1"
    assert retry.json()["error"] == "AWS.SimpleQueueService.QueueDeletedRecently"


def test_async_handler_errors_map_too(live: Live) -> None:
    response = live.http.get("/async/missing")
    assert response.status_code == 404
    assert response.json()["error"] == "AWS.SimpleQueueService.NonExistentQueue"


def test_http_exceptions_keep_their_status_and_detail(live: Live) -> None:
    response = live.http.get("/forbidden")
    assert response.status_code == 403
    assert response.json() == {"error": "Forbidden", "message": "members only"}


def test_a_tuple_that_is_not_status_and_body_is_a_server_error(live: Live) -> None:
    assert live.http.get("/bad-tuple").status_code == 500


def test_unexpected_errors_give_a_generic_500_and_a_logged_traceback(
    live: Live, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="eventyard.runtime.http"):
        response = live.http.get("/crash")
    assert response.status_code == 500
    assert response.json()["error"] == "InternalError"
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text
    (record,) = [r for r in caplog.records if r.name == "eventyard.runtime.http"]
    assert record.exc_info is not None
    assert "hunter2" in str(record.exc_info[1])
    assert "GET /crash" in record.getMessage()


def test_unknown_paths_and_methods_answer_json(live: Live) -> None:
    missing = live.http.get("/nowhere")
    assert missing.status_code == 404
    assert missing.json() == {"error": "NotFound", "message": "no route matches GET /nowhere"}
    wrong = live.http.post("/queues/jobs")
    assert wrong.status_code == 405
    assert wrong.json()["error"] == "MethodNotAllowed"
    assert wrong.headers["allow"] == "DELETE, GET, HEAD, PUT"


def test_extra_routes_are_served_after_the_app_routes(shop: eventyard.Client) -> None:
    def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    with running(ROUTES, shop, extra_routes=[Route("/healthz", health)]) as live:
        assert live.http.get("/healthz").text == "ok"
        assert live.http.post("/ping").json() == "pong"


# -- serving ---------------------------------------------------------------------------------


def test_stop_lets_a_request_in_flight_finish(shop: eventyard.Client) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow() -> str:
        entered.set()
        release.wait(5)
        return "done"

    with running([RouteSpec("GET", "/slow", slow, "slow")], shop) as live:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(live.http.get, "/slow")
            assert entered.wait(5)
            live.stop.set()
            time.sleep(0.3)  # the server is shutting down now, the request still running
            release.set()
            assert pending.result(timeout=10).json() == "done"
        live.thread.join(10)
        assert not live.thread.is_alive()


def test_serve_raises_when_the_port_is_taken(shop: eventyard.Client) -> None:
    app = create_asgi_app([], lambda: shop)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match=f"127.0.0.1:{port}"):
            serve(app, "127.0.0.1", port, stop=threading.Event())


def test_a_lambda_style_route_gets_the_http_api_v2_event(shop: eventyard.Client) -> None:
    """A handler written for API Gateway + Lambda runs unchanged (powertools' data class too)."""
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        parsed = APIGatewayProxyEventV2(event)
        assert context.get_remaining_time_in_millis() > 0
        return {
            "statusCode": 201,
            "headers": {"x-order": parsed.path_parameters["order_id"]},
            "body": json.dumps(
                {
                    "route": event["routeKey"],
                    "q": parsed.query_string_parameters["q"],
                    "body": parsed.json_body,
                }
            ),
        }

    def broken(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"statusCode": "not a number"}

    routes = [
        RouteSpec("POST", "/orders/{order_id}", handler, "handler", style="lambda"),
        RouteSpec("GET", "/broken", broken, "broken", style="lambda"),
    ]
    with running(routes, shop) as live:
        response = live.http.post("/orders/42?q=x", json={"n": 1})
        assert response.status_code == 201
        assert response.headers["x-order"] == "42"
        assert response.json() == {"route": "POST /orders/{order_id}", "q": "x", "body": {"n": 1}}
        failed = live.http.get("/broken")
        assert failed.status_code == 500
        assert failed.json() == {"message": "Internal Server Error"}
