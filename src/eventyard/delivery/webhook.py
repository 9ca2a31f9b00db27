"""One webhook delivery attempt: the URL rules, the POST, and an honest report of what happened.

Topics deliver to ``http``/``https`` subscriptions and event-bus rules deliver to
webhook targets. A durable dispatcher owns retries, backoff and dead-letter queues;
for each attempt it calls `WebhookSender.send` and gets a `WebhookOutcome` back.

What this module is
    * `check_webhook_url` (from `eventyard.delivery.endpoints`): the rules an endpoint
      must pass when it is subscribed.
    * `WebhookSender`: one POST of a body, as given, to an endpoint. It bounds the
      time (`timeout_seconds`, connect capped at 5 s), follows at most 3 redirects and
      only within the same scheme, host and port, reads at most about 64 KiB of the
      response and keeps a 1 KiB snippet of it. A delivery failure is never raised:
      it is an outcome with an error code, a short message and ``retryable``.
    * `sns_http_headers` / `eventbridge_http_headers` (also from `endpoints`): the
      headers SNS sends to HTTP/S subscriptions and EventBridge to API destinations.

What it is not
    * No retries, backoff, throttling or dead-lettering: that is the dispatcher's.
    * No message formats: the SNS JSON envelope (and its signature) and the
      EventBridge event are built by the caller; the body goes out byte for byte.
    * No SSRF policy: loopback and private addresses are allowed, because
      self-hosted receivers live there. Whoever takes endpoints from untrusted users
      must add that check.
    * No ambient configuration: no proxies from the environment, no ``.netrc``
      credentials, no cookies kept between deliveries (a receiver's cookie would
      otherwise leak into the next delivery, possibly for another subscription).

The retry rule (``WebhookOutcome.retryable``)
    Default, `RetryRule.SNS_HTTP`, after the SNS developer guide: "If your endpoint
    does not respond before the connection times out or if your endpoint returns a
    status code outside the range of 200-4xx, Amazon SNS will consider the delivery
    of the message as a failed attempt" and retries it ("Step 1: Make sure your
    endpoint is ready to process Amazon SNS messages"), while "Amazon SNS doesn't
    retry the message delivery that fails as a result of a client-side error"
    ("Amazon SNS dead-letter queues"). So:

    * 2xx: delivered (``ok``).
    * 3xx (not followed) and 4xx, 429 included: a failure that is NOT retryable. SNS
      itself neither retries these nor counts them as failed; we report ``ok=False``
      so that the dispatcher can dead-letter the message instead of dropping it.
    * 5xx and any other status outside 200-499: retryable.
    * No response (timeout, refused, DNS failure, TLS failure, broken connection,
      invalid response): retryable, like SNS's "server-side errors (when the system
      that hosts the subscribed endpoint becomes unavailable)". A TLS failure is
      retryable too: an expired certificate is fixed on the endpoint's side.
    * A refused redirect or a redirect loop: NOT retryable (it will not change).

    `RetryRule.EVENTBRIDGE_API_DESTINATION`, for bus webhook targets, follows the
    EventBridge user guide ("API destination error codes"): 429 and 5xx are retried,
    1xx-4xx other than 429 are not; transport failures are retried as above. Newer
    revisions of that page may also list 401, 407 and 409 (OAuth token refresh);
    eventyard has no OAuth connections, so they are not retried here.
"""

from __future__ import annotations

import codecs
import email.utils
import enum
import math
import re
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from typing import Final, Self

import httpx

from eventyard.delivery.endpoints import (
    DEFAULT_PORTS,
    _merge_headers,
    check_webhook_url,
    eventbridge_http_headers,
    sns_http_headers,
)
from eventyard.errors import InvalidParameterValue
from eventyard.model.names import shorten

__all__ = [
    "RetryRule",
    "WebhookOutcome",
    "WebhookSender",
    "check_webhook_url",
    "eventbridge_http_headers",
    "is_retryable_status",
    "sns_http_headers",
]

#: Redirects followed per attempt (same scheme, host and port only).
MAX_REDIRECTS: Final = 3
#: Response bytes read per attempt; a body up to this size is drained so that the
#: connection can be reused, a larger one is cut off and the connection closed.
MAX_RESPONSE_READ_BYTES: Final = 64 * 1024
#: Bytes of the response body kept in `WebhookOutcome.response_snippet`.
MAX_SNIPPET_BYTES: Final = 1024
#: SNS: "The connection will time out in 15 seconds."
DEFAULT_TIMEOUT_SECONDS: Final = 15.0
#: Establishing a TCP/TLS connection never gets longer than this.
MAX_CONNECT_TIMEOUT_SECONDS: Final = 5.0

#: Sent when the caller's headers carry no ``User-Agent``.
DEFAULT_USER_AGENT: Final = "eventyard-webhook"


class ErrorCode:
    """The values of `WebhookOutcome.error_code`, besides ``HttpStatus<code>``."""

    HTTP_STATUS_PREFIX: Final = "HttpStatus"
    TIMEOUT: Final = "Timeout"
    CONNECTION_REFUSED: Final = "ConnectionRefused"
    DNS_FAILURE: Final = "DnsFailure"
    TLS_ERROR: Final = "TLSError"
    #: Connecting failed otherwise (network unreachable, host down ...).
    CONNECTION_FAILED: Final = "ConnectionFailed"
    #: The connection broke while the request or the response was on its way.
    CONNECTION_LOST: Final = "ConnectionLost"
    #: The endpoint answered something that is not HTTP/1.1 (or closed without answering).
    INVALID_RESPONSE: Final = "InvalidResponse"
    #: A redirect to another scheme, host or port, with credentials, or without a usable Location.
    REDIRECT_REFUSED: Final = "RedirectRefused"
    TOO_MANY_REDIRECTS: Final = "TooManyRedirects"
    #: Any other transport failure.
    REQUEST_FAILED: Final = "RequestFailed"


class RetryRule(enum.StrEnum):
    """Which service's rule decides whether an HTTP status is worth a retry (see the module doc)."""

    #: 5xx (any status outside 200-499) retried; 3xx and 4xx, 429 included, not.
    SNS_HTTP = "sns-http"
    #: 429 and 5xx retried; everything else not.
    EVENTBRIDGE_API_DESTINATION = "eventbridge-api-destination"


def is_retryable_status(status_code: int, rule: RetryRule = RetryRule.SNS_HTTP) -> bool:
    """Whether a non-2xx ``status_code`` is worth another attempt under ``rule``."""
    if rule is RetryRule.EVENTBRIDGE_API_DESTINATION:
        return status_code == 429 or status_code >= 500
    return not 200 <= status_code <= 499


@dataclass(frozen=True, slots=True)
class WebhookOutcome:
    """What one delivery attempt did."""

    #: The endpoint answered 2xx.
    ok: bool
    #: The last HTTP status received (a redirect's when a redirect was refused), or None.
    status_code: int | None
    #: None when ``ok``; else ``HttpStatus<code>`` or one of `ErrorCode`.
    error_code: str | None
    #: None when ``ok``; else what happened and where (the URL without its query string).
    error_message: str | None
    #: Whether another attempt later can succeed (the rule is in the module doc).
    retryable: bool
    #: Wall time of the whole attempt, redirects included.
    duration_ms: int
    #: Up to 1 KiB of the last response body, as text (invalid UTF-8 replaced).
    response_snippet: str = ""
    #: The body was longer than the snippet (or was cut off, or could not be decoded).
    response_truncated: bool = False
    #: The URL of the last request made (differs from the one given after redirects).
    final_url: str = ""
    #: Redirects followed.
    redirects: int = 0
    #: The ``Retry-After`` of a failed response, in seconds, when it sent one. Only a
    #: hint: SNS ignores it; EventBridge waits the longer of it and its own backoff.
    retry_after_seconds: float | None = None


# Redirects that are followed by POSTing the same body again. 303 ("See Other") is
# not: it means "the answer to your POST is elsewhere" and would make the POST a GET.
_FOLLOWED_REDIRECTS: Final = frozenset({301, 302, 307, 308})


def _origin(url: httpx.URL) -> tuple[str, str, int]:
    return url.scheme, url.host.lower(), url.port or DEFAULT_PORTS.get(url.scheme, 0)


def _origin_text(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _where(url: httpx.URL) -> str:
    """The URL for a message: no query string (webhook URLs often carry tokens there)."""
    return _clip(_origin_text(url) + url.path, 120)


def _redirect_target(current: httpx.URL, location: str | None) -> httpx.URL | str:
    """The URL to follow, or the reason a redirect is refused."""
    if not location:
        return "it has no Location header"
    try:
        target = current.join(location.strip())
    except httpx.InvalidURL as exc:
        return f"its Location {shorten(location)} is not a valid URL ({exc})"
    if target.userinfo:
        return "its Location holds a user name or password"
    if _origin(target) != _origin(current):
        return (
            f"it points to {_where(target)}; only redirects to the same scheme, host and "
            f"port ({_origin_text(current)}) are followed"
        )
    return target.copy_with(fragment=None)


def _body_bytes(body: object) -> bytes:
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    raise TypeError(f"body must be str or bytes, got {type(body).__name__}")


def _checked_timeout(timeout_seconds: object) -> float:
    if (
        isinstance(timeout_seconds, bool)
        or not isinstance(timeout_seconds, int | float)
        or not math.isfinite(timeout_seconds)
        or timeout_seconds <= 0
    ):
        raise InvalidParameterValue(
            f"timeout_seconds {shorten(timeout_seconds)} must be a finite number above 0"
        )
    return float(timeout_seconds)


def _hop_timeout(remaining: float) -> httpx.Timeout:
    return httpx.Timeout(
        connect=min(remaining, MAX_CONNECT_TIMEOUT_SECONDS),
        read=remaining,
        write=remaining,
        pool=remaining,
    )


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions it was raised from (httpx wraps httpcore wraps OSError)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _classify(exc: httpx.TransportError, url: httpx.URL, timeout: float) -> tuple[str, str]:
    """``(error code, message)`` for a failure to get a response at all."""
    where = _where(url)
    detail = _clip(str(exc) or type(exc).__name__, 160)
    if isinstance(exc, httpx.ConnectTimeout):
        seconds = min(timeout, MAX_CONNECT_TIMEOUT_SECONDS)
        return ErrorCode.TIMEOUT, f"connecting to {where} timed out after {seconds:g} s"
    if isinstance(exc, httpx.PoolTimeout):
        return ErrorCode.TIMEOUT, f"no free connection for {where} within {timeout:g} s"
    if isinstance(exc, httpx.WriteTimeout):
        return ErrorCode.TIMEOUT, f"sending the request to {where} timed out after {timeout:g} s"
    if isinstance(exc, httpx.TimeoutException):
        return ErrorCode.TIMEOUT, f"no response from {where} within {timeout:g} s"
    causes = list(_causes(exc))
    if any(isinstance(cause, ssl.SSLError) for cause in causes):
        return ErrorCode.TLS_ERROR, f"TLS with {where} failed: {detail}"
    if isinstance(exc, httpx.ConnectError):
        if any(isinstance(cause, socket.gaierror) for cause in causes):
            return ErrorCode.DNS_FAILURE, f"could not resolve host {url.host!r} ({detail})"
        if any(isinstance(cause, ConnectionRefusedError) for cause in causes):
            return ErrorCode.CONNECTION_REFUSED, f"{where} refused the connection"
        return ErrorCode.CONNECTION_FAILED, f"could not connect to {where}: {detail}"
    if isinstance(exc, httpx.LocalProtocolError):
        # We built a request h11 refuses: a bug here or in the caller, not a delivery failure.
        raise exc
    if isinstance(exc, httpx.RemoteProtocolError):
        return ErrorCode.INVALID_RESPONSE, f"{where} did not send a valid HTTP response: {detail}"
    if isinstance(exc, httpx.NetworkError):
        return ErrorCode.CONNECTION_LOST, f"the connection to {where} broke: {detail}"
    return ErrorCode.REQUEST_FAILED, f"the request to {where} failed: {detail}"


def _read_prefix(response: httpx.Response, limit: int, deadline: float) -> tuple[bytes, bool]:
    """Up to about ``limit`` raw body bytes, and whether that is the whole body.

    Stops at ``limit`` or at the deadline. A transport error after the status line
    arrived only shortens what is kept: the status is the endpoint's answer.
    """
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_raw():
            chunks.append(chunk)
            size += len(chunk)
            if size >= limit or time.monotonic() >= deadline:
                return b"".join(chunks)[:limit], False
    except httpx.TransportError:
        return b"".join(chunks)[:limit], False
    return b"".join(chunks), True


def _inflate(raw: bytes, coding: str) -> tuple[bytes, bool] | None:
    """At most a snippet's worth of a gzip/deflate body, and whether it ended; None if broken."""
    # 47: zlib or gzip header, detected; -15: raw deflate (what some servers call deflate).
    for wbits in (47, -15) if coding == "deflate" else (47,):
        inflater = zlib.decompressobj(wbits)
        try:
            data = inflater.decompress(raw, MAX_SNIPPET_BYTES + 1)
        except zlib.error:
            continue
        return data, inflater.eof
    return None


def _snippet(raw: bytes, complete: bool, content_encoding: str) -> tuple[str, bool]:
    """``(up to 1 KiB of the body as text, whether the text is the whole body)``."""
    coding = content_encoding.strip().lower()
    if coding in ("", "identity"):
        data, ended = raw, complete
    elif coding in ("gzip", "x-gzip", "deflate"):
        inflated = _inflate(raw, coding)
        if inflated is None:
            return f"[{coding}-encoded body that does not decode]", True
        data, ended = inflated
    else:
        return f"[{shorten(coding, 40)}-encoded body, not decoded]", True
    cut = len(data) > MAX_SNIPPET_BYTES
    # Incremental decoding drops a character cut in half at the end instead of
    # showing U+FFFD; invalid bytes elsewhere are replaced.
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    text = decoder.decode(data[:MAX_SNIPPET_BYTES], final=not cut)
    return text, cut or not ended


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), or None."""
    if value is None:
        return None
    value = value.strip()
    if re.fullmatch(r"[0-9]{1,10}", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class WebhookSender:
    """Makes webhook delivery attempts over one pooled `httpx.Client`.

    One sender serves all threads: `send` may be called concurrently (httpx's client
    can be shared between threads; the sender itself keeps no per-request state).
    `close` (or leaving the ``with`` block) closes the connections; `send` after that
    is a programming error and raises `RuntimeError`.

    ``verify``: an `ssl.SSLContext` with the CAs to trust for https endpoints; by
    default the system's usual bundle. Environment settings (``SSL_CERT_FILE``,
    proxies, ``.netrc``) are ignored on purpose.
    """

    def __init__(
        self,
        *,
        max_redirects: int = MAX_REDIRECTS,
        max_read_bytes: int = MAX_RESPONSE_READ_BYTES,
        max_connections: int = 100,
        verify: ssl.SSLContext | None = None,
    ) -> None:
        if max_redirects < 0:
            raise InvalidParameterValue(f"max_redirects {max_redirects} must be 0 or more")
        if max_read_bytes < MAX_SNIPPET_BYTES:
            raise InvalidParameterValue(
                f"max_read_bytes {max_read_bytes} must be at least {MAX_SNIPPET_BYTES}"
            )
        if max_connections < 1:
            raise InvalidParameterValue(f"max_connections {max_connections} must be 1 or more")
        self._max_redirects = max_redirects
        self._max_read_bytes = max_read_bytes
        self._lock = threading.Lock()
        self._closed = False
        self._client = httpx.Client(
            follow_redirects=False,
            trust_env=False,
            verify=verify if verify is not None else True,
            # A policy that accepts no domain: cookies are never stored nor sent.
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            headers={
                "User-Agent": DEFAULT_USER_AGENT,
                "Accept": "*/*",
                # So that the read bound counts the bytes on the wire, not a decompressed bomb.
                "Accept-Encoding": "identity",
            },
            limits=httpx.Limits(
                max_connections=max_connections,
                max_keepalive_connections=min(20, max_connections),
            ),
            timeout=_hop_timeout(DEFAULT_TIMEOUT_SECONDS),
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections. Safe to call more than once."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._client.close()

    def send(
        self,
        url: str,
        body: str | bytes,
        headers: Mapping[str, str],
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        *,
        retry_rule: RetryRule = RetryRule.SNS_HTTP,
    ) -> WebhookOutcome:
        """POST ``body`` (str is sent as UTF-8) with ``headers`` to ``url``, once.

        ``timeout_seconds`` is the budget of the whole attempt, redirects included:
        each network wait gets what is left of it (connecting at most 5 s) and the
        body read stops when it is spent. (A server that trickles its status line
        and headers byte by byte can still stretch an attempt: each wait is bounded,
        not their sum.) A delivery failure is returned, never raised. Raised, as
        programming errors: `InvalidParameterValue` for a URL that `check_webhook_url`
        rejects, a header that is not valid HTTP or is one the client owns
        (``Host``, ``Content-Length``, ``Connection`` ...), or a timeout that is not a
        positive number; `TypeError` for a body that is not str or bytes;
        `RuntimeError` after `close`.
        """
        check_webhook_url(url, "url")
        content = _body_bytes(body)
        request_headers = _merge_headers({}, headers)
        timeout = _checked_timeout(timeout_seconds)
        rule = RetryRule(retry_rule)
        with self._lock:
            if self._closed:
                raise RuntimeError("this WebhookSender is closed")
        started = time.monotonic()
        deadline = started + timeout
        target = httpx.URL(url)
        redirects = 0

        def finish(
            *,
            ok: bool,
            status_code: int | None,
            error_code: str | None,
            error_message: str | None,
            retryable: bool,
            snippet: tuple[str, bool] = ("", False),
            retry_after: float | None = None,
        ) -> WebhookOutcome:
            return WebhookOutcome(
                ok=ok,
                status_code=status_code,
                error_code=error_code,
                error_message=error_message,
                retryable=retryable,
                duration_ms=max(0, round((time.monotonic() - started) * 1000)),
                response_snippet=snippet[0],
                response_truncated=snippet[1],
                final_url=str(target),
                redirects=redirects,
                retry_after_seconds=retry_after,
            )

        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return finish(
                    ok=False,
                    status_code=None,
                    error_code=ErrorCode.TIMEOUT,
                    error_message=(
                        f"the {timeout:g} s timeout ran out after {redirects} redirect(s), "
                        f"before {_where(target)} was requested"
                    ),
                    retryable=True,
                )
            try:
                with self._client.stream(
                    "POST",
                    target,
                    content=content,
                    headers=request_headers,
                    timeout=_hop_timeout(remaining),
                ) as response:
                    status = response.status_code
                    answered = (
                        f"{_where(target)} answered HTTP {status} "
                        f"{httpx.codes.get_reason_phrase(status)}".rstrip()
                    )
                    if status in _FOLLOWED_REDIRECTS:
                        next_target = _redirect_target(target, response.headers.get("location"))
                        if isinstance(next_target, str):
                            return finish(
                                ok=False,
                                status_code=status,
                                error_code=ErrorCode.REDIRECT_REFUSED,
                                error_message=f"{answered}, a redirect refused: {next_target}",
                                retryable=False,
                            )
                        if redirects >= self._max_redirects:
                            return finish(
                                ok=False,
                                status_code=status,
                                error_code=ErrorCode.TOO_MANY_REDIRECTS,
                                error_message=(
                                    f"{answered} after {redirects} redirect(s); at most "
                                    f"{self._max_redirects} are followed"
                                ),
                                retryable=False,
                            )
                        # Drain a small body so that the connection can be reused.
                        _read_prefix(response, self._max_read_bytes, deadline)
                        target = next_target
                        redirects += 1
                        continue
                    raw, complete = _read_prefix(response, self._max_read_bytes, deadline)
                    snippet = _snippet(raw, complete, response.headers.get("content-encoding", ""))
                    if 200 <= status <= 299:
                        return finish(
                            ok=True,
                            status_code=status,
                            error_code=None,
                            error_message=None,
                            retryable=False,
                            snippet=snippet,
                        )
                    if status == 303:
                        answered += " (303 is not followed: it would turn the POST into a GET)"
                    return finish(
                        ok=False,
                        status_code=status,
                        error_code=f"{ErrorCode.HTTP_STATUS_PREFIX}{status}",
                        error_message=answered,
                        retryable=is_retryable_status(status, rule),
                        snippet=snippet,
                        retry_after=_retry_after(response.headers.get("retry-after")),
                    )
            except httpx.TransportError as exc:
                code, message = _classify(exc, target, timeout)
                return finish(
                    ok=False,
                    status_code=None,
                    error_code=code,
                    error_message=message,
                    retryable=True,
                )
