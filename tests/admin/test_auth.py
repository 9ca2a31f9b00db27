"""The admin token, sessions, CSRF tokens, one-time links and login throttling."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from tests_support import FakeClock

import eventyard
from eventyard.admin import auth


@pytest.fixture(autouse=True)
def _no_token_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(auth.TOKEN_ENV, raising=False)


def test_a_token_is_made_once_beside_the_database_with_mode_0600(tmp_path: Path) -> None:
    database = str(tmp_path / "shop.db")
    token = auth.load_or_create_token(database)
    assert len(token) >= 32
    assert stat.S_IMODE(os.stat(auth.token_path(database)).st_mode) == 0o600
    assert auth.load_or_create_token(database) == token


def test_a_readable_token_file_is_refused(tmp_path: Path) -> None:
    database = str(tmp_path / "shop.db")
    auth.load_or_create_token(database)
    os.chmod(auth.token_path(database), 0o644)
    with pytest.raises(eventyard.InvalidParameterValue, match=r"readable by others.*chmod 600"):
        auth.load_or_create_token(database)


def test_the_environment_wins_and_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(auth.TOKEN_ENV, "s3cret-token-of-the-operator")
    assert auth.load_or_create_token(str(tmp_path / "x.db")) == "s3cret-token-of-the-operator"
    assert not os.path.exists(auth.token_path(str(tmp_path / "x.db")))
    monkeypatch.setenv(auth.TOKEN_ENV, "short")
    with pytest.raises(eventyard.InvalidParameterValue, match="16 to 256 printable"):
        auth.load_or_create_token(None)


def test_bearer_headers() -> None:
    token = "a" * 20
    assert auth.bearer_matches(f"Bearer {token}", token)
    assert auth.bearer_matches(f"bearer {token}", token)
    for header in (None, "", token, f"Basic {token}", f"Bearer {token}x", "Bearer "):
        assert not auth.bearer_matches(header, token)


def test_sessions_are_signed_and_expire() -> None:
    clock = FakeClock()
    keys = auth.SessionKeys("t" * 20, clock)
    session, cookie = keys.new_session()
    assert keys.session(cookie) == session
    assert keys.session(cookie[:-1] + ("A" if cookie[-1] != "A" else "B")) is None
    assert keys.session("x.1.y") is None
    assert keys.session(None) is None
    assert auth.SessionKeys("u" * 20, clock).session(cookie) is None  # a new token: logged out
    clock.advance(auth.SESSION_SECONDS + 1)
    assert keys.session(cookie) is None


def test_csrf_tokens_belong_to_their_session() -> None:
    keys = auth.SessionKeys("t" * 20, FakeClock())
    first, _ = keys.new_session()
    second, _ = keys.new_session()
    assert keys.csrf_matches(first, first.csrf_token(keys))
    assert not keys.csrf_matches(first, second.csrf_token(keys))
    assert not keys.csrf_matches(first, None)


def test_a_one_time_link_works_once_and_expires() -> None:
    clock = FakeClock()
    keys = auth.SessionKeys("t" * 20, clock)
    code = keys.one_time_link()
    assert keys.redeem(code)
    assert not keys.redeem(code)
    late = keys.one_time_link()
    clock.advance(auth.ONE_TIME_LINK_SECONDS + 1)
    assert not keys.redeem(late)
    assert not keys.redeem("forged.9999999999.sig")


def test_failed_logins_are_throttled_per_address() -> None:
    clock = FakeClock()
    throttle = auth.LoginThrottle(clock)
    for _ in range(auth.MAX_FAILED_LOGINS):
        assert throttle.retry_after("10.0.0.1") == 0
        throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") > 0
    assert throttle.retry_after("10.0.0.2") == 0
    clock.advance(auth.FAILED_LOGIN_WINDOW_SECONDS + 1)
    assert throttle.retry_after("10.0.0.1") == 0
