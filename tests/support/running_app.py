"""`running_app`: an app served by a real `eventyard run` on loopback, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningApp:
    """A started `eventyard run` (or `eventyard worker`) process."""

    process: subprocess.Popen[str]
    url: str
    database_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)


def start_eventyard(
    command: str,
    app_reference: str,
    database_url: str,
    log_path: Path,
    *,
    port: int | None = None,
    extra_args: tuple[str, ...] = (),
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[str]:
    """Start ``eventyard COMMAND APP --db URL [--port P]`` with its output in ``log_path``."""
    args = [sys.executable, "-m", "eventyard", command, app_reference, "--db", database_url]
    if port is not None:
        args += ["--port", str(port)]
    log = log_path.open("a")
    try:
        return subprocess.Popen(
            [*args, *extra_args],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
            # Its own group: kill -9 of the group takes the supervisor (its function workers
            # have their own sessions; they finish the batch in hand and exit on stdin EOF).
            start_new_session=True,
        )
    finally:
        log.close()


def stop(process: subprocess.Popen[str], *, kill: bool = False, timeout: float = 30) -> None:
    """SIGTERM (or SIGKILL of the whole process group) and wait."""
    if process.poll() is None:
        if kill:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout)


@contextmanager
def running_app(
    app_reference: str,
    database_url: str,
    log_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
    ready_path: str = "/",
    startup_seconds: float = 60,
) -> Iterator[RunningApp]:
    """`eventyard run` on a free loopback port; ready once ``ready_path`` answers at all."""
    port = free_port()
    process = start_eventyard(
        "run", app_reference, database_url, log_path, port=port, env=env, extra_args=extra_args
    )
    url = f"http://127.0.0.1:{port}"
    running = RunningApp(process, url, database_url, log_path)
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            if process.poll() is not None:
                raise AssertionError(f"eventyard run exited early:\n{running.log()}")
            try:
                httpx.get(url + ready_path, timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"eventyard run never served:\n{running.log()}") from None
                time.sleep(0.1)
        yield running
    finally:
        stop(process)
        if process.returncode not in (0, -signal.SIGTERM):
            print(running.log())  # shown by pytest when the test fails


def wait_until(
    condition: object, *, timeout: float = 60, interval: float = 0.1, what: str = "condition"
) -> None:
    """Wait (polling: this is a test watching from outside) until ``condition()`` is truthy."""
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
