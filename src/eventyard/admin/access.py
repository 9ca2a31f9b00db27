"""Starting the admin surface: the token, the session keys, and what to tell the operator.

`admin_access` loads (or makes) the token for a database; `announcement`
gives the lines `eventyard run`, `eventyard serve` and the demo print: the
admin URL, where the token is kept (never the token), and a one-time login
link.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from starlette.routing import BaseRoute

from eventyard.admin.auth import TOKEN_ENV, SessionKeys, load_or_create_token, token_path
from eventyard.admin.surface import admin_routes
from eventyard.broker.client import Client
from eventyard.store import sqlite_path


@dataclass(frozen=True)
class AdminAccess:
    token: str
    keys: SessionKeys
    #: Where the token comes from: the file beside the database, or the variable.
    token_location: str

    def routes(self, client_factory: Callable[[], Client]) -> list[BaseRoute]:
        return admin_routes(client_factory, self.keys, self.token)


def admin_access(database_url: str) -> AdminAccess:
    """The admin token of a database (``$EVENTYARD_ADMIN_TOKEN``, or the file beside it)."""
    path = sqlite_path(database_url)
    token = load_or_create_token(path)
    if os.environ.get(TOKEN_ENV) or path is None:
        location = f"the environment variable {TOKEN_ENV}"
    else:
        location = os.path.abspath(token_path(path))
    return AdminAccess(token, SessionKeys(token), location)


def admin_access_if_configured(database_url: str) -> AdminAccess | None:
    """`admin_access`, or None where no token can be found or made: a server database
    (PostgreSQL) without ``$EVENTYARD_ADMIN_TOKEN``. Every machine must share the token,
    so eventyard never makes one up for a server database."""
    if sqlite_path(database_url) is None and not os.environ.get(TOKEN_ENV):
        return None
    return admin_access(database_url)


def base_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def login_link(access: AdminAccess, base: str) -> str:
    """A one-time login link (valid 15 minutes, once)."""
    return f"{base}/admin/login?once={access.keys.one_time_link()}"


def announcement(access: AdminAccess, base: str) -> list[str]:
    """What to print at start: the admin URL, where the token is, a one-time link."""
    return [
        f"admin: {base}/admin/ (API {base}/admin/api/, token in {access.token_location})",
        f"one-time login link (15 minutes): {login_link(access, base)}",
    ]
