"""ChangeListener: LISTEN/NOTIFY wakes waiters, survives a dropped connection, stops promptly."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from eventyard.store.postgres import notify
from eventyard.store.postgres.notify import APPLICATION_NAME, ChangeListener, channel_name

CHANNEL = "eventyard_test"


@pytest.fixture
def listener(postgres_url: str) -> Iterator[ChangeListener]:
    changes = ChangeListener(postgres_url, CHANNEL)
    yield changes
    changes.close()


@pytest.fixture
def writer(postgres_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        yield conn


def send(conn: psycopg.Connection[Any], channel: str = CHANNEL) -> None:
    conn.execute(sql.SQL("NOTIFY {}").format(sql.Identifier(channel)))


def listening(changes: ChangeListener, token: int) -> None:
    """Wait for the wake-up that follows each LISTEN (taken with ``token`` before it)."""
    assert changes.wait(token, 10), "the listener never started listening"


def listener_pids(conn: psycopg.Connection[Any]) -> list[int]:
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE application_name = %s"
        " AND datname = current_database() AND query LIKE 'LISTEN%%'",
        (APPLICATION_NAME,),
    ).fetchall()
    return [row[0] for row in rows]


def eventually(predicate: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_an_unquoted_notify_reaches_a_mixed_case_schema(
    postgres_url: str, writer: psycopg.Connection[Any]
) -> None:
    changes = ChangeListener(postgres_url, channel_name("Mixed_Case"))
    token = changes.token()
    with changes.watch():
        listening(changes, token)
        token = changes.token()
        writer.execute(f"NOTIFY {channel_name('Mixed_Case')}".encode())
        assert changes.wait(token, 10) is True
    changes.close()


def test_a_notify_from_another_connection_wakes_a_waiter(
    listener: ChangeListener, writer: psycopg.Connection[Any]
) -> None:
    token = listener.token()
    with listener.watch() as watch:
        listening(watch, token)
        token = watch.token()
        woken: list[bool] = []
        waiter = threading.Thread(target=lambda: woken.append(watch.wait(token, 10)))
        waiter.start()
        time.sleep(0.05)
        started = time.monotonic()
        writer.execute("SELECT pg_notify(%s, '')", (CHANNEL,))
        waiter.join()
        assert woken == [True]
        assert time.monotonic() - started < 2


def test_wait_times_out_without_a_notify(
    listener: ChangeListener, writer: psycopg.Connection[Any]
) -> None:
    token = listener.token()
    with listener.watch():
        listening(listener, token)
        token = listener.token()
        send(writer, "eventyard_other_channel")
        started = time.monotonic()
        assert listener.wait(token, 0.3) is False
        assert time.monotonic() - started >= 0.3
        assert listener.wait(token, 0) is False


def test_only_a_committed_notify_wakes(
    listener: ChangeListener, writer: psycopg.Connection[Any]
) -> None:
    token = listener.token()
    with listener.watch():
        listening(listener, token)
        token = listener.token()
        with writer.transaction(force_rollback=True):
            send(writer)
        assert listener.wait(token, 0.3) is False
        with writer.transaction():
            send(writer)
            assert listener.wait(token, 0.3) is False  # not before the commit
        assert listener.wait(token, 10) is True


def test_notify_wakes_this_process_without_a_connection(postgres_url: str) -> None:
    changes = ChangeListener(postgres_url, CHANNEL)
    token = changes.token()
    threading.Timer(0.05, changes.notify).start()
    assert changes.wait(token, 10) is True
    assert changes.wait(changes.token(), 0) is False
    changes.close()


def test_the_listener_reconnects_after_its_backend_is_terminated(
    listener: ChangeListener, writer: psycopg.Connection[Any]
) -> None:
    token = listener.token()
    with listener.watch():
        listening(listener, token)
        [pid] = listener_pids(writer)
        token = listener.token()
        writer.execute("SELECT pg_terminate_backend(%s)", (pid,))
        listening(listener, token)  # re-LISTENed, and told waiters to look again
        eventually(lambda: len(listener_pids(writer)) == 1)
        assert listener_pids(writer) != [pid]
        token = listener.token()
        send(writer)
        assert listener.wait(token, 10) is True


def test_close_is_prompt_and_drops_the_connection(
    postgres_url: str, writer: psycopg.Connection[Any]
) -> None:
    changes = ChangeListener(postgres_url, CHANNEL)
    token = changes.token()
    with changes.watch():
        listening(changes, token)
        started = time.monotonic()
        changes.close()
        assert time.monotonic() - started < 0.5
    eventually(lambda: listener_pids(writer) == [])
    assert not any(t.name == "eventyard-pg-listen" and t.is_alive() for t in threading.enumerate())
    changes.close()  # twice is fine


def test_the_connection_exists_only_while_someone_waits(
    listener: ChangeListener, writer: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notify, "LINGER_SECONDS", 0.1)
    assert listener_pids(writer) == []
    for _ in range(2):
        token = listener.token()
        with listener.watch():
            listening(listener, token)
            assert len(listener_pids(writer)) == 1
            token = listener.token()
            send(writer)
            assert listener.wait(token, 10) is True
        eventually(lambda: listener_pids(writer) == [])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_listens_on_its_own(
    postgres_url: str, listener: ChangeListener, writer: psycopg.Connection[Any]
) -> None:
    token = listener.token()
    with listener.watch():
        listening(listener, token)
        pid = os.fork()
        if pid == 0:  # the child: a thread and a connection of its own
            code = 1
            try:
                token = listener.token()
                with listener.watch(), psycopg.connect(postgres_url, autocommit=True) as conn:
                    listening(listener, token)
                    token = listener.token()
                    send(conn)
                    code = 0 if listener.wait(token, 10) else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        # The parent's listening connection was left alone by the child.
        token = listener.token()
        send(writer)
        assert listener.wait(token, 10) is True


def test_channel_names() -> None:
    assert channel_name("eventyard") == "eventyard_eventyard"
    assert channel_name("Other_1") == "eventyard_other_1"
    with pytest.raises(ValueError, match="too long"):
        channel_name("a" * 63)
    with pytest.raises(ValueError, match="63 bytes"):
        ChangeListener("postgresql:///x", "a" * 64)
