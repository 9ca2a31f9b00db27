"""``@idempotent``: a handler's effect happens once under at-least-once delivery.

Queues deliver a message at least once, so a handler may see it twice.
``@idempotent(key="order_id")`` takes a key from the payload (a field path,
a JSONPath or a function), keeps a record per key in the same database as
the queues, and runs the handler only for a key it has not completed yet.

The payload is the first positional argument, read by `payload_of`: an object
with a ``body`` attribute (an eventyard `Message` or runtime `Record`, a
powertools record) gives its body; so does a Lambda SQS record dict
(``eventSource: aws:sqs``, its ``body``) or SNS record dict (``Sns.Message``).
A body that is JSON text is decoded, and an SNS notification envelope in it
(``Type: Notification``) gives its ``Message``. Any other dict is the payload
as it is (an EventBridge event, a plain call). The stored key is
``namespace:key``; the namespace defaults to the function's ``__qualname__``.

The state machine (``now`` is the client's clock; "live" means an IN_PROGRESS
record before its in-progress expiry, a COMPLETED record before its expiry):

=========================  ==============================  ======================
record under the key       same payload (SHA-256)          different payload
=========================  ==============================  ======================
none, or not live          write IN_PROGRESS, run          write IN_PROGRESS, run
live IN_PROGRESS           `IdempotencyInProgress` (retry)  `IdempotencyKeyConflict`
live COMPLETED             return the stored result        `IdempotencyKeyConflict`
=========================  ==============================  ======================

After the run: a returned value becomes COMPLETED (its JSON, expiring
``expires_seconds`` after the run ends); a raised exception deletes the
IN_PROGRESS record and propagates; a result that is not JSON-serializable
deletes it too and raises `IdempotencyResultNotSerializable` (nothing is
stored, so a retry runs the handler again). The first call returns the
handler's own value; duplicates get the stored JSON decoded (lists for
tuples, string keys). A key that resolves to nothing (missing, None, "" or an
empty match) raises `IdempotencyKeyMissing` and the handler does not run.

Called inside ``client.transaction()`` (same client, same thread) the record
writes join that transaction: the effect and its record commit together or
roll back together. Outside one, the handler runs between two short
transactions, so a crash in between leaves an IN_PROGRESS record that blocks
the key until ``in_progress_expiry_seconds`` pass, then the key runs again.

Not exactly-once for effects outside the database (an e-mail sent before a
crash is sent again after the takeover), not a lock (a run slower than its
in-progress expiry can be overlapped), not for async functions.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import logging
import math
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, ParamSpec, TypeVar, cast

from eventyard.broker.client import Client
from eventyard.errors import (
    IdempotencyInProgress,
    IdempotencyKeyConflict,
    IdempotencyKeyMissing,
    IdempotencyResultNotSerializable,
    InvalidParameterValue,
    MissingParameter,
    StoreError,
)
from eventyard.model.json_path import MISSING, JsonPath
from eventyard.model.names import shorten
from eventyard.store.sql import idempotency as records
from eventyard.store.sql.database import Database
from eventyard.store.sql.messages import lock_named
from eventyard.store.sql.store import SqlStore

__all__ = [
    "IdempotencyConfig",
    "IdempotencyInProgress",
    "IdempotencyKeyConflict",
    "IdempotencyKeyMissing",
    "IdempotencyResultNotSerializable",
    "idempotent",
    "set_default_client",
    "sweep_expired",
]

P = ParamSpec("P")
R = TypeVar("R")

KeyExpression = str | Callable[[Any], object]
ClientSource = Client | Callable[[], Client]

DEFAULT_EXPIRES_SECONDS: Final = 3600
DEFAULT_IN_PROGRESS_EXPIRY_SECONDS: Final = 60
#: How often (per database, per process) a call also deletes expired records.
SWEEP_INTERVAL_MS: Final = 60_000
SWEEP_BATCH: Final = 500

_log = logging.getLogger("eventyard.idempotency")
_NO_BODY: Final[Any] = object()


# -- errors (to move to eventyard.errors) ---------------------------------------------


# -- clients ------------------------------------------------------------------------

_default_client: ClientSource | None = None
_last_sweep_ms: weakref.WeakKeyDictionary[Database, int] = weakref.WeakKeyDictionary()


def set_default_client(client: ClientSource | None) -> None:
    """The client (or a zero-argument function returning one) used when none is passed."""
    global _default_client
    _default_client = _checked_source(client)


def _checked_source(client: ClientSource | None) -> ClientSource | None:
    if client is not None and not isinstance(client, Client) and not callable(client):
        raise InvalidParameterValue(
            f"client must be an eventyard Client or a function returning one, "
            f"got {type(client).__name__}"
        )
    return client


def _resolve_client(source: ClientSource | None, handler: str) -> Client:
    source = source if source is not None else _default_client
    if source is None:
        raise MissingParameter(
            f"@idempotent {handler}: no client; pass client= to the decorator or call "
            "eventyard.idempotency.set_default_client(client)"
        )
    client = source if isinstance(source, Client) else source()
    if not isinstance(client, Client):
        raise InvalidParameterValue(
            f"@idempotent {handler}: the client function returned {type(client).__name__}, "
            "not an eventyard Client"
        )
    return client


def _database_of(client: Client) -> Database:
    store = client.store
    if not isinstance(store, SqlStore):
        raise StoreError(
            f"idempotency records need a SQL store (SQLite or PostgreSQL); {client.url} "
            "does not provide one"
        )
    return store.database


def sweep_expired(client: Client, limit: int = 1000) -> int:
    """Delete up to ``limit`` expired records (any namespace); return how many went."""
    with _database_of(client).write(announce=False) as conn:
        return records.sweep_expired(conn, client.now_ms(), limit)


# -- keys and payloads --------------------------------------------------------------


def _canonical_json(value: object) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def payload_of(argument: object) -> object:
    """The payload the key and the hash are taken from (see the module docstring)."""
    if isinstance(argument, dict):
        if argument.get("eventSource") == "aws:sqs" and "body" in argument:
            return _unwrapped(_decoded(argument["body"]))
        sns = argument.get("Sns")
        if argument.get("EventSource") == "aws:sns" and isinstance(sns, dict) and "Message" in sns:
            return _decoded(sns["Message"])
        return argument
    body = getattr(argument, "body", _NO_BODY)
    if body is _NO_BODY:
        return dict(argument) if isinstance(argument, Mapping) else argument
    return _unwrapped(_decoded(body))


def _decoded(body: object) -> object:
    """A body as a value: JSON text decoded, other text and undecodable bytes as they are."""
    if isinstance(body, bytes | bytearray):
        data = bytes(body)
        try:
            body = data.decode("utf-8")
        except UnicodeDecodeError:
            return data
    if isinstance(body, str):
        try:
            return json.loads(body)
        except ValueError:
            return body
    return body


def _unwrapped(payload: object) -> object:
    """The message of an SNS notification envelope (a topic delivering to a queue)."""
    if (
        isinstance(payload, dict)
        and payload.get("Type") == "Notification"
        and "TopicArn" in payload
        and isinstance(payload.get("Message"), str)
    ):
        return _decoded(payload["Message"])
    return payload


def payload_hash(payload: object) -> str:
    """SHA-256 (hex) of the canonical JSON of the payload (raw bytes hashed as they are)."""
    if isinstance(payload, bytes):
        return hashlib.sha256(b"bytes:" + payload).hexdigest()
    try:
        text = _canonical_json(payload)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterValue(
            f"the payload {shorten(payload)} of type {type(payload).__name__} is not "
            f"JSON-serializable, so it cannot be hashed for idempotency: {exc}"
        ) from None
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class _KeyFinder:
    """A compiled key expression: ``text`` for messages, ``find`` gives a value or MISSING."""

    text: str
    find: Callable[[object], object]


def _field_path(text: str) -> _KeyFinder:
    steps = text.split(".")
    if not all(steps):
        raise InvalidParameterValue(
            f"idempotency key {text!r} has an empty field name; use 'field', "
            "'outer.inner', '$.outer.items[0].id' or a function"
        )

    def find(payload: object) -> object:
        node = payload
        for step in steps:
            if isinstance(node, Mapping):
                node = node.get(step, MISSING)
            elif isinstance(node, list) and step.isascii() and step.isdigit():
                node = node[int(step)] if int(step) < len(node) else MISSING
            else:
                return MISSING
            if node is MISSING:
                return MISSING
        return node

    return _KeyFinder(repr(text), find)


def compile_key(key: object) -> _KeyFinder:
    """Check a key expression once, when the handler is decorated."""
    if callable(key):
        function = key

        def call_key(payload: object) -> object:
            try:
                return function(payload)
            except LookupError:  # KeyError / IndexError: the key is not in this payload
                return MISSING

        return _KeyFinder(f"function {getattr(key, '__qualname__', repr(key))}", call_key)
    if not isinstance(key, str) or not key:
        raise InvalidParameterValue(
            f"idempotency key must be a field path ('order_id', 'detail.order.id'), a JSONPath "
            f"('$.detail.order.id') or a function of the payload, got {shorten(key)}"
        )
    if key.startswith("$"):
        path = JsonPath.parse(key, "idempotency key")
        return _KeyFinder(repr(key), path.find)
    return _field_path(key)


def key_text(finder: _KeyFinder, payload: object, handler: str) -> str:
    """The key in the payload as text, or `IdempotencyKeyMissing` naming the expression."""
    value = finder.find(payload)
    if value is MISSING or value is None or value in ("", [], {}):
        found = "is missing" if value is MISSING else f"is {value!r}"
        fields = ""
        if isinstance(payload, Mapping):
            fields = f" (the payload's fields: {shorten(sorted(map(str, payload)), 120)})"
        raise IdempotencyKeyMissing(
            f"@idempotent {handler}: the idempotency key {finder.text} {found} in the "
            f"payload{fields}; the handler was not run"
        )
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float | list | tuple | dict):
        try:
            return _canonical_json(value)
        except (TypeError, ValueError):
            pass
    raise InvalidParameterValue(
        f"@idempotent {handler}: the idempotency key {finder.text} gave {shorten(value)} of "
        f"type {type(value).__name__}; a key must be a string, a finite number or JSON "
        "(return str(value) from a key function)"
    )


# -- the state machine --------------------------------------------------------------


def is_live(record: records.IdempotencyRecord, now_ms: int) -> bool:
    """Whether a record still decides calls (an expired one is replaced by the next run)."""
    if record.status == records.IN_PROGRESS:
        return now_ms < record.in_progress_until_ms
    if record.status == records.COMPLETED:
        return now_ms < record.expires_at_ms
    return False


def _refuse_or_replay(
    record: records.IdempotencyRecord, digest: str, now_ms: int, handler: str
) -> Any:
    """The answer of a live record: its stored result, or the error to raise."""
    if record.payload_hash != digest:
        state = "is in progress" if record.status == records.IN_PROGRESS else "completed"
        raise IdempotencyKeyConflict(
            f"@idempotent {handler}: key {record.key!r} {state} with a different payload "
            f"(SHA-256 {record.payload_hash[:12]}..., this one {digest[:12]}...); use a key "
            "that identifies the payload, or a new key for a new request",
            key=record.key,
        )
    if record.status == records.IN_PROGRESS:
        wait_seconds = max(1, math.ceil((record.in_progress_until_ms - now_ms) / 1000))
        raise IdempotencyInProgress(
            f"@idempotent {handler}: key {record.key!r} is being processed by another run; "
            f"retry later (its in-progress record expires in {wait_seconds} s)",
            key=record.key,
            retry_after_seconds=wait_seconds,
        )
    return None if record.result is None else json.loads(record.result)


@dataclass(frozen=True, slots=True)
class IdempotencyConfig:
    """What a decorated function was given (read by the runtime: ``fn.idempotency``)."""

    key: str
    namespace: str
    expires_seconds: float
    in_progress_expiry_seconds: float


def _positive_ms(value: object, name: str) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < math.inf:
        return max(1, round(value * 1000))
    raise InvalidParameterValue(f"{name} must be a positive number of seconds, got {value!r}")


def idempotent(
    key: KeyExpression,
    *,
    client: ClientSource | None = None,
    expires_seconds: float = DEFAULT_EXPIRES_SECONDS,
    in_progress_expiry_seconds: float = DEFAULT_IN_PROGRESS_EXPIRY_SECONDS,
    namespace: str | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run the decorated function once per key; duplicates get the stored result.

    ``key``: a field path, a JSONPath (``$.``) or a function of the payload.
    ``client``: a Client or a function returning one (default: the one given to
    `set_default_client`). ``expires_seconds``: how long a result is kept.
    ``in_progress_expiry_seconds``: how long a run may hold the key (make it
    the function's timeout) before another run may take over.
    """
    finder = compile_key(key)
    expires_ms = _positive_ms(expires_seconds, "expires_seconds")
    in_progress_ms = _positive_ms(in_progress_expiry_seconds, "in_progress_expiry_seconds")
    _checked_source(client)

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        # A callable object has no __qualname__: its class names it (stable across processes).
        handler = getattr(function, "__qualname__", None) or type(function).__qualname__
        if inspect.iscoroutinefunction(function):
            raise InvalidParameterValue(
                f"@idempotent {handler}: async functions are not supported; decorate a "
                "plain function"
            )
        space = handler if namespace is None else namespace
        if not isinstance(space, str) or not space or ":" in space:
            raise InvalidParameterValue(
                f"@idempotent {handler}: namespace must be a non-empty string without ':', "
                f"got {shorten(space)}"
            )

        @functools.wraps(function)
        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            if not args:
                raise TypeError(
                    f"@idempotent {handler}: pass the payload as the first positional argument"
                )
            payload = payload_of(args[0])
            stored_key = f"{space}:{key_text(finder, payload, handler)}"
            digest = payload_hash(payload)
            resolved = _resolve_client(client, handler)
            database = _database_of(resolved)
            now_ms = resolved.now_ms()
            # Duplicates are the common case worth making cheap: no write lock for them.
            with database.read() as conn:
                seen = records.get(conn, stored_key)
            if seen is not None and is_live(seen, now_ms):
                return cast(R, _refuse_or_replay(seen, digest, now_ms, handler))
            started = None
            with database.write(announce=False) as conn:
                # On PostgreSQL two transactions run side by side: the key's lock makes
                # the look-then-claim below one step (SQLite has one writer anyway).
                lock_named(conn, "eventyard.idempotency:" + stored_key)
                now_ms = resolved.now_ms()  # again: the write lock may have taken a while
                if now_ms - _last_sweep_ms.get(database, 0) >= SWEEP_INTERVAL_MS:
                    _last_sweep_ms[database] = now_ms
                    records.sweep_expired(conn, now_ms, SWEEP_BATCH)
                seen = records.get(conn, stored_key)
                if seen is None or not is_live(seen, now_ms):
                    started = records.begin(
                        conn, stored_key, digest, now_ms, now_ms + in_progress_ms
                    )
            if started is None:
                assert seen is not None
                return cast(R, _refuse_or_replay(seen, digest, now_ms, handler))
            try:
                result = function(*args, **kwargs)
                text = _result_json(result, stored_key, handler)
            except BaseException:
                _release(database, started)
                raise
            with database.write(announce=False) as conn:
                recorded = records.complete(conn, started, text, resolved.now_ms() + expires_ms)
            if not recorded:
                _log.warning(
                    "idempotency key %r: another run took the key over while this one ran "
                    "(longer than in_progress_expiry_seconds=%g); its record was kept",
                    stored_key,
                    in_progress_ms / 1000,
                )
            return result

        config = IdempotencyConfig(finder.text, space, expires_ms / 1000, in_progress_ms / 1000)
        setattr(call, "idempotency", config)  # noqa: B010 - mypy refuses `call.idempotency =`
        return call

    return decorate


def _result_json(result: object, stored_key: str, handler: str) -> str:
    try:
        return json.dumps(result, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise IdempotencyResultNotSerializable(
            f"@idempotent {handler}: the result {shorten(result)} of type "
            f"{type(result).__name__} is not JSON-serializable ({exc}); nothing was stored, "
            "so a retry runs the handler again",
            key=stored_key,
        ) from None


def _release(database: Database, started: records.IdempotencyRecord) -> None:
    """Delete a failed run's record so a retry can run; never hide the handler's error."""
    try:
        with database.write(announce=False) as conn:
            records.release(conn, started)
    except Exception:
        _log.exception(
            "idempotency key %r: could not delete the in-progress record of a failed run; "
            "the key is blocked until it expires",
            started.key,
        )
