"""Who is asking: a Bearer token or a session cookie, and CSRF for cookie writes.

`Guard.admit` answers 401 (``WWW-Authenticate: Bearer``) without a valid
``Authorization: Bearer <token>`` header or session cookie. A request that
sends an ``Authorization`` header is judged by it alone (a wrong token is
not rescued by a cookie). A cookie-authenticated request that may change
state (POST, PUT, PATCH, DELETE) must also carry the session's CSRF token in
``X-CSRF-Token`` or a ``csrf`` form field, else 403. Nothing is read or
changed before these checks pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from starlette.requests import Request

from eventyard.admin.auth import SESSION_COOKIE, Session, SessionKeys, bearer_matches
from eventyard.admin.inputs import MAX_BODY_BYTES, form_fields
from eventyard.admin.replies import ApiError

UNSAFE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER: Final = "x-csrf-token"
CSRF_FIELD: Final = "csrf"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: by the bearer token, or by a session cookie."""

    kind: Literal["bearer", "session"]
    session: Session | None = None


class Guard:
    def __init__(self, token: str, keys: SessionKeys) -> None:
        self._token = token
        self.keys = keys

    def identify(self, request: Request) -> Principal | None:
        """The caller, if the request proves who it is (no CSRF check)."""
        header = request.headers.get("authorization")
        if header is not None:
            return Principal("bearer") if bearer_matches(header, self._token) else None
        session = self.keys.session(request.cookies.get(SESSION_COOKIE))
        return None if session is None else Principal("session", session)

    async def admit(self, request: Request) -> Principal:
        """The caller, or `ApiError` 401 (unknown) / 403 (cookie write without CSRF)."""
        principal = self.identify(request)
        if principal is None:
            raise ApiError(
                401,
                "Unauthorized",
                "send Authorization: Bearer <admin token>, or log in at /admin/login",
                {"WWW-Authenticate": 'Bearer realm="eventyard-admin"'},
            )
        if principal.session is not None and request.method in UNSAFE_METHODS:
            given = request.headers.get(CSRF_HEADER)
            if given is None:
                given = (await form_fields(request, MAX_BODY_BYTES)).get(CSRF_FIELD)
            if not self.keys.csrf_matches(principal.session, given):
                raise ApiError(
                    403,
                    "CsrfTokenMismatch",
                    "a cookie-authenticated change needs the session's CSRF token in the "
                    "X-CSRF-Token header or a csrf form field (GET /admin/api/session has it)",
                )
        return principal
