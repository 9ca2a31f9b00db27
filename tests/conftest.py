"""Shared fixtures: a database per test on every storage backend, and a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres_server import postgres_server_url, postgres_url
from tests_support import FakeClock

import eventyard

BACKENDS = ["sqlite", "postgresql"]

__all__ = ["postgres_server_url", "postgres_url"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A fresh database on the test's backend: a new SQLite file, or a new PostgreSQL
    database on the session's throwaway server (started on first use)."""
    if backend == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'eventyard.db'}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(database_url: str, clock: FakeClock) -> Iterator[eventyard.Client]:
    """A client on a fresh database whose clock the test controls."""
    with eventyard.connect(database_url, durability="process", clock=clock) as c:
        yield c


@pytest.fixture
def live_client(database_url: str) -> Iterator[eventyard.Client]:
    """A client on a fresh database with the real clock (for waits and threads)."""
    with eventyard.connect(database_url, durability="process") as c:
        yield c
