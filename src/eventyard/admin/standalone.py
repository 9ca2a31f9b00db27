"""`eventyard serve`: the admin surface alone, for a database other processes write.

``/`` redirects to ``/admin/``. The server runs on a thread and SIGTERM or
SIGINT stop it gracefully, so the command exits 0 (uvicorn on the main
thread would re-raise the signal and die of it).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from eventyard.admin.access import AdminAccess
from eventyard.broker.client import Client
from eventyard.runtime.http import create_asgi_app, serve


async def _to_admin(request: Request) -> Response:
    return RedirectResponse("/admin/", 307)


def standalone_app(access: AdminAccess, client_factory: Callable[[], Client]) -> Starlette:
    """The admin surface alone, ``/`` redirecting to ``/admin/``."""
    return create_asgi_app(
        [],
        client_factory,
        admin_routes=access.routes(client_factory),
        extra_routes=[Route("/", _to_admin, methods=["GET"])],
    )


def serve_until_signal(
    app: Starlette, host: str, port: int, *, ready: threading.Event | None = None
) -> None:
    """Serve until SIGTERM or SIGINT (main thread only); OSError if it cannot listen."""
    stop = threading.Event()
    failures: list[OSError] = []

    def handle(signum: int, frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}

    def run() -> None:
        try:
            serve(app, host, port, ready=ready, stop=stop)
        except OSError as exc:
            failures.append(exc)

    try:
        thread = threading.Thread(target=run, name="eventyard-admin-http")
        thread.start()
        while thread.is_alive():
            thread.join(0.5)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failures:
        raise failures[0]
