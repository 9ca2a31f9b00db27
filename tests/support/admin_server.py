"""`serving`: the admin surface on a real uvicorn on loopback; `build_world`: things to see."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from starlette.routing import BaseRoute

import eventyard
from eventyard.admin.auth import LoginThrottle, SessionKeys
from eventyard.admin.surface import admin_routes
from eventyard.runtime.http import create_asgi_app, serve
from eventyard.runtime.specs import RouteSpec
from eventyard.store.records import FailureRecord

TOKEN = "test-admin-token-0123456789"


@dataclass
class Admin:
    url: str
    client: eventyard.Client
    keys: SessionKeys
    #: Sends the bearer token.
    http: httpx.Client
    #: Sends nothing (and keeps cookies: log in with it for a browser session).
    anon: httpx.Client

    def login(self) -> str:
        """Log ``anon`` in with the form; returns the session's CSRF token."""
        response = self.anon.post("/admin/login", data={"token": TOKEN})
        assert response.status_code == 303, response.text
        session = self.anon.get("/admin/api/session")
        assert session.status_code == 200, session.text
        return str(session.json()["csrf_token"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(
    client: eventyard.Client,
    *,
    app_routes: Sequence[RouteSpec] = (),
    throttle: LoginThrottle | None = None,
) -> Iterator[Admin]:
    keys = SessionKeys(TOKEN)
    routes: list[BaseRoute] = admin_routes(lambda: client, keys, TOKEN, throttle=throttle)
    app = create_asgi_app(app_routes, lambda: client, admin_routes=routes)
    port = _free_port()
    ready, stop = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=serve, args=(app, "127.0.0.1", port), kwargs={"ready": ready, "stop": stop}
    )
    thread.start()
    assert ready.wait(10), "the admin server did not start"
    url = f"http://127.0.0.1:{port}"
    try:
        with (
            httpx.Client(
                base_url=url, timeout=10, headers={"Authorization": f"Bearer {TOKEN}"}
            ) as http,
            httpx.Client(base_url=url, timeout=10) as anon,
        ):
            yield Admin(url, client, keys, http, anon)
    finally:
        stop.set()
        thread.join(15)
    assert not thread.is_alive()


def build_world(client: eventyard.Client) -> None:
    """Queues (one with a DLQ holding 3 messages), a FIFO pair, a topic, a rule, functions."""
    client.create_queue("orders-dlq")
    orders = client.create_queue("orders", dead_letter_queue="orders-dlq", max_receive_count=1)
    client.create_queue("jobs.fifo")
    for number in range(3):
        orders.send({"order": number}, attributes={"kind": "book"})
    failed = orders.receive(max_messages=10, visibility_timeout=0)
    client.store.record_failures(
        [
            FailureRecord(m.message_id, "orders", "ship", 1, "OutOfPaper", "<no paper>", "tb", 1)
            for m in failed
        ]
    )
    assert orders.receive(max_messages=10) == []  # all three move to the DLQ
    assert client.get_queue("orders-dlq").stats().visible == 3
    orders.send({"order": "fresh"})
    news = client.create_topic("news")
    news.subscribe(orders, raw=True)
    bus = client.bus()
    bus.put_rule("big", pattern={"detail": {"total": [{"numeric": [">", 100]}]}}).add_target(
        orders, id="to-orders"
    )
    bus.create_archive("everything")
    client.store.create_queue(
        "eventyard:fn:mailer", eventyard.QueueConfig(), client.now_ms()
    )  # an async function, as `eventyard run` makes it
    client.store.record_invocations("ship", client.now_ms(), 2, 1, 4, [12.0, 40.0])
