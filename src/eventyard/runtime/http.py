"""The HTTP routes of an app (the API Gateway role): an ASGI app, and `serve` to run it.

`create_asgi_app` turns `RouteSpec`s into a Starlette app. Handler parameters
are bound when the app is built, by annotation then name (first rule wins):
``eventyard.Transaction`` -> a transaction opened for the call, committed once
the handler returned and its result rendered, rolled back if either raised;
``Request`` -> the request; ``eventyard.Client`` -> the client; a pydantic
``BaseModel`` -> the JSON body, validated; a path parameter's name -> its value
as the annotation (str, int, float, bool, Literal, Optional); ``body`` -> the
JSON body validated against its annotation (``bytes``: raw); any other name ->
the query parameter (same types; its default when absent). Bad values -> 422
``{"detail": [{"loc", "msg", "type"}]}`` as FastAPI does; malformed JSON -> 400;
a body past ``max_body_bytes`` -> 413 (Content-Length checked first, streamed
bodies counted). Results: a ``Response`` as is, ``None`` -> 204, ``(status,
body)`` -> that status, anything else -> JSON 200. Errors: ``{"error": code,
"message": text}`` with 400 (``InvalidParameterValue``), 404 (``LookupError``
ones), 503 + Retry-After (retryable), 409 (other eventyard errors but store
failures); anything else -> 500 with a generic body, the traceback only in the log.

Sync handlers run in the threadpool; their transaction is opened, used and
closed on that thread (SQLite connections are per thread). Async handlers run
on the event loop, but those taking a Transaction run on a worker thread in a
loop of their own: concurrent requests never share a connection, and a busy
database never stalls the server. Not a web framework (no middleware, auth,
CORS, OpenAPI, forms), nor an emulation of API Gateway stages or proxy events.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import socket
import threading
import time
import types
import typing
import uuid
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, Final, Literal, NamedTuple

import pydantic
import pydantic_core
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from eventyard.broker.client import Client
from eventyard.broker.transaction import Transaction
from eventyard.errors import EventyardError, InvalidParameterValue, StoreError
from eventyard.model import trace
from eventyard.runtime import lambda_shapes
from eventyard.runtime.specs import RouteSpec

__all__ = ["GRACEFUL_SHUTDOWN_SECONDS", "create_asgi_app", "error_status", "serve"]

logger = logging.getLogger(__name__)

#: How long `serve` lets in-flight requests finish once asked to stop.
GRACEFUL_SHUTDOWN_SECONDS: Final = 10

_Source = Literal["transaction", "request", "client", "model", "body", "raw", "path", "query"]
_BODY_SOURCES: Final = ("model", "body", "raw")
_SCALARS: Final = (str, int, float, bool, type(None))
_EMPTY: Final = inspect.Parameter.empty
_ABSENT: Final = object()


class _Param(NamedTuple):
    """Where one handler parameter comes from, and how its value is validated."""

    name: str
    source: _Source
    adapter: pydantic.TypeAdapter[Any] | None
    default: Any


class _Rejected(Exception):
    """The request cannot be bound to the handler: answer this, and do not call it."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class _BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is larger than the limit of {limit} bytes")


# -- responses -------------------------------------------------------------------


def _json(status: int, content: Any, headers: Mapping[str, str] | None = None) -> Response:
    body = pydantic_core.to_json(content)
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def _error(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    return _json(status, {"error": code, "message": message}, headers)


def _code_of(status: int) -> str:
    try:
        return "".join(HTTPStatus(status).phrase.replace("-", " ").split())
    except ValueError:
        return "Error"


def _render(result: object) -> Response:
    """A handler's result as a response (raises TypeError for a malformed tuple)."""
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(status_code=204)
    status: object = 200
    if isinstance(result, tuple):
        status = result[0] if len(result) == 2 else None
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise TypeError(
                f"a handler returned the tuple {result!r:.100}; a tuple result must be "
                "(status, body) with an HTTP status from 100 to 599 (return a list for an array)"
            )
        result = result[1]
        if result is None or status in (204, 304) or status < 200:
            return Response(status_code=status)
    assert isinstance(status, int)
    return _json(status, result)


def error_status(exc: EventyardError) -> int:
    """The HTTP status of an eventyard error: 400, 404, 503 (retryable), 500 (store) or 409."""
    if isinstance(exc, InvalidParameterValue):
        return 400
    if isinstance(exc, LookupError):
        return 404
    if exc.retryable:
        return 503
    if isinstance(exc, StoreError):
        return 500
    return 409


def _error_response(exc: Exception, route: str) -> Response:
    if isinstance(exc, _Rejected):
        return exc.response
    if isinstance(exc, _BodyTooLarge):
        return _error(413, "RequestEntityTooLarge", str(exc), {"Connection": "close"})
    if isinstance(exc, ClientDisconnect):
        return _error(400, "ClientDisconnected", "the client left before sending its request")
    if isinstance(exc, HTTPException):
        return _error(exc.status_code, _code_of(exc.status_code), exc.detail, exc.headers)
    if isinstance(exc, EventyardError):
        status = error_status(exc)
        if status == 503:
            logger.warning("route %s: %s: %s", route, type(exc).__name__, exc)
            # A busy store's message names the database file: not for the caller.
            message = "the service is busy; try again" if isinstance(exc, StoreError) else str(exc)
            return _error(503, exc.code, message, {"Retry-After": "1"})
        if status != 500:
            return _error(status, exc.code, str(exc))
    logger.error("route %s failed", route, exc_info=exc)
    return _error(500, "InternalError", "internal server error (the server log has the details)")


# -- binding -----------------------------------------------------------------------


def _is_subclass(annotation: object, base: type) -> bool:
    return inspect.isclass(annotation) and issubclass(annotation, base)


def _scalar_adapter(annotation: Any, where: str) -> pydantic.TypeAdapter[Any] | None:
    """An adapter for a path or query value (None: pass the string as is)."""
    if annotation is _EMPTY or annotation is Any:
        return None
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:  # a scalar with constraints, e.g. StringConstraints(...)
        _scalar_adapter(typing.get_args(annotation)[0], where)
        return _adapter(annotation, where)
    if origin is Literal:
        ok = all(isinstance(arg, str | int) for arg in typing.get_args(annotation))
    elif origin is typing.Union or origin is types.UnionType:
        ok = all(arg in _SCALARS for arg in typing.get_args(annotation))
    else:
        ok = annotation in _SCALARS
    if not ok:
        raise TypeError(
            f"{where} is annotated {annotation!r}; path and query parameters take str, int, "
            "float, bool, a Literal or an Optional of those (Annotated with constraints too)"
        )
    return pydantic.TypeAdapter(annotation)


def _adapter(annotation: Any, what: str) -> pydantic.TypeAdapter[Any]:
    try:
        return pydantic.TypeAdapter(annotation)
    except pydantic.PydanticUserError as exc:
        raise TypeError(f"{what}: pydantic cannot validate {annotation!r}: {exc}") from exc


def _plan(spec: RouteSpec, where: str) -> tuple[_Param, ...]:
    """The binding of every parameter of a route's handler (raises TypeError if impossible)."""
    try:
        signature = inspect.signature(spec.handler, eval_str=True)
    except (NameError, TypeError, ValueError, SyntaxError) as exc:
        raise TypeError(f"{where}: cannot read the handler's signature: {exc}") from exc
    path_names = set(compile_path(spec.path)[2])
    params: list[_Param] = []
    taken: dict[str, str] = {}  # "body" / "transaction" -> the parameter bound to it
    for p in signature.parameters.values():
        what = f"{where}: parameter {p.name!r}"
        if p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            raise TypeError(f"{what}: handlers take named parameters only (no /, *args, **kw)")
        ann = p.annotation
        adapter: pydantic.TypeAdapter[Any] | None = None
        source: _Source
        if _is_subclass(ann, Transaction):
            source = "transaction"
        elif _is_subclass(ann, Request):
            source = "request"
        elif _is_subclass(ann, Client):
            source = "client"
        elif _is_subclass(ann, pydantic.BaseModel):
            source, adapter = "model", _adapter(ann, what)
        elif p.name in path_names:
            source, adapter = "path", _scalar_adapter(ann, what)
        elif p.name == "body":
            source = "raw" if ann is bytes else "body"
            adapter = _adapter(Any if ann is _EMPTY else ann, what)
        else:
            source, adapter = "query", _scalar_adapter(ann, what)
        kind = "body" if source in _BODY_SOURCES else source
        if kind in taken and kind in ("body", "transaction"):
            raise TypeError(f"{what}: the {kind} is bound to {taken[kind]!r} already")
        taken[kind] = p.name
        params.append(_Param(p.name, source, adapter, p.default))
    return tuple(params)


def _details(exc: pydantic.ValidationError, *prefix: str | int) -> list[dict[str, Any]]:
    """FastAPI's 422 items: ``{"loc": [...], "msg": ..., "type": ...}``."""
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    return [{"loc": [*prefix, *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in errors]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise _Rejected(
            _error(400, "MalformedJSON", f"the request body is not valid JSON: {exc}")
        ) from None


def _limited(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises `_BodyTooLarge` once the body passes ``limit`` bytes."""
    seen = 0

    async def receive_within_limit() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _BodyTooLarge(limit)
        return message

    return receive_within_limit


def _lazy(factory: Callable[[], Client]) -> Callable[[], Client]:
    """The client, made by the factory at first use and shared afterwards."""
    lock, made = threading.Lock(), list[Client]()

    def client() -> Client:
        with lock:
            if not made:
                made.append(factory())
            return made[0]

    return client


# -- endpoints ---------------------------------------------------------------------


class _Endpoint:
    """The ASGI app of one route: bind, call the handler, render, map errors."""

    def __init__(self, spec: RouteSpec, client: Callable[[], Client]) -> None:
        self.spec = spec
        self.label = f"{spec.method} {spec.path} ({spec.name})"
        self.params = _plan(spec, f"route {self.label}")
        self.client = client
        handler = spec.handler
        # A coroutine function, or an object whose __call__ is one.
        self.is_async = inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
            type(handler).__call__
        )
        self.transaction = next((p.name for p in self.params if p.source == "transaction"), None)
        self.reads_body = any(p.source in _BODY_SOURCES for p in self.params)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, _limited(receive, self.spec.max_body_bytes))
        # The request's trace continues in what the handler sends (see eventyard.model.trace).
        traceparent = trace.child(request.headers.get("traceparent"))
        with trace.use(traceparent):
            try:
                self._check_length(request)
                response = await self._invoke(await self._bind(request))
            except Exception as exc:
                response = _error_response(exc, self.label)
        response.headers["traceparent"] = traceparent
        await response(scope, receive, send)

    def _check_length(self, request: Request) -> None:
        declared = request.headers.get("content-length")
        if declared is None:
            return
        if not declared.isdigit():
            raise _Rejected(_error(400, "BadRequest", "the Content-Length header is not a number"))
        if int(declared) > self.spec.max_body_bytes:
            raise _BodyTooLarge(self.spec.max_body_bytes)

    async def _bind(self, request: Request) -> dict[str, Any]:
        raw = await request.body() if self.reads_body else b""
        kwargs: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        for param in self.params:
            name, source, adapter = param.name, param.source, param.adapter
            if source == "transaction":
                continue  # opened by _invoke, on the thread that runs the handler
            if source in ("request", "client", "raw"):
                kwargs[name] = (
                    request if source == "request" else raw if source == "raw" else self.client()
                )
                continue
            value: Any
            loc: tuple[str, ...]
            if source == "path":
                loc, value = ("path", name), request.path_params[name]
                value = value if adapter is None or isinstance(value, str) else str(value)
            elif source == "query":
                loc, value = ("query", name), request.query_params.get(name, _ABSENT)
            else:
                loc, value = ("body",), _parse_json(raw) if raw else _ABSENT
            if value is _ABSENT:
                if param.default is _EMPTY:
                    errors.append({"loc": list(loc), "msg": "Field required", "type": "missing"})
                else:
                    kwargs[name] = param.default
            elif adapter is None:
                kwargs[name] = value
            else:
                try:
                    kwargs[name] = adapter.validate_python(value)
                except pydantic.ValidationError as exc:
                    errors.extend(_details(exc, *loc))
        if errors:
            raise _Rejected(_json(422, {"detail": errors}))
        return kwargs

    async def _invoke(self, kwargs: dict[str, Any]) -> Response:
        if self.transaction is not None:
            return await run_in_threadpool(self._call_in_transaction, kwargs)
        if self.is_async:
            return _render(await self.spec.handler(**kwargs))
        return await run_in_threadpool(lambda: _render(self.spec.handler(**kwargs)))

    def _call_in_transaction(self, kwargs: dict[str, Any]) -> Response:
        """On one worker thread: open, call, render, commit (or roll back if anything raised)."""
        assert self.transaction is not None
        with self.client().transaction() as tx:
            result = self.spec.handler(**kwargs, **{self.transaction: tx})
            if self.is_async:
                result = asyncio.run(result)
            # Rendered inside: a result that cannot be rendered rolls the writes back.
            return _render(result)


class _LambdaEndpoint:
    """A route whose handler was written for AWS: ``handler(event, context)``, HTTP API v2."""

    def __init__(self, spec: RouteSpec) -> None:
        self.spec = spec
        self.label = f"{spec.method} {spec.path} ({spec.name})"
        self.route_key = f"{spec.method} {spec.path}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, _limited(receive, self.spec.max_body_bytes))
        traceparent = trace.child(request.headers.get("traceparent"))
        with trace.use(traceparent):
            response = await self._respond(request)
        response.headers["traceparent"] = traceparent
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
        try:
            declared = request.headers.get("content-length") or ""
            if declared.isdigit() and int(declared) > self.spec.max_body_bytes:
                raise _BodyTooLarge(self.spec.max_body_bytes)
            body = await request.body()
            event = lambda_shapes.http_api_event(
                request.method,
                request.url.path,
                request.url.query,
                request.headers.items(),
                body,
                {k: str(v) for k, v in request.path_params.items()},
                self.route_key,
                str(uuid.uuid4()),
                request.client.host if request.client else "127.0.0.1",
                int(time.time() * 1000),
            )
            return await run_in_threadpool(self._call, event)
        except Exception as exc:
            return _error_response(exc, self.label)

    def _call(self, event: dict[str, Any]) -> Response:
        context = lambda_shapes.LambdaContext(
            function_name=self.spec.name,
            aws_request_id=event["requestContext"]["requestId"],
            deadline=time.monotonic() + self.spec.timeout_seconds,
        )
        try:
            status, headers, content = lambda_shapes.http_api_response(
                self.spec.handler(event, context)
            )
        except lambda_shapes.MalformedHttpResponse:
            logger.exception("route %s returned a malformed response", self.label)
            status, headers, content = lambda_shapes.INTERNAL_SERVER_ERROR
        response = Response(content, status_code=status)
        for name, value in headers:
            response.headers.append(name, value)
        return response


# -- the application ---------------------------------------------------------------


def _allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.router.routes:
        if (
            isinstance(route, Route)
            and route.methods
            and route.matches(request.scope)[0] is not Match.NONE
        ):
            methods |= route.methods
    return sorted(methods)


def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    where = f"{request.method} {request.url.path}"
    by_router = exc.detail == HTTPStatus(exc.status_code).phrase  # not raised with a message
    if by_router and exc.status_code == 404:
        return _error(404, "NotFound", f"no route matches {where}")
    if by_router and exc.status_code == 405:
        allowed = _allowed_methods(request)
        message = f"{where}: method not allowed; allowed: {', '.join(allowed) or 'none'}"
        return _error(405, "MethodNotAllowed", message, {"Allow": ", ".join(allowed)})
    return _error(exc.status_code, _code_of(exc.status_code), exc.detail, exc.headers)


def _server_error(request: Request, exc: Exception) -> Response:
    # Errors of extra routes; Starlette re-raises them after this, so the server logs them.
    return _error(500, "InternalError", "internal server error (the server log has the details)")


def create_asgi_app(
    routes: Sequence[RouteSpec],
    client_factory: Callable[[], Client],
    *,
    extra_routes: Sequence[BaseRoute] = (),
    admin_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """A Starlette app serving ``routes`` (then ``extra_routes``, as they are).

    ``admin_routes`` (the admin surface, under ``/admin``) come first, so no
    route of the app (not even a catch-all) can shadow them.

    Every handler signature is checked here (TypeError naming the route and the
    parameter). ``client_factory`` is called once, at the first request that
    needs the client; the client is shared, and closing it is the caller's job.
    """
    client = _lazy(client_factory)
    seen: set[tuple[str, str]] = set()
    starlette_routes: list[BaseRoute] = []
    for spec in routes:
        method = spec.method.upper()
        if (method, spec.path) in seen:
            raise InvalidParameterValue(f"route {method} {spec.path} is declared twice")
        seen.add((method, spec.path))
        endpoint: _Endpoint | _LambdaEndpoint = (
            _LambdaEndpoint(spec) if spec.style == "lambda" else _Endpoint(spec, client)
        )
        starlette_routes.append(Route(spec.path, endpoint, methods=[method], name=spec.name))
    return Starlette(
        routes=[*admin_routes, *starlette_routes, *extra_routes],
        exception_handlers={HTTPException: _http_exception, Exception: _server_error},
    )


# -- serving -------------------------------------------------------------------------


class _Server(uvicorn.Server):
    """uvicorn, telling ``ready`` when it listens and watching ``stop``."""

    def __init__(
        self,
        config: uvicorn.Config,
        ready: threading.Event | None,
        stop: threading.Event | None,
    ) -> None:
        super().__init__(config)
        self._ready, self._stop = ready, stop

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self._ready is not None:
            self._ready.set()

    async def on_tick(self, counter: int) -> bool:  # every 0.1 s
        if self._stop is not None and self._stop.is_set():
            self.should_exit = True
        return await super().on_tick(counter)


def serve(
    asgi_app: ASGIApp,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    ready: threading.Event | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Serve ``asgi_app`` with uvicorn until ``stop`` is set (or SIGINT/SIGTERM on the main thread).

    ``ready`` is set once the socket listens. On stop the server takes no new
    connections and gives requests in flight `GRACEFUL_SHUTDOWN_SECONDS` to
    finish. Logging goes to the ``uvicorn.*`` loggers and is not reconfigured; there is
    no access log.
    Raises OSError if it cannot listen (e.g. the port is taken).
    """
    config = uvicorn.Config(
        asgi_app,
        host=host,
        port=port,
        log_config=None,
        # No line per request: it costs the server CPU under load, and login links'
        # one-time codes would land in the log. Functions log their invocations.
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    try:
        _Server(config, ready, stop).run()
    except SystemExit as exc:  # uvicorn exits when it cannot bind or start up
        raise OSError(f"cannot serve HTTP on {host}:{port}; see the uvicorn.error log") from exc
