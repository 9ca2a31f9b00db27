"""Webhook endpoints: the URL rules, and the headers SNS and EventBridge send.

`check_webhook_url` is what an endpoint must pass when it is subscribed or
made a rule target (http or https, a host, no credentials in the URL, at most
2048 characters). `sns_http_headers` and `eventbridge_http_headers` are the
headers of a delivery, as SNS sends them to HTTP/S subscriptions and
EventBridge to API destinations. No I/O here; the POST is `webhook.py`'s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

import httpx

from eventyard.errors import InvalidParameterValue
from eventyard.model.names import shorten

_URL_BAD_CHAR = re.compile(r"[\s\x00-\x1f\x7f]")
_USERINFO = re.compile(r"//[^/?#]*@")
DEFAULT_PORTS: Final = {"http": 80, "https": 443}
# RFC 9110 token characters, for header names.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Visible ASCII, space and tab, for header values.
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")
# Headers that frame the message or the connection: the HTTP client owns them.
_RESERVED_HEADERS: Final = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "te",
        "trailer",
        "proxy-connection",
    }
)

#: Longest endpoint URL accepted at subscription time (characters).
MAX_URL_LENGTH: Final = 2048
SNS_MESSAGE_TYPES: Final = ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation")
#: SNS's default ``Content-Type`` (a delivery policy's ``headerContentType`` can change it).
SNS_CONTENT_TYPE: Final = "text/plain; charset=UTF-8"
SNS_USER_AGENT: Final = "Amazon Simple Notification Service Agent"
EVENTBRIDGE_CONTENT_TYPE: Final = "application/json; charset=utf-8"
EVENTBRIDGE_USER_AGENT: Final = "Amazon/EventBridge/ApiDestinations"


def _quote_url(url: str) -> str:
    """A URL for an error message: user:password masked, shortened."""
    return shorten(_USERINFO.sub("//***@", url))


def check_webhook_url(url: object, field: str = "Endpoint") -> str:
    """Return ``url`` unchanged if it is a usable webhook endpoint, else raise.

    The rules: a string of at most 2048 characters, without whitespace or control
    characters, scheme ``http`` or ``https``, a host, no ``user:password@``, and a
    port (if given) from 1 to 65535. Raises `InvalidParameterValue` naming the value
    (with any password masked) and the rule it breaks.
    """
    if not isinstance(url, str):
        raise InvalidParameterValue(f"{field} must be a string, got {type(url).__name__}")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidParameterValue(
            f"{field} {_quote_url(url)} is {len(url)} characters long; "
            f"the limit is {MAX_URL_LENGTH}"
        )
    if not url:
        raise InvalidParameterValue(f"{field} must not be empty (an http:// or https:// URL)")
    bad = _URL_BAD_CHAR.search(url)
    if bad is not None:
        raise InvalidParameterValue(
            f"{field} {_quote_url(url)} holds U+{ord(bad.group()):04X} at position "
            f"{bad.start()}; a URL must not contain whitespace or control characters "
            "(percent-encode them)"
        )
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise InvalidParameterValue(
            f"{field} {_quote_url(url)} is not a valid URL: {exc}"
        ) from None
    if parsed.scheme not in DEFAULT_PORTS:
        got = f"scheme {parsed.scheme!r}" if parsed.scheme else "no scheme"
        raise InvalidParameterValue(
            f"{field} {_quote_url(url)} has {got}; only http:// and https:// URLs are allowed"
        )
    if not parsed.host:
        raise InvalidParameterValue(
            f"{field} {_quote_url(url)} has no host; it must look like https://host[:port]/path"
        )
    if parsed.userinfo:
        raise InvalidParameterValue(
            f"{field} {_quote_url(url)} holds a user name or password; credentials are not "
            "allowed in the URL (send them in a header)"
        )
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise InvalidParameterValue(
            f"{field} {_quote_url(url)} has port {parsed.port}; a port is 1 to 65535"
        )
    return url


def _check_header(name: object, value: object) -> tuple[str, str]:
    if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
        raise InvalidParameterValue(
            f"header name {shorten(name)} is not an HTTP token "
            "(letters, digits and !#$%&'*+-.^_`|~)"
        )
    if name.lower() in _RESERVED_HEADERS:
        raise InvalidParameterValue(
            f"header {name!r} is set by the HTTP client and cannot be given "
            f"(reserved: {', '.join(sorted(_RESERVED_HEADERS))})"
        )
    if not isinstance(value, str) or not _HEADER_VALUE.fullmatch(value):
        raise InvalidParameterValue(
            f"header {name!r} has value {shorten(value)}; a header value must be a string of "
            "visible ASCII characters, spaces and tabs"
        )
    return name, value


def _merge_headers(base: dict[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    """``base`` with ``extra`` checked and laid over it (names compared case-insensitively)."""
    merged = dict(base)
    seen: set[str] = set()
    for raw_name, raw_value in extra.items():
        name, value = _check_header(raw_name, raw_value)
        key = name.lower()
        if key in seen:
            raise InvalidParameterValue(f"header {name!r} is given twice (names ignore case)")
        seen.add(key)
        for existing in [k for k in merged if k.lower() == key]:
            del merged[existing]
        merged[name] = value
    return merged


def _check_header_field(field: str, value: object) -> str:
    if not isinstance(value, str) or not value or not _HEADER_VALUE.fullmatch(value):
        raise InvalidParameterValue(
            f"{field} {shorten(value)} must be a non-empty string of visible ASCII characters"
        )
    return value


def sns_http_headers(
    message_type: str,
    message_id: str,
    topic_arn: str,
    subscription_arn: str | None,
    *,
    content_type: str = SNS_CONTENT_TYPE,
) -> dict[str, str]:
    """The headers SNS sends with a POST to an HTTP/S subscription.

    As the SNS developer guide ("HTTP/HTTPS headers") lists and shows them:
    ``x-amz-sns-message-type`` (``Notification``, ``SubscriptionConfirmation`` or
    ``UnsubscribeConfirmation``), ``x-amz-sns-message-id`` (the same on every retry),
    ``x-amz-sns-topic-arn``, ``x-amz-sns-subscription-arn`` (absent from SNS's
    ``SubscriptionConfirmation`` example: pass None while the subscription is
    pending), ``Content-Type: text/plain; charset=UTF-8`` (the default; a delivery
    policy's ``headerContentType`` can change it) and ``User-Agent: Amazon Simple
    Notification Service Agent``. That User-Agent is copied on purpose: receivers and
    firewalls written for SNS check it, and eventyard should pass where SNS passes.
    """
    if message_type not in SNS_MESSAGE_TYPES:
        raise InvalidParameterValue(
            f"message_type {shorten(message_type)} is not one of {', '.join(SNS_MESSAGE_TYPES)}"
        )
    headers = {
        "x-amz-sns-message-type": message_type,
        "x-amz-sns-message-id": _check_header_field("message_id", message_id),
        "x-amz-sns-topic-arn": _check_header_field("topic_arn", topic_arn),
    }
    if subscription_arn is not None:
        headers["x-amz-sns-subscription-arn"] = _check_header_field(
            "subscription_arn", subscription_arn
        )
    headers["Content-Type"] = _check_header_field("content_type", content_type)
    headers["User-Agent"] = SNS_USER_AGENT
    return headers


def eventbridge_http_headers(header_parameters: Mapping[str, str] | None = None) -> dict[str, str]:
    """The headers EventBridge sends to an API destination, plus the target's own.

    The EventBridge user guide ("Headers included in requests to API destinations")
    lists ``User-Agent: Amazon/EventBridge/ApiDestinations`` and ``Content-Type:
    application/json; charset=utf-8``; both are here. Not copied: ``Range:
    bytes=0-1048575`` (meaningless on a POST; the response read is bounded anyway),
    ``Accept-Encoding: gzip,deflate`` (the sender asks for ``identity`` so that its
    read bound counts real bytes) and ``Connection: close`` (the sender keeps
    connections alive). ``header_parameters`` (a rule target's ``HttpParameters.
    HeaderParameters``) are checked and override these by name, case-insensitively;
    EventBridge sends no event id or rule header of its own.
    """
    base = {"Content-Type": EVENTBRIDGE_CONTENT_TYPE, "User-Agent": EVENTBRIDGE_USER_AGENT}
    return _merge_headers(base, header_parameters or {})


# -- the sender --------------------------------------------------------------------
