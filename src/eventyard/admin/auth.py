"""Who may use the admin surface: the admin token, browser sessions, CSRF, login throttling.

- **The token**: ``EVENTYARD_ADMIN_TOKEN`` if set (at least 16 characters),
  else a random one generated at first start and kept beside the database in
  ``<database>.admin-token``, created with mode 0600 (a group- or
  world-readable token file is refused). API clients send it as
  ``Authorization: Bearer <token>``.
- **Browser sessions**: the login form (or a one-time login link) exchanges
  the token for a session cookie: HttpOnly, SameSite=Strict, signed with a
  key derived from the token (so a new token ends every session), expiring
  after `SESSION_SECONDS`. Nothing about sessions is stored server-side.
- **CSRF**: a cookie-authenticated request that changes state must carry
  ``X-CSRF-Token`` (or a ``csrf`` form field) equal to the session's CSRF
  token, which the pages embed. Bearer requests need none (a browser never
  sends a bearer header on its own).
- **Throttling**: `LoginThrottle` refuses logins from an address after
  `MAX_FAILED_LOGINS` failures within `FAILED_LOGIN_WINDOW_SECONDS`.

Every comparison of secrets is constant-time (`hmac.compare_digest`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import stat
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from eventyard.errors import InvalidParameterValue

TOKEN_ENV: Final = "EVENTYARD_ADMIN_TOKEN"
TOKEN_MIN_LENGTH: Final = 16
TOKEN_MAX_LENGTH: Final = 256
SESSION_COOKIE: Final = "eventyard_session"
SESSION_SECONDS: Final = 12 * 3600
ONE_TIME_LINK_SECONDS: Final = 15 * 60
MAX_FAILED_LOGINS: Final = 5
FAILED_LOGIN_WINDOW_SECONDS: Final = 60.0


def token_path(database_path: str) -> str:
    return database_path + ".admin-token"


def _check_token(token: str, source: str) -> str:
    if not TOKEN_MIN_LENGTH <= len(token) <= TOKEN_MAX_LENGTH or not token.isprintable():
        raise InvalidParameterValue(
            f"{source}: the admin token must be {TOKEN_MIN_LENGTH} to {TOKEN_MAX_LENGTH} "
            f"printable characters, got {len(token)} characters"
        )
    return token


def load_or_create_token(database_path: str | None) -> str:
    """The admin token: from the environment, else the file beside the database (made once)."""
    configured = os.environ.get(TOKEN_ENV)
    if configured:
        return _check_token(configured.strip(), TOKEN_ENV)
    if database_path is None:
        raise InvalidParameterValue(
            f"set {TOKEN_ENV}: the admin token is kept beside the database only for SQLite"
        )
    path = token_path(database_path)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_token_file(path)
    token = secrets.token_urlsafe(32)
    with os.fdopen(descriptor, "w") as file:
        file.write(token + "\n")
        file.flush()
        os.fsync(file.fileno())
    return token


def _read_token_file(path: str) -> str:
    mode = os.stat(path).st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InvalidParameterValue(
            f"{path} is readable by others (mode {stat.S_IMODE(mode):o}); run: chmod 600 {path}"
        )
    with open(path) as file:
        return _check_token(file.read().strip(), path)


def bearer_matches(header: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header carries the token (constant-time)."""
    if not header:
        return False
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


# -- sessions --------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class Session:
    nonce: str
    expires: int

    def csrf_token(self, keys: SessionKeys) -> str:
        return keys.sign(f"csrf:{self.nonce}")


class SessionKeys:
    """Signs and checks session cookies, CSRF tokens and one-time login links."""

    def __init__(self, token: str, clock: Callable[[], float] = time.time) -> None:
        self._key = hashlib.sha256(b"eventyard-admin-session\0" + token.encode()).digest()
        self._clock = clock
        self._used_links: dict[str, float] = {}
        self._lock = threading.Lock()

    def sign(self, text: str) -> str:
        return _b64(hmac.new(self._key, text.encode(), hashlib.sha256).digest())

    def new_session(self) -> tuple[Session, str]:
        """A session and its cookie value."""
        session = Session(secrets.token_urlsafe(16), int(self._clock()) + SESSION_SECONDS)
        payload = f"{session.nonce}.{session.expires}"
        return session, f"{payload}.{self.sign('session:' + payload)}"

    def session(self, cookie: str | None) -> Session | None:
        """The session a cookie proves, or None (forged, malformed or expired)."""
        if not cookie or len(cookie) > 200:
            return None
        nonce, _, rest = cookie.partition(".")
        expires, _, signature = rest.partition(".")
        payload = f"{nonce}.{expires}"
        if not expires.isdigit() or not hmac.compare_digest(
            signature.encode(), self.sign("session:" + payload).encode()
        ):
            return None
        if int(expires) < self._clock():
            return None
        return Session(nonce, int(expires))

    def csrf_matches(self, session: Session, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(
            given.encode(), session.csrf_token(self).encode()
        )

    def one_time_link(self) -> str:
        """A login code valid once, for `ONE_TIME_LINK_SECONDS` (the demo prints it)."""
        payload = f"{secrets.token_urlsafe(12)}.{int(self._clock()) + ONE_TIME_LINK_SECONDS}"
        return f"{payload}.{self.sign('once:' + payload)}"

    def redeem(self, code: str | None) -> bool:
        """Whether a one-time code is genuine, unexpired and unused (it is used up now)."""
        if not code or len(code) > 200:
            return False
        nonce, _, rest = code.partition(".")
        expires, _, signature = rest.partition(".")
        payload = f"{nonce}.{expires}"
        if not expires.isdigit() or not hmac.compare_digest(
            signature.encode(), self.sign("once:" + payload).encode()
        ):
            return False
        now = self._clock()
        with self._lock:
            for used, until in list(self._used_links.items()):
                if until < now:
                    del self._used_links[used]
            if int(expires) < now or nonce in self._used_links:
                return False
            self._used_links[nonce] = int(expires)
        return True


class LoginThrottle:
    """At most `MAX_FAILED_LOGINS` failed logins per address per window."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, address: str) -> int:
        """Seconds until ``address`` may try again (0: it may now)."""
        with self._lock:
            failures = self._recent(address)
            if len(failures) < MAX_FAILED_LOGINS:
                return 0
            return max(1, int(failures[0] + FAILED_LOGIN_WINDOW_SECONDS - self._clock()) + 1)

    def failed(self, address: str) -> None:
        with self._lock:
            self._recent(address).append(self._clock())
            if len(self._failures) > 10_000:  # bound memory under a spray of addresses
                for key in list(self._failures)[:5_000]:
                    del self._failures[key]

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)

    def _recent(self, address: str) -> deque[float]:
        failures = self._failures.setdefault(address, deque())
        horizon = self._clock() - FAILED_LOGIN_WINDOW_SECONDS
        while failures and failures[0] < horizon:
            failures.popleft()
        return failures
