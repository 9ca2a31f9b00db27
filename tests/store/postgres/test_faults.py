"""Faults of a real PostgreSQL server: a restart under load, a killed connection, a timeout.

Each test that hurts the server gets a server of its own (a restart would
break every other test's connections). What is checked is what users rely
on: a send that returned was stored; a message is never handed to two
consumers while in flight; an interrupted transaction leaves nothing behind;
and the store works again by itself once the server is back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import psycopg
import pytest
from postgres_server import start_server, stop_server
from running_app import start_eventyard, stop, wait_until

import eventyard
from eventyard.errors import StoreBusy, StoreError, StoreUnavailable

pgserver = pytest.importorskip("pgserver")


@pytest.fixture
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A PostgreSQL server for this test alone: (its URL, its data directory)."""
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="eventyard-pg-fault-"))
    data = home / "data"
    try:
        yield start_server(data), data
    finally:
        stop_server(data)
        import shutil

        shutil.rmtree(home, ignore_errors=True)


def restart(data: Path) -> None:
    """``pg_ctl restart -m fast``: every connection is cut, the server is back in ~1 s."""
    server = pgserver.get_server(data)
    from pgserver._commands import pg_ctl

    pg_ctl(["-w", "-m", "fast", "restart"], pgdata=data, user=server.system_user, timeout=30)


def with_query(url: str, **parameters: str) -> str:
    parts = urlsplit(url)
    query = "&".join(part for part in (parts.query, urlencode(parameters, quote_via=quote)) if part)
    return urlunsplit(parts._replace(query=query))


def test_a_restart_under_load_loses_nothing_and_hands_out_nothing_twice(
    own_server: tuple[str, Path],
) -> None:
    url, data = own_server
    client = eventyard.connect(url)
    queue = client.create_queue("work", visibility_timeout=120)
    accepted: set[str] = set()  # sends that returned: must all be there
    unsure: set[str] = set()  # sends cut off by the restart: there or not
    received: list[str] = []
    errors: list[Exception] = []
    lock = threading.Lock()
    stop_sending = threading.Event()
    stop_receiving = threading.Event()

    def produce() -> None:
        batch = 0
        while not stop_sending.is_set():
            bodies = [f"m-{batch}-{i}" for i in range(10)]
            batch += 1
            try:
                results = queue.send_batch(bodies)
            except StoreError as exc:
                with lock:
                    errors.append(exc)
                    unsure.update(bodies)
                time.sleep(0.05)
                continue
            assert all(result.ok for result in results)
            with lock:
                accepted.update(bodies)

    def consume() -> None:
        while not stop_receiving.is_set():
            try:
                messages = queue.receive(max_messages=10, wait_seconds=1)
                if messages:
                    with lock:
                        received.extend(m.body for m in messages)
                    queue.delete_batch(messages)
            except StoreError as exc:
                with lock:
                    errors.append(exc)
                time.sleep(0.05)

    threads = [threading.Thread(target=produce)] + [
        threading.Thread(target=consume) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        before = len(received)
        restart(data)
        time.sleep(2.0)
        stop_sending.set()
        threads[0].join(30)
        # Drain what is visible; a message whose claim or delete was cut off stays in
        # flight (its visibility timeout is 120 s) and is found by peeking below.
        deadline = time.monotonic() + 60
        while queue.stats().visible and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop_sending.set()
        stop_receiving.set()
        for thread in threads:
            thread.join(30)
    assert before > 0, "consumers worked before the restart"
    assert len(received) > before, "consumers worked after the restart"
    assert any(isinstance(e, StoreUnavailable) for e in errors), "the restart was felt"
    assert len(received) == len(set(received)), "a message was handed out twice"
    remaining = {m.body for m in queue.peek(limit=1000).messages}
    stored = set(received) | remaining
    assert accepted <= stored, f"lost: {sorted(accepted - stored)[:5]}"
    assert stored <= accepted | unsure
    assert queue.stats().visible == 0
    client.close()


def test_a_connection_killed_mid_transaction_leaves_nothing_and_the_next_call_works(
    postgres_url: str,
) -> None:
    client = eventyard.connect(postgres_url)
    queue = client.create_queue("work")
    with client.transaction() as tx:
        tx.execute("CREATE TABLE orders (id TEXT PRIMARY KEY)")

    def place_orders_while_an_operator_kills_the_connection() -> None:
        with client.transaction() as tx:
            tx.execute("INSERT INTO orders VALUES (?)", ("o-1",))
            tx.send("work", "order o-1 placed")
            (pid,) = tx.execute("SELECT pg_backend_pid()").fetchone()
            with psycopg.connect(postgres_url, autocommit=True) as operator:
                operator.execute("SELECT pg_terminate_backend(%s)", (pid,))
            tx.send("work", "order o-2 placed")

    with pytest.raises(StoreUnavailable, match="connection"):
        place_orders_while_an_operator_kills_the_connection()
    assert queue.stats().total == 0
    with client.transaction() as tx:
        assert tx.execute("SELECT count(*) FROM orders").fetchone()[0] == 0
    queue.send("after")
    assert [m.body for m in queue.receive()] == ["after"]
    client.close()


def test_a_statement_timeout_rolls_the_transaction_back(postgres_url: str) -> None:
    client = eventyard.connect(with_query(postgres_url, options="-c statement_timeout=200"))
    queue = client.create_queue("work")

    def send_then_run_a_slow_statement() -> None:
        with client.transaction() as tx:
            tx.send("work", "never")
            tx.execute("SELECT pg_sleep(2)")

    with pytest.raises(StoreBusy, match="statement_timeout"):
        send_then_run_a_slow_statement()
    assert queue.stats().total == 0
    queue.send("later")
    assert queue.stats().visible == 1
    client.close()


def test_an_unreachable_server_is_a_clear_retryable_error(tmp_path: Path) -> None:
    url = f"postgresql://nobody@/eventyard?host={tmp_path}&connect_timeout=2"
    with pytest.raises(StoreUnavailable, match="cannot connect to PostgreSQL") as caught:
        eventyard.connect(url)
    assert caught.value.retryable


WORKER_APP = """
import eventyard

app = eventyard.App("restartable")
jobs = app.queue("jobs", visibility_timeout=120)


@app.setup
def tables(client):
    with client.transaction() as tx:
        tx.execute("CREATE TABLE IF NOT EXISTS handled (body TEXT NOT NULL)")


@app.consumer(jobs, batch_size=10)
def handle(batch, context):
    with context.transaction() as tx:
        tx.executemany("INSERT INTO handled VALUES (?)", [(r.body,) for r in batch])
"""


def test_eventyard_workers_ride_out_a_server_restart(
    own_server: tuple[str, Path], tmp_path: Path
) -> None:
    url, data = own_server
    app = tmp_path / "restartable.py"
    app.write_text(WORKER_APP)
    workers = [
        start_eventyard("worker", str(app), url, tmp_path / f"worker-{n}.log") for n in range(2)
    ]
    try:
        client = eventyard.connect(url)
        wait_until(lambda: "handled" in _tables(url), timeout=60, what="the app to be applied")
        queue = client.get_queue("jobs")
        accepted: set[str] = set()
        unsure: set[str] = set()
        stop_sending = threading.Event()

        def produce() -> None:
            batch = 0
            while not stop_sending.is_set():
                bodies = [f"m-{batch}-{i}" for i in range(10)]
                batch += 1
                try:
                    queue.send_batch(bodies)
                    accepted.update(bodies)
                except StoreError:
                    unsure.update(bodies)
                    time.sleep(0.05)
                time.sleep(0.005)

        producer = threading.Thread(target=produce)
        producer.start()
        try:
            time.sleep(1.5)
            restart(data)
            time.sleep(2.5)
        finally:
            stop_sending.set()
            producer.join(30)
        handled_before_end = _handled(url)
        assert handled_before_end, "the workers handled messages"

        def drained() -> bool:
            try:
                return queue.stats().visible == 0
            except StoreError:
                return False

        wait_until(drained, timeout=90, what="the workers to take every visible message")
        time.sleep(1.0)  # the last batches' handlers commit
        handled = _handled(url)
        assert len(handled) == len(set(handled)), "a message was handled twice while in flight"
        remaining = {m.body for m in queue.peek(limit=1000).messages}
        assert accepted <= set(handled) | remaining
        assert set(handled) | remaining <= accepted | unsure
        assert all(worker.poll() is None for worker in workers), "a worker died"
        client.close()
    finally:
        for worker in workers:
            stop(worker)


def _tables(url: str) -> set[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT table_name FROM information_schema.tables").fetchall()
    return {row[0] for row in rows}


def _handled(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return [row[0] for row in conn.execute("SELECT body FROM handled").fetchall()]
