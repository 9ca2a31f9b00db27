"""Real HTTP endpoints on 127.0.0.1 for the webhook tests: a recording server, and a dead port.

`HookServer` is a `ThreadingHTTPServer` in a background thread. It records
every request (method, path, lower-cased headers, body, when it arrived) and
answers with what its ``respond`` function says, given the request and how
many requests with the same key (the SNS message id, or else the body)
arrived before it. Nothing of the HTTP layer is mocked.

`closed_port` gives a port nothing listens on (connection refused), which
`HookServer(port=...)` can open later: an endpoint that is down, then back.
`delivery_records` counts the dispatcher's pending records in a database.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests_support import count_rows

__all__ = [
    "HookServer",
    "Request",
    "always",
    "closed_port",
    "delivery_records",
    "fail_first",
    "wait_for",
]


@dataclass(frozen=True)
class Request:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    at: float  # time.monotonic() when it arrived

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def message_id(self) -> str | None:
        """The SNS message id header (topic deliveries), if any."""
        return self.headers.get("x-amz-sns-message-id")

    @property
    def key(self) -> str:
        """What identifies one notification across its retries."""
        return self.message_id or self.text


#: Decides the answer: (request, how many earlier requests had its key) -> HTTP status.
Respond = Callable[[Request, int], int]


def always(status: int) -> Respond:
    return lambda request, earlier: status


def fail_first(times: int, status: int = 500, then: int = 200) -> Respond:
    """``status`` for the first ``times`` attempts of each notification, then ``then``."""
    return lambda request, earlier: status if earlier < times else then


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        request = Request(
            self.command,
            self.path,
            {name.lower(): value for name, value in self.headers.items()},
            body,
            time.monotonic(),
        )
        status = self.server.hook.record(request)
        payload = b"ok" if 200 <= status <= 299 else f"status {status}".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog is 5: a burst of concurrent posts would see dropped
    # SYNs, retried by the kernel after 1 s, which the tests would take for a slow endpoint.
    request_queue_size = 128
    hook: HookServer

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hangs up (a dispatcher stopping) is not a test failure.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class HookServer:
    """A webhook endpoint on 127.0.0.1 (``port`` 0: any free port) that records requests.

    ``respond`` may also be replaced while the server runs (``server.respond = ...``).
    Use as a context manager, or call `stop`.
    """

    def __init__(self, respond: Respond | None = None, *, port: int = 0) -> None:
        self.respond: Respond = respond or always(200)
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        self._keys: Counter[str] = Counter()
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.hook = self
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"hook-server-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def record(self, request: Request) -> int:
        with self._lock:
            earlier = self._keys[request.key]
            self._keys[request.key] += 1
            self._requests.append(request)
        return self.respond(request, earlier)

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    def count(self) -> int:
        with self._lock:
            return len(self._requests)

    def per_key(self) -> Counter[str]:
        """How many requests each notification got."""
        with self._lock:
            return Counter(self._keys)

    def wait_for_requests(self, count: int, timeout: float) -> list[Request]:
        """Wait until at least ``count`` requests arrived (fail after ``timeout`` s)."""
        wait_for(
            lambda: self.count() >= count,
            timeout,
            lambda: f"{count} requests (got {self.count()})",
        )
        return self.requests

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> HookServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def closed_port() -> int:
    """A loopback port nothing listens on now: connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(
    condition: Callable[[], Any],
    timeout: float,
    what: str | Callable[[], str],
    interval: float = 0.02,
) -> Any:
    """Poll ``condition`` until it is truthy; AssertionError after ``timeout`` seconds.

    ``what`` (or what it returns, read at the timeout) names the wait in the failure.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            described = what() if callable(what) else what
            raise AssertionError(f"timed out after {timeout} s waiting for {described}")
        time.sleep(interval)


def delivery_records(database_url: str, where: str = "1=1") -> int:
    """Records in the dispatcher's internal queue (``eventyard:deliveries``) matching ``where``."""
    return count_rows(
        database_url,
        "eventyard_messages",
        "queue_id IN (SELECT id FROM eventyard_queues WHERE name = 'eventyard:deliveries')"
        f" AND ({where})",
    )
