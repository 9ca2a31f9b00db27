"""A real, throwaway PostgreSQL server for tests, and a fresh database per test.

`pgserver` ships PostgreSQL's binaries in a wheel and starts a server on a
unix socket in about half a second, so the suite needs no installed or
running PostgreSQL. One server per test session (per xdist worker); every
test gets a database of its own, dropped afterwards, so tests never see each
other's tables and may run in any order.

The server's data lives in a directory of its own under the system temp
directory, not under pytest's ``tmp_path_factory``: run as root, pgserver
runs PostgreSQL as a separate ``pgserver`` user and opens up the parent
directories for it, and every pytest session that starts meanwhile (another
terminal, another engineer) makes ``/tmp/pytest-of-root`` private again, so
the server could no longer be stopped cleanly. The session fixture stops the
server and deletes the directory itself.

pgserver's URI puts the socket directory in the query string
(``postgresql://postgres:@/postgres?host=/tmp/...``): `database_url` swaps
the database name in the path and keeps that ``host=`` parameter.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

_databases = itertools.count(1)
_servers: dict[Path, Any] = {}


def start_server(directory: Path | str) -> str:
    """Start (or reuse) a PostgreSQL server whose data lives in ``directory``; its base URI.

    ``directory`` need not exist (its parent must). pgserver stops the server
    when this process exits (its own atexit hook), or at `stop_server`.
    """
    pgserver = pytest.importorskip("pgserver")
    path = Path(directory).resolve()
    server = _servers[path] = pgserver.get_server(path, cleanup_mode="stop")
    return str(server.get_uri())


def stop_server(directory: Path | str) -> None:
    """Stop the server `start_server` started on ``directory`` (nothing if it did not)."""
    server = _servers.pop(Path(directory).resolve(), None)
    if server is not None:
        server.cleanup()


def database_url(server_url: str, database: str) -> str:
    """``server_url`` with its database name replaced by ``database`` (query kept)."""
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """The base URI of a PostgreSQL server started once for the test session."""
    pytest.importorskip("psycopg")
    home = Path(tempfile.mkdtemp(prefix="eventyard-pg-"))
    try:
        yield start_server(home / "data")
        stop_server(home / "data")
    finally:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """The URL of a fresh, empty database, dropped after the test."""
    psycopg = pytest.importorskip("psycopg")
    from psycopg import sql

    name = f"t_{next(_databases)}_{os.getpid()}"
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield database_url(postgres_server_url, name)
    finally:
        with psycopg.connect(postgres_server_url, autocommit=True) as conn:
            # FORCE: a test may leave connections open (a listener, a pool, a child).
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
