"""The checkout benchmark's servers: ``eventyard run`` of an example app on a fresh database,
and what its database says about the orders (read-only)."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import IO, Final

import httpx

import eventyard
from eventyard.benchmarks._harness import BenchmarkError
from eventyard.benchmarks.queue import _progress, _url

#: System key -> (the example file, the label in reports).
SYSTEMS: Final = {
    "event_driven": ("app.py", "event-driven (app.py)"),
    "synchronous": ("fragile.py", "synchronous (fragile.py)"),
}
_STARTUP_SECONDS: Final = 60.0
_STOP_SECONDS: Final = 60.0
_POLL_SECONDS: Final = 0.25


def example_folder() -> str:
    """The checkout example's folder: the installed ``eventyard.examples.checkout``, or the
    repository's ``examples/checkout`` when eventyard runs from a checkout whose install does
    not map ``eventyard.examples`` (a path-only editable install)."""
    try:
        spec = importlib.util.find_spec("eventyard.examples.checkout")
    except ModuleNotFoundError:
        spec = None
    if spec is not None and spec.submodule_search_locations:
        return next(iter(spec.submodule_search_locations))
    source = os.path.dirname(os.path.abspath(eventyard.__file__))
    folder = os.path.normpath(os.path.join(source, "..", "..", "examples", "checkout"))
    if os.path.isfile(os.path.join(folder, "app.py")):
        return folder
    raise BenchmarkError("cannot find the checkout example (eventyard.examples.checkout)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """``python -m eventyard run <example>:app`` on a fresh database, its output in a log file."""

    system: str
    directory: str
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None

    @property
    def database(self) -> str:
        return os.path.join(self.directory, "checkout.db")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        app_file = os.path.join(example_folder(), SYSTEMS[self.system][0])
        env = {**os.environ, "CHECKOUT_LABELS_DIR": os.path.join(self.directory, "labels")}
        self.log = open(os.path.join(self.directory, "server.log"), "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "eventyard",
                "run",
                f"{app_file}:app",
                "--db",
                _url(self.database),
                "--port",
                str(self.port),
            ],
            cwd=self.directory,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + _STARTUP_SECONDS
        while True:
            if self.process.poll() is not None:
                raise BenchmarkError(f"{self.system}: the server exited:\n{self.output()}")
            try:
                if httpx.get(self.base_url + "/", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise BenchmarkError(f"{self.system}: the server did not answer in time")
            time.sleep(0.1)

    def output(self, tail: int = 4000) -> str:
        try:
            with open(os.path.join(self.directory, "server.log"), "rb") as file:
                return file.read()[-tail:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self.log is not None:
            self.log.close()


def pending(database: str) -> tuple[int, int]:
    """(orders without their stock taken, orders without a label), read-only."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as db:
        row = db.execute(
            "SELECT COALESCE(SUM(stock_taken_at IS NULL), 0),"
            " COALESCE(SUM(label_printed_at IS NULL), 0) FROM orders"
        ).fetchone()
    return int(row[0]), int(row[1])


def order_times(database: str) -> dict[str, tuple[float, float | None, float | None]]:
    """order id -> (placed_at, stock_taken_at, label_printed_at)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as db:
        rows = db.execute(
            "SELECT order_id, placed_at, stock_taken_at, label_printed_at FROM orders"
        ).fetchall()
    return {order_id: (placed, stock, label) for order_id, placed, stock, label in rows}


def wait_done(database: str, timeout: float) -> bool:
    """Wait until every order has its stock taken and its label printed; False on timeout."""
    deadline = time.monotonic() + timeout
    next_report = time.monotonic() + 30
    while True:
        stock, labels = pending(database)
        if stock == labels == 0:
            return True
        if time.monotonic() > deadline:
            return False
        if time.monotonic() > next_report:
            _progress(f"    ... {labels:,} labels and {stock:,} stock updates still to do")
            next_report += 30
        time.sleep(_POLL_SECONDS)
