"""How the admin surface answers: JSON bodies, errors, and HTML pages with safe headers.

Every answer says ``Cache-Control: no-store`` (queue contents and tokens must
not sit in a cache); pages also forbid framing, scripts from elsewhere and
leaking their address (a one-time login link) in a ``Referer``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

import pydantic_core
from starlette.responses import HTMLResponse, Response

from eventyard.errors import EventyardError, StoreError
from eventyard.runtime.http import error_status

logger = logging.getLogger("eventyard.admin")

NO_STORE: Final = {"Cache-Control": "no-store"}
PAGE_HEADERS: Final = {
    **NO_STORE,
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class ApiError(Exception):
    """A request the admin API refuses: answered as ``{"error": code, "message": ...}``.

    eventyard's own errors are answered the same way, their class name as the code
    (``QueueDoesNotExist``), with the status of `error_status`."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def json_reply(status: int, content: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        pydantic_core.to_json(content),
        status_code=status,
        headers={**NO_STORE, **(headers or {})},
        media_type="application/json",
    )


def error_reply(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    return json_reply(status, {"error": code, "message": message}, headers)


def reply_for(exc: Exception, where: str) -> Response:
    """The answer to an exception raised while serving ``where``."""
    if isinstance(exc, ApiError):
        return error_reply(exc.status, exc.code, exc.message, exc.headers)
    if isinstance(exc, EventyardError):
        status = error_status(exc)
        if status == 503:
            logger.warning("%s: %s: %s", where, type(exc).__name__, exc)
            message = "the database is busy; try again" if isinstance(exc, StoreError) else str(exc)
            return error_reply(503, type(exc).__name__, message, {"Retry-After": "1"})
        if status != 500:
            return error_reply(status, type(exc).__name__, str(exc))
    logger.error("%s failed", where, exc_info=exc)
    return error_reply(500, "InternalError", "internal server error (the server log has details)")


def page(status: int, html: str, headers: Mapping[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(html, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})
