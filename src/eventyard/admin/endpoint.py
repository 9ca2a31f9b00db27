"""One admin API route: its declaration (`ApiRoute`) and the Starlette endpoint serving it.

An endpoint admits the caller (`Guard`), validates the body against the
route's request model, runs the handler on a worker thread (the broker is
synchronous; SQLite connections are per thread) and renders the handler's
response model as JSON. Every failure becomes ``{"error", "message"}``.
The same declarations produce the OpenAPI document (`openapi.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from eventyard.admin.guard import Guard, Principal
from eventyard.admin.inputs import parse_model
from eventyard.admin.models import RequestModel, ResponseModel
from eventyard.admin.replies import json_reply, reply_for
from eventyard.broker.client import Client

API_PREFIX = "/admin/api"


@dataclass(frozen=True)
class QueryParam:
    name: str
    kind: Literal["integer", "string"]
    description: str
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class Call:
    """What a handler gets: the request, the client, the caller and the validated body."""

    request: Request
    client: Client
    principal: Principal
    guard: Guard
    body: RequestModel | None

    def path(self, name: str) -> str:
        return str(self.request.path_params[name])


Handler = Callable[[Call], ResponseModel]


@dataclass(frozen=True)
class ApiRoute:
    """A JSON route under ``/admin/api`` (``path`` is relative to it)."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str
    handler: Handler
    summary: str
    response: type[ResponseModel]
    request: type[RequestModel] | None = None
    status: int = 200
    query: tuple[QueryParam, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return self.handler.__name__

    @property
    def full_path(self) -> str:
        return API_PREFIX + self.path


def api_route(spec: ApiRoute, guard: Guard, client: Callable[[], Client]) -> Route:
    """The Starlette route serving ``spec`` (its path relative to the ``/admin/api`` mount)."""
    where = f"{spec.method} {spec.full_path}"

    async def endpoint(request: Request) -> Response:
        try:
            principal = await guard.admit(request)
            body = None if spec.request is None else await parse_model(request, spec.request)
            call = Call(request, await run_in_threadpool(client), principal, guard, body)
            result = await run_in_threadpool(spec.handler, call)
            return json_reply(spec.status, result)
        except Exception as exc:
            return reply_for(exc, where)

    return Route(spec.path, endpoint, methods=[spec.method], name=spec.name)
