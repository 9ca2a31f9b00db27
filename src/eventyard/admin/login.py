"""The browser's way in: ``/admin/login`` (a form posting the token, or a one-time link)
and ``/admin/logout``.

A good token or link sets the session cookie (HttpOnly, SameSite=Strict,
path ``/admin``; Secure over HTTPS). Failed attempts are counted per client
address (`LoginThrottle`): past the limit every attempt, good or bad, gets
429 with ``Retry-After`` until the window passes. A one-time link answers
with a page that moves on to ``/admin/`` itself, so the SameSite=Strict
cookie goes along even when the link was opened from another site.
"""

from __future__ import annotations

import hmac
from html import escape
from typing import Final

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from eventyard.admin.auth import SESSION_COOKIE, SESSION_SECONDS, LoginThrottle, SessionKeys
from eventyard.admin.guard import CSRF_FIELD, CSRF_HEADER
from eventyard.admin.inputs import form_fields
from eventyard.admin.replies import NO_STORE, ApiError, page

LOGIN_PATH: Final = "/admin/login"
HOME_PATH: Final = "/admin/"


def document(title: str, content: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)} · eventyard</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:3em auto;"
        "padding:0 1em}input{font:inherit;padding:.3em}.error{color:#b00}"
        "table{border-collapse:collapse}td,th{padding:.2em .8em;text-align:left}</style>"
        f"</head><body>{content}</body></html>"
    )


def login_page(message: str | None = None) -> str:
    notice = "" if message is None else f"<p class=error>{escape(message)}</p>"
    return document(
        "Log in",
        "<h1>eventyard admin</h1>"
        f"{notice}"
        f'<form method=post action="{LOGIN_PATH}">'
        "<label>Admin token <input type=password name=token autocomplete=current-password "
        "required autofocus></label> <button type=submit>Log in</button></form>"
        "<p>The token is in the file beside the database (<code>&lt;database&gt;.admin-token"
        "</code>) or in <code>EVENTYARD_ADMIN_TOKEN</code>.</p>",
    )


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class LoginPages:
    def __init__(self, token: str, keys: SessionKeys, throttle: LoginThrottle) -> None:
        self._token = token
        self._keys = keys
        self._throttle = throttle

    def _throttled(self, request: Request) -> Response | None:
        wait = self._throttle.retry_after(_address(request))
        if not wait:
            return None
        return page(
            429,
            login_page(f"Too many failed logins from your address; try again in {wait} s."),
            {"Retry-After": str(wait)},
        )

    def _with_session(self, response: Response, request: Request) -> Response:
        _, cookie = self._keys.new_session()
        response.set_cookie(
            SESSION_COOKIE,
            cookie,
            max_age=SESSION_SECONDS,
            path="/admin",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    async def show(self, request: Request) -> Response:
        """``GET /admin/login``: the form, or (``?once=CODE``) a one-time link redeemed."""
        code = request.query_params.get("once")
        if code is None:
            return page(200, login_page())
        refused = self._throttled(request)
        if refused is not None:
            return refused
        if not self._keys.redeem(code):
            self._throttle.failed(_address(request))
            return page(401, login_page("This login link is not valid: expired or used already."))
        self._throttle.succeeded(_address(request))
        onward = document(
            "Logged in",
            f'<meta http-equiv=refresh content="0;url={HOME_PATH}">'
            f'<p>Logged in. <a href="{HOME_PATH}">Continue</a></p>',
        )
        return self._with_session(page(200, onward), request)

    async def submit(self, request: Request) -> Response:
        """``POST /admin/login``: a form with ``token``."""
        refused = self._throttled(request)
        if refused is not None:
            return refused
        try:
            given = (await form_fields(request)).get("token", "")
        except ApiError as exc:
            return page(exc.status, login_page(exc.message))
        if hmac.compare_digest(given.strip().encode(), self._token.encode()):
            self._throttle.succeeded(_address(request))
            return self._with_session(RedirectResponse(HOME_PATH, 303, NO_STORE), request)
        self._throttle.failed(_address(request))
        return page(401, login_page("That is not the admin token."))

    async def logout(self, request: Request) -> Response:
        """``POST /admin/logout`` (CSRF-checked): forget the cookie."""
        session = self._keys.session(request.cookies.get(SESSION_COOKIE))
        if session is not None:
            try:
                given = request.headers.get(CSRF_HEADER) or (await form_fields(request)).get(
                    CSRF_FIELD
                )
            except ApiError as exc:
                return page(exc.status, login_page(exc.message))
            if not self._keys.csrf_matches(session, given):
                return page(403, login_page("Logging out needs the page's CSRF token."))
        response = RedirectResponse(LOGIN_PATH, 303, NO_STORE)
        response.delete_cookie(SESSION_COOKIE, path="/admin", httponly=True, samesite="strict")
        return response
