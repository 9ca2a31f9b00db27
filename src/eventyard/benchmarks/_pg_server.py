"""The PostgreSQL server a benchmark runs on: a throwaway one, or the one ``--db`` names.

Without ``--db``, `throwaway_server` starts a server with `pgserver` (PostgreSQL's
binaries in a wheel; a benchmark/test-only dependency) in a temporary
directory, on a unix socket, with its default settings, and stops and
deletes it afterwards. Either way `server_settings` records what matters for
the figures (``synchronous_commit``, ``shared_buffers``, ``fsync``...).

Every measurement gets a fresh PostgreSQL schema (`create_schema`, dropped
by `drop_schema`), so no run sees another's dead rows or statistics. The URL
eventyard is given carries it as ``?schema=``; raw psycopg and PGQueuer are
given a connection string without eventyard's own parameters (`conninfo`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

#: eventyard's own URL parameters (libpq never sees them).
_OWN_PARAMETERS: Final = ("schema", "pool_size")
#: The settings recorded next to the figures.
SETTINGS: Final = (
    "server_version",
    "shared_buffers",
    "synchronous_commit",
    "fsync",
    "wal_sync_method",
    "full_page_writes",
    "wal_level",
    "max_connections",
    "work_mem",
    "max_wal_size",
    "checkpoint_timeout",
    "autovacuum",
    "autovacuum_naptime",
    "autovacuum_vacuum_cost_limit",
    "autovacuum_vacuum_cost_delay",
    "plan_cache_mode",
)


class ServerUnavailable(RuntimeError):
    """No server to run on (pgserver missing and no ``--db``, or it would not start)."""


@dataclass(frozen=True, slots=True)
class Server:
    """The server the benchmark runs on."""

    url: str
    #: Started by the benchmark (pgserver) rather than given with --db.
    throwaway: bool
    #: The postmaster's pid when the server runs on this machine and we know it (throwaway).
    postmaster_pid: int | None = None


@contextmanager
def throwaway_server(directory: str | None = None) -> Iterator[Server]:
    """Start a PostgreSQL server with pgserver in a new temporary directory."""
    try:
        import pgserver
    except ImportError as exc:
        raise ServerUnavailable(
            f"pgserver is not installed ({exc}): pip install pgserver to let the benchmark "
            "start a throwaway PostgreSQL server, or give one with --db postgresql://..."
        ) from None
    home = tempfile.mkdtemp(prefix="eventyard-bench-pg-", dir=directory)
    server: Any = None
    try:
        try:
            server = pgserver.get_server(f"{home}/data", cleanup_mode="stop")  # type: ignore[attr-defined]
        except Exception as exc:  # pgserver raises what initdb / pg_ctl raised
            raise ServerUnavailable(f"pgserver could not start PostgreSQL: {exc}") from exc
        yield Server(str(server.get_uri()), True, _postmaster_pid(f"{home}/data"))
    finally:
        if server is not None:
            server.cleanup()
        shutil.rmtree(home, ignore_errors=True)


def conninfo(url: str) -> str:
    """``url`` without eventyard's own query parameters: for psycopg, asyncpg, PGQueuer.

    Spaces stay ``%20`` (libpq does not read ``+`` as a space, e.g. in ``options=-c ...``).
    """
    parts = urlsplit(url)
    kept = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k not in _OWN_PARAMETERS
    ]
    return urlunsplit(parts._replace(query=urlencode(kept, quote_via=quote)))


def with_schema(url: str, schema: str) -> str:
    """``url`` with eventyard's ``schema=`` parameter set to ``schema``."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "schema"]
    query.append(("schema", schema))
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


def redacted(url: str) -> str:
    """``url`` without its password (for reports)."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def server_settings(url: str) -> dict[str, str]:
    """The server settings that shape the figures (SHOW of each of `SETTINGS`)."""
    settings: dict[str, str] = {}
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        for name in SETTINGS:
            row = conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()
            settings[name] = "" if row is None else str(row[0])
    return settings


def create_schema(url: str, schema: str) -> None:
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        name = sql.Identifier(schema)
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(name))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(name))


def analyze_schema(url: str, schema: str) -> None:
    """ANALYZE every table of ``schema`` (what autovacuum does to a table in use, sooner)."""
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
        ).fetchall()
        for (table,) in tables:
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, table)))


def drop_schema(url: str, schema: str) -> None:
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def is_postgres_url(url: str | None) -> bool:
    return url is not None and urlsplit(url).scheme in ("postgresql", "postgres")


def _postmaster_pid(data_directory: str) -> int | None:
    try:
        with open(os.path.join(data_directory, "postmaster.pid"), encoding="utf-8") as file:
            return int(file.readline().strip())
    except (OSError, ValueError):
        return None


_TICKS: Final = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int | str) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as file:
            text = file.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: split after its closing parenthesis.
    return text[text.rindex(")") + 2 :].split()


def server_cpu_seconds(postmaster_pid: int | None) -> float | None:
    """CPU time (user + system) the server has used so far: postmaster and backends.

    The postmaster's own time, plus that of its children that have exited
    (its ``cutime``/``cstime``: it reaps them), plus that of the live
    children: the difference between two calls is what the server spent in
    between, whatever backends came and went. None when unknown (not Linux,
    or not a server on this machine).
    """
    if postmaster_pid is None:
        return None
    own = _stat(postmaster_pid)
    if own is None:
        return None
    # Fields after the name, 0-based: ppid 1, utime 11, stime 12, cutime 13, cstime 14.
    ticks = sum(int(value) for value in own[11:15])
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for entry in entries:
        if not entry.isdigit():
            continue
        fields = _stat(entry)
        if fields is not None and int(fields[1]) == postmaster_pid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / _TICKS


def commits(url: str) -> int | None:
    """Transactions committed in this database so far (pg_stat_database.xact_commit)."""
    try:
        with psycopg.connect(conninfo(url), autocommit=True) as conn:
            row = conn.execute(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
            ).fetchone()
    except psycopg.Error:
        return None
    return None if row is None else int(row[0])
