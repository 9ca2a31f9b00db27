"""One webhook delivery attempt, against real HTTP servers on loopback addresses.

Nothing of the HTTP layer is mocked: every test talks to a `ThreadingHTTPServer`
(or a raw socket) in a background thread and checks both what the sender reports
and what the server saw.
"""

from __future__ import annotations

import gzip
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from eventyard.delivery.endpoints import EVENTBRIDGE_USER_AGENT, SNS_USER_AGENT
from eventyard.delivery.webhook import (
    MAX_SNIPPET_BYTES,
    ErrorCode,
    RetryRule,
    WebhookSender,
    check_webhook_url,
    eventbridge_http_headers,
    is_retryable_status,
    sns_http_headers,
)
from eventyard.errors import InvalidParameterValue

TOPIC_ARN = "arn:aws:sns:us-east-1:000000000000:orders"
SUBSCRIPTION_ARN = TOPIC_ARN + ":0f6b7e3c-1d2a-4c5b-9e8f-a1b2c3d4e5f6"
MESSAGE_ID = "165545c9-2a5c-472c-8df2-7ff2be2b3b1b"


# -- a real HTTP server -------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    peer: tuple[str, int]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    endpoint: Endpoint

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.endpoint.record(Seen(self.command, self.path, headers, body, self.client_address))
        routes = self.endpoint.routes
        action = routes.get(self.path) or routes.get(self.path.split("?")[0]) or reply(200, b"ok")
        action(self)

    do_GET = do_POST  # a GET would only come from a wrongly followed 303

    def log_message(self, format: str, *args: object) -> None:
        pass


Action = Callable[[Handler], None]


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # A sender that hangs up on purpose (cut-off body, refused redirect) is expected;
        # anything else is printed as usual.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class Endpoint:
    """An HTTP/1.1 server on ``host`` in a background thread, answering by route."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.routes: dict[str, Action] = {}
        self.stopping = threading.Event()
        self._seen: list[Seen] = []
        self._lock = threading.Lock()
        handler = type("BoundHandler", (Handler,), {"endpoint": self})
        self.server = QuietServer((host, 0), handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def record(self, seen: Seen) -> None:
        with self._lock:
            self._seen.append(seen)

    @property
    def seen(self) -> list[Seen]:
        with self._lock:
            return list(self._seen)

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(2)


def reply(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Action:
    def act(handler: Handler) -> None:
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return act


def redirect(status: int, location: str) -> Action:
    return reply(status, b"moved", {"Location": location})


def after(seconds: float, then: Action) -> Action:
    def act(handler: Handler) -> None:
        if not handler.endpoint.stopping.wait(seconds):
            then(handler)

    return act


class Firehose:
    """Answers 200 with a close-delimited body that never ends (up to ``cap`` bytes)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.written = 0
        self.done = threading.Event()

    def __call__(self, handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain")
        handler.end_headers()
        handler.close_connection = True
        chunk = b"x" * 65536
        try:
            while self.written < self.cap:
                handler.wfile.write(chunk)
                self.written += len(chunk)
        except OSError:
            pass  # the sender hung up, as it should
        finally:
            self.done.set()


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    server = Endpoint()
    yield server
    server.stop()


@pytest.fixture
def second_endpoint() -> Iterator[Endpoint]:
    """Another server on 127.0.0.1 (same host, another port)."""
    server = Endpoint()
    yield server
    server.stop()


@pytest.fixture
def other_host() -> Iterator[Endpoint]:
    """A server on 127.0.0.2: another address, really another host to the sender."""
    try:
        server = Endpoint("127.0.0.2")
    except OSError:
        pytest.skip("127.0.0.2 is not routed to loopback here")
    yield server
    server.stop()


@pytest.fixture
def sender() -> Iterator[WebhookSender]:
    with WebhookSender() as webhook_sender:
        yield webhook_sender


# -- success ------------------------------------------------------------------------


def test_2xx_delivers_the_body_and_the_headers_exactly(
    endpoint: Endpoint, sender: WebhookSender
) -> None:
    body = '{"Type" : "Notification", "Message" : "héllo \\n wörld"}'.encode()
    headers = sns_http_headers("Notification", MESSAGE_ID, TOPIC_ARN, SUBSCRIPTION_ARN)
    headers["X-Custom-Token"] = "s3cr3t value\twith tab"
    endpoint.routes["/hook"] = reply(200, b"thanks")

    outcome = sender.send(endpoint.url("/hook?token=abc"), body, headers, timeout_seconds=5)

    assert outcome.ok
    assert outcome.status_code == 200
    assert outcome.error_code is None
    assert outcome.error_message is None
    assert not outcome.retryable
    assert outcome.response_snippet == "thanks"
    assert not outcome.response_truncated
    assert outcome.redirects == 0
    assert outcome.final_url == endpoint.url("/hook?token=abc")
    assert 0 <= outcome.duration_ms < 5000
    [seen] = endpoint.seen
    assert seen.method == "POST"
    assert seen.path == "/hook?token=abc"
    assert seen.body == body
    for name, value in headers.items():
        assert seen.headers[name.lower()] == value
    assert seen.headers["user-agent"] == SNS_USER_AGENT
    assert seen.headers["content-type"] == "text/plain; charset=UTF-8"
    assert seen.headers["content-length"] == str(len(body))
    assert "cookie" not in seen.headers
    assert "authorization" not in seen.headers


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_every_2xx_is_ok(endpoint: Endpoint, sender: WebhookSender, status: int) -> None:
    endpoint.routes["/hook"] = reply(status)
    outcome = sender.send(endpoint.url(), "text body", {}, timeout_seconds=5)
    assert (outcome.ok, outcome.status_code, outcome.retryable) == (True, status, False)
    assert endpoint.seen[0].body == b"text body"
    assert endpoint.seen[0].headers["user-agent"] == "eventyard-webhook"


def test_a_str_body_goes_out_as_utf8(endpoint: Endpoint, sender: WebhookSender) -> None:
    sender.send(endpoint.url(), "żółw 🐢", {}, timeout_seconds=5)
    assert endpoint.seen[0].body == "żółw 🐢".encode()


def test_connections_are_kept_alive_between_attempts(
    endpoint: Endpoint, sender: WebhookSender
) -> None:
    endpoint.routes["/hook"] = reply(500, b"x" * 10_000)  # a body that is drained, not cut
    sender.send(endpoint.url(), "1", {}, timeout_seconds=5)
    sender.send(endpoint.url(), "2", {}, timeout_seconds=5)
    first, second = endpoint.seen
    assert first.peer == second.peer


def test_cookies_are_neither_kept_nor_sent(endpoint: Endpoint, sender: WebhookSender) -> None:
    endpoint.routes["/login"] = reply(200, b"", {"Set-Cookie": "session=abc; Path=/"})
    sender.send(endpoint.url("/login"), "1", {}, timeout_seconds=5)
    sender.send(endpoint.url("/hook"), "2", {}, timeout_seconds=5)
    assert "cookie" not in endpoint.seen[1].headers


def test_one_sender_serves_many_threads(endpoint: Endpoint, sender: WebhookSender) -> None:
    results: list[bool] = []
    lock = threading.Lock()

    def deliver(n: int) -> None:
        for i in range(5):
            outcome = sender.send(endpoint.url(f"/t{n}"), f"{n}-{i}", {}, timeout_seconds=5)
            with lock:
                results.append(outcome.ok)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == [True] * 40
    assert sorted(seen.body for seen in endpoint.seen) == sorted(
        f"{n}-{i}".encode() for n in range(8) for i in range(5)
    )


# -- HTTP failures and the retry rule ----------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_a_retryable_failure(endpoint: Endpoint, sender: WebhookSender, status: int) -> None:
    endpoint.routes["/hook"] = reply(status, b"database is down")
    outcome = sender.send(endpoint.url("/hook?token=secret"), "m", {}, timeout_seconds=5)
    assert not outcome.ok
    assert outcome.status_code == status
    assert outcome.error_code == f"HttpStatus{status}"
    assert outcome.retryable
    assert outcome.response_snippet == "database is down"
    assert outcome.error_message is not None
    assert f"{endpoint.url('/hook')} answered HTTP {status}" in outcome.error_message
    assert "secret" not in outcome.error_message  # the query string stays out of messages


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 413, 429])
def test_4xx_is_a_permanent_failure_under_the_sns_rule(
    endpoint: Endpoint, sender: WebhookSender, status: int
) -> None:
    endpoint.routes["/hook"] = reply(status, b"no")
    outcome = sender.send(endpoint.url(), "m", {}, timeout_seconds=5)
    assert (outcome.ok, outcome.error_code, outcome.retryable) == (
        False,
        f"HttpStatus{status}",
        False,
    )


@pytest.mark.parametrize(
    ("status", "retryable"), [(429, True), (500, True), (503, True), (400, False), (404, False)]
)
def test_the_eventbridge_rule_retries_429_and_5xx(
    endpoint: Endpoint, sender: WebhookSender, status: int, retryable: bool
) -> None:
    endpoint.routes["/hook"] = reply(status)
    outcome = sender.send(
        endpoint.url(),
        "{}",
        {},
        timeout_seconds=5,
        retry_rule=RetryRule.EVENTBRIDGE_API_DESTINATION,
    )
    assert (outcome.ok, outcome.retryable) == (False, retryable)


def test_the_retry_rules_status_by_status() -> None:
    sns = {s: is_retryable_status(s) for s in (300, 304, 400, 404, 429, 499, 500, 503, 599, 600)}
    assert sns == {
        300: False,
        304: False,
        400: False,
        404: False,
        429: False,
        499: False,
        500: True,
        503: True,
        599: True,
        600: True,
    }
    eventbridge = RetryRule.EVENTBRIDGE_API_DESTINATION
    assert [is_retryable_status(s, eventbridge) for s in (304, 401, 409, 429, 500, 504)] == [
        False,
        False,
        False,
        True,
        True,
        True,
    ]


def test_retry_after_is_reported(endpoint: Endpoint, sender: WebhookSender) -> None:
    endpoint.routes["/seconds"] = reply(503, b"", {"Retry-After": "7"})
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    endpoint.routes["/date"] = reply(429, b"", {"Retry-After": later})
    endpoint.routes["/junk"] = reply(503, b"", {"Retry-After": "soon"})
    assert sender.send(endpoint.url("/seconds"), "m", {}, 5).retry_after_seconds == 7.0
    from_date = sender.send(endpoint.url("/date"), "m", {}, 5).retry_after_seconds
    assert from_date is not None
    assert 100 < from_date <= 120
    assert sender.send(endpoint.url("/junk"), "m", {}, 5).retry_after_seconds is None


def test_303_is_not_followed(endpoint: Endpoint, sender: WebhookSender) -> None:
    endpoint.routes["/hook"] = redirect(303, "/elsewhere")
    outcome = sender.send(endpoint.url(), "m", {}, timeout_seconds=5)
    assert (outcome.ok, outcome.error_code, outcome.retryable) == (False, "HttpStatus303", False)
    assert [seen.path for seen in endpoint.seen] == ["/hook"]


# -- transport failures --------------------------------------------------------------


def test_a_server_slower_than_the_timeout_is_a_timeout(
    endpoint: Endpoint, sender: WebhookSender
) -> None:
    endpoint.routes["/hook"] = after(3.0, reply(200))
    started = time.monotonic()
    outcome = sender.send(endpoint.url(), "m", {}, timeout_seconds=0.3)
    elapsed = time.monotonic() - started
    assert (outcome.ok, outcome.status_code) == (False, None)
    assert outcome.error_code == ErrorCode.TIMEOUT == "Timeout"
    assert outcome.retryable
    assert 0.25 <= elapsed < 1.0
    assert 250 <= outcome.duration_ms < 1000
    assert outcome.error_message == f"no response from {endpoint.url()} within 0.3 s"


def test_a_closed_port_is_connection_refused(sender: WebhookSender) -> None:
    with socket.socket() as bound_not_listening:  # holds the port, so nobody else takes it
        bound_not_listening.bind(("127.0.0.1", 0))
        port = bound_not_listening.getsockname()[1]
        outcome = sender.send(f"http://127.0.0.1:{port}/hook", "m", {}, timeout_seconds=2)
    assert (outcome.ok, outcome.status_code) == (False, None)
    assert outcome.error_code == "ConnectionRefused"
    assert outcome.retryable
    assert outcome.error_message == f"http://127.0.0.1:{port}/hook refused the connection"


def test_an_unknown_host_is_a_dns_failure(sender: WebhookSender) -> None:
    # .invalid never resolves (RFC 2606).
    outcome = sender.send("http://eventyard-webhook-test.invalid/hook", "m", {}, timeout_seconds=3)
    assert (outcome.ok, outcome.error_code, outcome.retryable) == (False, "DnsFailure", True)
    assert outcome.error_message is not None
    assert "eventyard-webhook-test.invalid" in outcome.error_message


def test_https_to_a_plain_http_server_is_a_tls_error(
    endpoint: Endpoint, sender: WebhookSender
) -> None:
    outcome = sender.send(f"https://127.0.0.1:{endpoint.port}/hook", "m", {}, timeout_seconds=3)
    assert (outcome.ok, outcome.error_code, outcome.retryable) == (False, "TLSError", True)
    assert outcome.error_message is not None
    assert outcome.error_message.startswith(f"TLS with https://127.0.0.1:{endpoint.port}/hook")


def test_a_server_that_does_not_speak_http_is_an_invalid_response(sender: WebhookSender) -> None:
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"SPEAKING GIBBERISH\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
        outcome = sender.send(url, "m", {}, timeout_seconds=3)
    finally:
        thread.join(2)
        listener.close()
    assert (outcome.ok, outcome.error_code, outcome.retryable) == (False, "InvalidResponse", True)


# -- redirects ----------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_on_the_same_host_is_followed_with_the_same_post(
    endpoint: Endpoint, sender: WebhookSender, status: int
) -> None:
    endpoint.routes["/hook"] = redirect(status, "/moved?v=2")
    endpoint.routes["/moved?v=2"] = reply(202, b"accepted")
    headers = {"Content-Type": "application/json", "X-Signature": "abc"}

    outcome = sender.send(endpoint.url(), b'{"a": 1}', headers, timeout_seconds=5)

    assert (outcome.ok, outcome.status_code, outcome.redirects) == (True, 202, 1)
    assert outcome.final_url == endpoint.url("/moved?v=2")
    assert outcome.response_snippet == "accepted"
    assert [(seen.method, seen.path, seen.body) for seen in endpoint.seen] == [
        ("POST", "/hook", b'{"a": 1}'),
        ("POST", "/moved?v=2", b'{"a": 1}'),
    ]
    assert endpoint.seen[1].headers["x-signature"] == "abc"


def test_an_absolute_redirect_to_the_same_origin_is_followed(
    endpoint: Endpoint, sender: WebhookSender
) -> None:
    endpoint.routes["/hook"] = redirect(308, endpoint.url("/v2"))
    outcome = sender.send(endpoint.url(), "m", {}, timeout_seconds=5)
    assert (outcome.ok, outcome.redirects) == (True, 1)


def test_a_redirect_to_another_host_is_refused_and_not_requested(
    endpoint: Endpoint, other_host: Endpoint, sender: WebhookSender
) -> None:
    endpoint.routes["/hook"] = redirect(307, other_host.url("/steal"))

    outcome = sender.send(endpoint.url(), "secret payload", {}, timeout_seconds=5)

    assert (outcome.ok, outcome.status_code) == (False, 307)
    assert outcome.error_code == "RedirectRefused"
    assert not outcome.retryable
    assert outcome.redirects == 0
    assert outcome.error_message is not None
    assert other_host.url("/steal") in outcome.error_message
    assert other_host.seen == []
    assert len(endpoint.seen) == 1


def test_a_redirect_to_another_port_is_refused_and_not_requested(
    endpoint: Endpoint, second_endpoint: Endpoint, sender: WebhookSender
) -> None:
    endpoint.routes["/hook"] = redirect(302, second_endpoint.url())
    outcome = sender.send(endpoint.url(), "m", {}, timeout_seconds=5)
    assert (outcome.ok, outcome.error_code, outcome.retryable) == (False, "RedirectRefused", False)
    assert second_endpoint.seen == []


@pytest.mark.parametrize(
    "location",
    [
        # Same server, other name: hosts are compared as written, never as resolved.
        "http://localhost:{port}/hook2",
        "https://127.0.0.1:{port}/hook2",  # other scheme
        "http://user:pw@127.0.0.1:{port}/hook2",  # credentials
    ],
)
def test_a_redirect_to_another_origin_or_with_credentials_is_refused(
    endpoint: Endpoint, sender: WebhookSender, location: str
) -> None:
    endpoint.routes["/hook"] = redirect(307, location.format(port=endpoint.port))
    outcome = sender.send(endpoint.url(), "m", {}, timeout_seconds=5)
    assert (outcome.ok, outcome.error_code) == (False, "RedirectRefused")
    assert [seen.path for seen in endpoint.seen] == ["/hook"]
    assert outcome.error_message is not None
    assert "pw" not in outcome.error_message


def test_a_redirect_without_location_is_refused(endpoint: Endpoint, sender: WebhookSender) -> None:
    endpoint.routes["/hook"] = reply(302)
    outcome = sender.send(endpoint.url(), "m", {}, timeout_seconds=5)
    assert (outcome.ok, outcome.error_code, outcome.retryable) == (False, "RedirectRefused", False)
    assert outcome.error_message is not None
    assert "no Location" in outcome.error_message


def test_a_redirect_loop_stops_after_3(endpoint: Endpoint, sender: WebhookSender) -> None:
    endpoint.routes["/hook"] = redirect(302, "/hook")
    outcome = sender.send(endpoint.url(), "m", {}, timeout_seconds=5)
    assert (outcome.ok, outcome.status_code) == (False, 302)
    assert outcome.error_code == "TooManyRedirects"
    assert not outcome.retryable
    assert outcome.redirects == 3
    assert len(endpoint.seen) == 4  # the first request and 3 redirects


def test_three_redirects_are_allowed(endpoint: Endpoint, sender: WebhookSender) -> None:
    endpoint.routes["/hook"] = redirect(307, "/a")
    endpoint.routes["/a"] = redirect(307, "/b")
    endpoint.routes["/b"] = redirect(307, "/c")
    outcome = sender.send(endpoint.url(), "m", {}, timeout_seconds=5)
    assert (outcome.ok, outcome.redirects, outcome.final_url) == (True, 3, endpoint.url("/c"))


# -- the response body -----------------------------------------------------------------


def test_a_huge_response_is_not_read_whole(endpoint: Endpoint, sender: WebhookSender) -> None:
    firehose = Firehose(cap=1 << 30)
    endpoint.routes["/hook"] = firehose
    started = time.monotonic()

    outcome = sender.send(endpoint.url(), "m", {}, timeout_seconds=5)

    assert outcome.ok
    assert outcome.response_truncated
    assert outcome.response_snippet == "x" * MAX_SNIPPET_BYTES
    assert firehose.done.wait(5), "the server should see the sender hang up"
    assert firehose.written < 64 << 20  # socket buffers, not the 1 GiB on offer
    assert time.monotonic() - started < 5


def test_the_snippet_is_1_kib_of_utf8(endpoint: Endpoint, sender: WebhookSender) -> None:
    endpoint.routes["/hook"] = reply(500, ("a" + "é" * 1000).encode())
    outcome = sender.send(endpoint.url(), "m", {}, timeout_seconds=5)
    # 1 + 511 * 2 = 1023 bytes: the é cut in half at byte 1024 is dropped, not mangled.
    assert outcome.response_snippet == "a" + "é" * 511
    assert outcome.response_truncated


def test_invalid_utf8_is_replaced_in_the_snippet(endpoint: Endpoint, sender: WebhookSender) -> None:
    endpoint.routes["/hook"] = reply(500, b"bad \xff byte")
    outcome = sender.send(endpoint.url(), "m", {}, timeout_seconds=5)
    assert outcome.response_snippet == "bad \ufffd byte"
    assert not outcome.response_truncated


def test_a_gzip_body_is_decoded_for_the_snippet(endpoint: Endpoint, sender: WebhookSender) -> None:
    endpoint.routes["/hook"] = reply(
        500, gzip.compress(b"boom " * 2000), {"Content-Encoding": "gzip"}
    )
    outcome = sender.send(endpoint.url(), "m", {}, timeout_seconds=5)
    assert outcome.response_snippet == ("boom " * 2000)[:MAX_SNIPPET_BYTES]
    assert outcome.response_truncated
    assert endpoint.seen[0].headers["accept-encoding"] == "identity"


# -- programming errors raise ------------------------------------------------------


def test_send_raises_for_programming_errors(endpoint: Endpoint, sender: WebhookSender) -> None:
    with pytest.raises(InvalidParameterValue, match="url 'ftp://x/' has scheme 'ftp'"):
        sender.send("ftp://x/", "m", {})
    with pytest.raises(InvalidParameterValue, match="'Content-Length' is set by the HTTP client"):
        sender.send(endpoint.url(), "m", {"Content-Length": "1"})
    with pytest.raises(InvalidParameterValue, match="header 'X-A' has value"):
        sender.send(endpoint.url(), "m", {"X-A": "one\r\nX-B: injected"})
    with pytest.raises(InvalidParameterValue, match="is not an HTTP token"):
        sender.send(endpoint.url(), "m", {"Bad Name": "v"})
    with pytest.raises(InvalidParameterValue, match="given twice"):
        sender.send(endpoint.url(), "m", {"X-A": "1", "x-a": "2"})
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(InvalidParameterValue, match="timeout_seconds"):
            sender.send(endpoint.url(), "m", {}, timeout_seconds=bad)
    with pytest.raises(TypeError, match="body must be str or bytes, got dict"):
        sender.send(endpoint.url(), {"a": 1}, {})  # type: ignore[arg-type]
    assert endpoint.seen == []
    sender.close()
    sender.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        sender.send(endpoint.url(), "m", {})


# -- URL validation --------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com",
        "https://example.com/hooks/sns?token=abc",
        "HTTPS://Example.COM:8443/x",
        "http://127.0.0.1:8080/hook",
        "http://[::1]:9000/",
        "https://bücher.example/ünïcode",
        "https://example.com/" + "a" * (2048 - 20),
    ],
)
def test_good_urls_are_returned_unchanged(url: str) -> None:
    assert check_webhook_url(url) == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "ftp://example.com/x",
            "Endpoint 'ftp://example.com/x' has scheme 'ftp'; only http:// and",
        ),
        ("example.com/hook", "Endpoint 'example.com/hook' has no scheme; only http://"),
        ("file:///etc/passwd", "has scheme 'file'"),
        ("http:///hook", "Endpoint 'http:///hook' has no host"),
        ("https://user:hunter2@example.com/", "Endpoint 'https://***@example.com/' holds a user"),
        ("https://token@example.com/", "holds a user name or password"),
        ("http://example.com:0/", "has port 0; a port is 1 to 65535"),
        ("http://example.com:99999/", "has port 99999"),
        ("http://exa mple.com/", "holds U+0020 at position 10; a URL must not contain whitespace"),
        ("http://example.com/\n", "holds U+000A"),
        ("", "must not be empty"),
        ("https://example.com/" + "a" * 2029, "is 2049 characters long; the limit is 2048"),
    ],
)
def test_bad_urls_are_rejected_with_the_value_and_the_rule(url: str, message: str) -> None:
    with pytest.raises(InvalidParameterValue, match=re.escape(message)) as caught:
        check_webhook_url(url)
    assert "hunter2" not in str(caught.value)


def test_a_url_that_is_not_a_string_is_rejected() -> None:
    with pytest.raises(InvalidParameterValue, match="Endpoint must be a string, got int"):
        check_webhook_url(42)


# -- headers -------------------------------------------------------------------------


def test_sns_headers_are_the_ones_sns_sends() -> None:
    assert sns_http_headers("Notification", MESSAGE_ID, TOPIC_ARN, SUBSCRIPTION_ARN) == {
        "x-amz-sns-message-type": "Notification",
        "x-amz-sns-message-id": MESSAGE_ID,
        "x-amz-sns-topic-arn": TOPIC_ARN,
        "x-amz-sns-subscription-arn": SUBSCRIPTION_ARN,
        "Content-Type": "text/plain; charset=UTF-8",
        "User-Agent": "Amazon Simple Notification Service Agent",
    }


def test_a_subscription_confirmation_has_no_subscription_arn_header() -> None:
    headers = sns_http_headers(
        "SubscriptionConfirmation", MESSAGE_ID, TOPIC_ARN, None, content_type="application/json"
    )
    assert "x-amz-sns-subscription-arn" not in headers
    assert headers["Content-Type"] == "application/json"


def test_sns_headers_reject_bad_values() -> None:
    with pytest.raises(InvalidParameterValue, match="message_type 'Bogus' is not one of"):
        sns_http_headers("Bogus", MESSAGE_ID, TOPIC_ARN, None)
    with pytest.raises(InvalidParameterValue, match="message_id '' must be a non-empty"):
        sns_http_headers("Notification", "", TOPIC_ARN, None)
    with pytest.raises(InvalidParameterValue, match="topic_arn"):
        sns_http_headers("Notification", MESSAGE_ID, "arn\r\nX: y", None)


def test_eventbridge_headers_and_target_header_parameters() -> None:
    assert eventbridge_http_headers() == {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": EVENTBRIDGE_USER_AGENT,
    }
    merged = eventbridge_http_headers({"x-api-key": "k", "content-type": "application/cloudevents"})
    assert merged == {
        "User-Agent": "Amazon/EventBridge/ApiDestinations",
        "x-api-key": "k",
        "content-type": "application/cloudevents",
    }
    with pytest.raises(InvalidParameterValue, match="'Host' is set by the HTTP client"):
        eventbridge_http_headers({"Host": "evil.example"})


def test_eventbridge_headers_reach_the_endpoint(endpoint: Endpoint, sender: WebhookSender) -> None:
    outcome = sender.send(
        endpoint.url(),
        '{"detail-type": "order placed"}',
        eventbridge_http_headers({"x-api-key": "k"}),
        timeout_seconds=5,
        retry_rule=RetryRule.EVENTBRIDGE_API_DESTINATION,
    )
    assert outcome.ok
    seen = endpoint.seen[0]
    assert seen.headers["user-agent"] == "Amazon/EventBridge/ApiDestinations"
    assert seen.headers["content-type"] == "application/json; charset=utf-8"
    assert seen.headers["x-api-key"] == "k"
