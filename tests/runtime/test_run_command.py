"""`eventyard run`: applies the app, serves its routes, runs its functions, stops on SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

import eventyard

pytestmark = pytest.mark.slow

APP = """
import eventyard
from pydantic import BaseModel

app = eventyard.App("shop")
orders = app.topic("orders")
shipping = app.queue("shipping", visibility_timeout=30)
labels = app.queue("labels")
orders.subscribe(shipping, raw=True)


class Order(BaseModel):
    id: int
    total: float


@app.route("POST", "/checkout")
def checkout(order: Order, tx: eventyard.Transaction) -> dict:
    tx.execute("CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, total REAL)")
    tx.execute("INSERT INTO orders VALUES (?, ?)", (order.id, order.total))
    tx.publish("orders", order.model_dump())
    return {"order_id": order.id}


@app.consumer(shipping, batch_size=10, timeout_seconds=5)
def ship(batch, context):
    context.client.get_queue("labels").send_batch([r.body for r in batch])
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_run_serves_routes_runs_functions_and_stops_cleanly(tmp_path: Path) -> None:
    app_file = tmp_path / "shop.py"
    app_file.write_text(textwrap.dedent(APP))
    database = f"sqlite:///{tmp_path / 'shop.db'}"
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "eventyard",
            "run",
            str(app_file),
            "--db",
            database,
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.post(
                    f"http://127.0.0.1:{port}/checkout", json={"id": 7, "total": 12.5}, timeout=5
                )
                break
            except httpx.ConnectError:
                assert process.poll() is None, process.communicate()[0]
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.2)
        assert response.status_code == 200
        assert response.json() == {"order_id": 7}
        bad = httpx.post(f"http://127.0.0.1:{port}/checkout", json={"id": "x"}, timeout=5)
        assert bad.status_code == 422
        with eventyard.connect(database) as client:
            labels = client.get_queue("labels")
            deadline = time.monotonic() + 30
            while labels.stats().visible < 1:
                assert time.monotonic() < deadline, "the consumer did not run"
                time.sleep(0.1)
            assert [m.body for m in labels.receive()] == [{"id": 7, "total": 12.5}]
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
        assert process.returncode == 0, output
        assert "stopped" in output
        assert '"function":"ship"' in output  # one structured line per invocation
    finally:
        if process.poll() is None:
            process.kill()


def test_run_reports_a_taken_port(tmp_path: Path) -> None:
    app_file = tmp_path / "shop.py"
    app_file.write_text(textwrap.dedent(APP))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "eventyard",
                "run",
                str(app_file),
                "--db",
                f"sqlite:///{tmp_path / 'x.db'}",
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert "cannot serve HTTP" in done.stderr


def test_run_refuses_a_missing_app(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "eventyard", "run", str(tmp_path / "nope.py")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "does not exist" in done.stderr


RETRYING_APP = """
import eventyard

app = eventyard.App("retrying")
done = app.queue("done")


@app.on_event(pattern={"source": ["test"]}, retries=1, timeout_seconds=5)
def flaky(event, context):
    tries = context.client.get_queue("tries")
    tries.send("a try")
    if tries.stats().total == 1:
        raise RuntimeError("the first try fails")
    context.client.get_queue("done").send("retried")
"""


def test_async_retry_delay_shortens_the_wait_before_a_retry(tmp_path: Path) -> None:
    from running_app import start_eventyard, stop, wait_until

    app_file = tmp_path / "retrying.py"
    app_file.write_text(textwrap.dedent(RETRYING_APP))
    database = f"sqlite:///{tmp_path / 'r.db'}"
    with eventyard.connect(database) as client:
        client.create_queue("tries")
    process = start_eventyard(
        "worker",
        str(app_file),
        database,
        tmp_path / "log.txt",
        extra_args=("--async-retry-delay", "1"),
    )
    try:
        with eventyard.connect(database) as client:
            wait_until(lambda: "done" in client.list_queues(), timeout=60, what="the app applied")
            client.bus().put_events([{"source": "test", "detail_type": "x", "detail": {}}])
            # AWS's first retry waits 60 s; with --async-retry-delay 1 it comes within seconds.
            wait_until(
                lambda: client.get_queue("done").stats().visible == 1, timeout=45, what="retry"
            )
            assert client.get_queue("tries").stats().visible == 2
    finally:
        stop(process)
