"""The SQLite store itself: pragmas, migrations, busy handling, URLs, transactions."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

import eventyard
from eventyard.errors import SchemaTooNew, StoreBusy, UnsupportedDatabaseUrl
from eventyard.store import open_store, resolve_url, sqlite_path
from eventyard.store.sqlite import SQLiteStore
from eventyard.store.sqlite.schema import SCHEMA_VERSION


def test_durability_settings_map_to_synchronous(tmp_path: Path) -> None:
    for durability, expected in (("full", 2), ("process", 1)):
        store = SQLiteStore(str(tmp_path / f"{durability}.db"), durability=durability)  # type: ignore[arg-type]
        conn = store.database.connection()
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == expected
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        store.close()


def test_schema_is_versioned_and_migrated_once(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    SQLiteStore(str(path)).close()
    SQLiteStore(str(path)).close()
    with sqlite3.connect(path) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM eventyard_schema")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    SQLiteStore(str(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO eventyard_schema VALUES (?, 0)", (SCHEMA_VERSION + 1,))
    with pytest.raises(SchemaTooNew, match="upgrade eventyard"):
        SQLiteStore(str(path))


def test_a_held_write_lock_becomes_store_busy_not_database_is_locked(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    with eventyard.connect(f"sqlite:///{path}", busy_timeout_seconds=0.3) as client:
        queue = client.create_queue("q")
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreBusy, match="stayed locked"):
                queue.send("x")
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        queue.send("x")  # and all is well once the lock is gone
        assert queue.stats().visible == 1


def test_a_briefly_held_lock_is_waited_for(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    with eventyard.connect(f"sqlite:///{path}") as client:
        queue = client.create_queue("q")
        blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        blocker.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.3, lambda: blocker.execute("COMMIT"))
        release.start()
        queue.send("x")  # waits for the lock instead of failing
        release.join()
        blocker.close()
        assert queue.stats().visible == 1


def test_transaction_joins_several_calls(tmp_path: Path) -> None:
    with eventyard.connect(f"sqlite:///{tmp_path / 'x.db'}") as client:
        queue = client.create_queue("q")

        def fail_after_two_sends() -> None:
            with client.store.transaction():
                queue.send("one")
                queue.send("two")
                raise RuntimeError("the application failed: nothing is sent")

        with pytest.raises(RuntimeError):
            fail_after_two_sends()
        assert queue.stats().visible == 0
        with client.store.transaction():
            queue.send("one")
            queue.send("two")
        assert queue.stats().visible == 2


def test_a_failed_call_inside_a_transaction_does_not_abort_it(tmp_path: Path) -> None:
    with eventyard.connect(f"sqlite:///{tmp_path / 'x.db'}") as client:
        queue = client.create_queue("q")
        with client.store.transaction():
            queue.send("purged")
            queue.purge()
            queue.send("kept")
            with pytest.raises(eventyard.PurgeQueueInProgress):
                queue.purge()
        assert [m.body for m in queue.receive(10)] == ["kept"]


def test_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert sqlite_path("sqlite:///./x.db") == "./x.db"
    assert sqlite_path("sqlite:////abs/x.db") == "/abs/x.db"
    assert sqlite_path("plain/path.db") == "plain/path.db"
    assert sqlite_path("postgresql://h/db") is None
    monkeypatch.delenv("EVENTYARD_DB", raising=False)
    assert resolve_url(None) == "sqlite:///./eventyard.db"
    monkeypatch.setenv("EVENTYARD_DB", f"sqlite:///{tmp_path}/env.db")
    assert resolve_url(None).endswith("env.db")
    store = open_store()
    assert store.url.endswith("env.db")
    store.close()
    with pytest.raises(UnsupportedDatabaseUrl):
        sqlite_path("sqlite:///")


def test_default_database_is_eventyard_db_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EVENTYARD_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    with eventyard.connect() as client:
        client.create_queue("q")
    assert (tmp_path / "eventyard.db").exists()


def test_closed_store_refuses_work(tmp_path: Path) -> None:
    client = eventyard.connect(f"sqlite:///{tmp_path / 'x.db'}")
    queue = client.create_queue("q")
    client.close()
    client.close()  # twice is fine
    with pytest.raises(eventyard.StoreError, match="closed"):
        queue.send("x")


def test_a_commit_by_another_store_wakes_a_waiter(tmp_path: Path) -> None:
    """Another store on the same file (as in another process) wakes a waiter at once."""
    path = tmp_path / "x.db"
    store = SQLiteStore(str(path))
    other = SQLiteStore(str(path))
    if not store.database.signal.cross_process_notifications:
        pytest.skip("no inotify on this platform")
    with store.watch() as watch:
        token = watch.token()

        def write() -> None:
            with other.transaction() as conn:
                conn.execute("CREATE TABLE t (x)")  # type: ignore[attr-defined]

        threading.Timer(0.2, write).start()
        started = time.monotonic()
        assert watch.wait(token, 10)
        assert time.monotonic() - started < 5
    other.close()
    store.close()


def test_a_raw_write_does_not_wake(tmp_path: Path) -> None:
    """Only eventyard's commits announce themselves (after the data is visible)."""
    path = tmp_path / "x.db"
    store = SQLiteStore(str(path))
    writer = sqlite3.connect(path, isolation_level=None)
    with store.watch() as watch:
        token = watch.token()
        writer.execute("CREATE TABLE t (x)")
        assert not watch.wait(token, 0.3)
    writer.close()
    store.close()


def test_a_forked_child_can_use_the_parents_client(tmp_path: Path) -> None:
    """Connections and the wake-up watcher are per process: a child opens its own."""
    import multiprocessing

    path = tmp_path / "x.db"
    with eventyard.connect(f"sqlite:///{path}") as client:
        queue = client.create_queue("q")
        queue.receive(wait_seconds=0.1)  # the parent's watcher thread exists now

        def child() -> None:
            got = queue.receive(wait_seconds=5)
            queue.send("from-child")
            raise SystemExit(0 if [m.body for m in got] == ["from-parent"] else 1)

        process = multiprocessing.get_context("fork").Process(target=child)
        process.start()
        time.sleep(0.3)
        queue.send("from-parent")
        process.join(timeout=20)
        assert process.exitcode == 0
        assert [m.body for m in queue.receive(wait_seconds=5)] == ["from-child"]
