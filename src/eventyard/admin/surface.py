"""The admin surface as Starlette routes, all under ``/admin``.

``/admin/api/...`` (JSON, `api.ROUTES`, plus ``openapi.json``), ``/admin/login``,
``/admin/logout``, the dashboard's pages and static files (`dashboard.py`:
``/admin/``, ``/admin/queues/...``, ``/admin/functions``, ``/admin/static/...``),
and ``/metrics`` (Prometheus text, behind the same guard). Any other path under
``/admin/api`` also demands authentication before it answers 404.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from eventyard.admin.api import ROUTES
from eventyard.admin.auth import LoginThrottle, SessionKeys
from eventyard.admin.dashboard import dashboard_routes, metrics_endpoint
from eventyard.admin.endpoint import API_PREFIX, api_route
from eventyard.admin.guard import Guard
from eventyard.admin.login import LoginPages
from eventyard.admin.openapi import OPENAPI_PATH, openapi_document
from eventyard.admin.replies import ApiError, json_reply, reply_for
from eventyard.broker.client import Client

ADMIN_PREFIX = "/admin"


def _lazy(factory: Callable[[], Client]) -> Callable[[], Client]:
    """The client, made at first use and shared afterwards."""
    lock, made = threading.Lock(), list[Client]()

    def client() -> Client:
        with lock:
            if not made:
                made.append(factory())
            return made[0]

    return client


def _guarded_document(guard: Guard) -> Callable[[Request], object]:
    document = openapi_document(ROUTES)

    async def openapi(request: Request) -> Response:
        try:
            await guard.admit(request)
        except ApiError as exc:
            return reply_for(exc, "GET " + API_PREFIX + OPENAPI_PATH)
        return json_reply(200, document)

    return openapi


def _guarded_not_found(guard: Guard) -> Callable[[Request], object]:
    async def not_found(request: Request) -> Response:
        try:
            await guard.admit(request)
            raise ApiError(404, "NotFound", f"no route matches {request.method} {request.url.path}")
        except ApiError as exc:
            return reply_for(exc, request.url.path)

    return not_found


def admin_routes(
    client_factory: Callable[[], Client],
    keys: SessionKeys,
    token: str,
    *,
    throttle: LoginThrottle | None = None,
) -> list[BaseRoute]:
    """The admin surface, mounted at ``/admin``, and ``/metrics``. ``client_factory`` is
    called once, lazily."""
    guard = Guard(token, keys)
    client = _lazy(client_factory)
    pages = LoginPages(token, keys, throttle or LoginThrottle())
    api: list[BaseRoute] = [api_route(spec, guard, client) for spec in ROUTES]
    api.append(Route(OPENAPI_PATH, _guarded_document(guard), methods=["GET"], name="openapi"))
    api.append(Route("/{rest:path}", _guarded_not_found(guard), name="api_not_found"))
    return [
        Mount(
            ADMIN_PREFIX,
            routes=[
                Mount(API_PREFIX[len(ADMIN_PREFIX) :], routes=api),
                Route("/login", pages.show, methods=["GET"], name="login_form"),
                Route("/login", pages.submit, methods=["POST"], name="login"),
                Route("/logout", pages.logout, methods=["POST"], name="logout"),
                *dashboard_routes(guard, client),
            ],
        ),
        Route("/metrics", metrics_endpoint(guard, client), methods=["GET"], name="metrics"),
    ]
