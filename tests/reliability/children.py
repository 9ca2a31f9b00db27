"""Child programs of the reliability tests, and the parent-side helpers that run them.

Run as a script, this module is one child process::

    python children.py <role> '<json config>'

Every child connects with its own client (a separate process, as in a real
deployment), reports through files named in its config (JSON written
atomically, or append-only logs) and never through pipes. A child that
raises writes the traceback to ``<config["out"]>.error`` and exits with 1, so
the parent can tell "the child failed" from "the child was slow".

Imported (the test modules sit next to it, so pytest's default import mode
puts this folder on ``sys.path``), it offers `Child`, `spawn` and the
bounded waits the tests use: every wait has a timeout, so a hang fails the
test instead of blocking the suite.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import eventyard

SCRIPT = Path(__file__).resolve()
#: Every child gives up on its own after this long, whatever the parent does.
CHILD_DEADLINE_SECONDS = 120.0


# -- parent side ---------------------------------------------------------------------------------


class Child:
    """A running child process, its config, and where its output goes."""

    def __init__(self, role: str, config: dict[str, Any], directory: Path) -> None:
        self.role = role
        self.config = config
        name = config.get("name", role)
        self.stdout_path = directory / f"{name}.stdout"
        self.stderr_path = directory / f"{name}.stderr"
        self.out = Path(config["out"])
        with self.stdout_path.open("wb") as stdout, self.stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, str(SCRIPT), role, json.dumps(config)],
                stdout=stdout,
                stderr=stderr,
                cwd=directory,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        """What the child printed to stderr, and the traceback it reported (if any)."""
        parts = [self.stderr_path.read_text(errors="replace")]
        error = error_path(self.out)
        if error.exists():
            parts.append(error.read_text(errors="replace"))
        return "\n".join(part for part in parts if part)

    def failed(self) -> bool:
        code = self.process.poll()
        return (code is not None and code != 0) or error_path(self.out).exists()

    def kill(self) -> None:
        """SIGKILL: no cleanup, no atexit, no flush; what a crash or the OOM killer does."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def finish(self, timeout: float) -> Any:
        """Wait for a clean exit (or fail the test); return the JSON result it wrote."""
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"{self.role} child {self.pid} did not finish in {timeout} s\n{self.output()}"
            ) from None
        output = self.output()
        assert code == 0, f"{self.role} child {self.pid} exited with {code}\n{output}"
        assert not error_path(self.out).exists(), f"{self.role} child reported:\n{output}"
        assert "database is locked" not in output, output
        return read_json(self.out)


def spawn(role: str, directory: Path, **config: Any) -> Child:
    """Start ``role`` as a child process; ``config["out"]`` is where it reports."""
    config.setdefault("out", str(directory / f"{config.get('name', role)}.json"))
    return Child(role, config, directory)


def stop_all(children: Iterable[Child]) -> None:
    """Kill whatever is still running (for `finally` blocks: never leave children behind)."""
    for child in children:
        if child.process.poll() is None:
            child.kill()


def error_path(out: Path) -> Path:
    return out.with_name(out.name + ".error")


def ready_path(out: Path) -> Path:
    return out.with_name(out.name + ".ready")


def start_together(children: list[Child], go: Path, timeout: float = 60) -> None:
    """Wait until every child waits at its gate, then open the gates at once."""
    wait_until(
        lambda: all(ready_path(child.out).exists() for child in children),
        timeout,
        "the children to be ready",
        children,
    )
    go.touch()


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def write_json(path: Path, value: Any) -> None:
    """Write atomically: a reader sees the whole file or none of it."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(value))
    os.replace(partial, path)


def wait_until(
    condition: Callable[[], Any],
    timeout: float,
    what: str,
    children: Iterable[Child] = (),
    interval: float = 0.02,
) -> Any:
    """Poll ``condition`` until it is truthy; fail on timeout or as soon as a child fails."""
    watched = list(children)
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        for child in watched:
            if child.failed():
                raise AssertionError(
                    f"{child.role} child {child.pid} failed while waiting for {what}:\n"
                    f"{child.output()}"
                )
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def wait_for_json(path: Path, timeout: float, children: Iterable[Child] = ()) -> Any:
    wait_until(path.exists, timeout, f"{path.name}", children)
    return read_json(path)


# -- child side ----------------------------------------------------------------------------------


def _connect(config: dict[str, Any]) -> eventyard.Client:
    return eventyard.connect(f"sqlite:///{config['db']}", durability=config["durability"])


def _deadline() -> float:
    return time.monotonic() + CHILD_DEADLINE_SECONDS


def _gate(config: dict[str, Any]) -> None:
    """Say "ready", then wait for the parent's "go" file: children start at the same moment."""
    if "go" not in config:
        return
    ready_path(Path(config["out"])).touch()
    go = Path(config["go"])
    deadline = _deadline()
    while not go.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the parent never said go")
        time.sleep(0.001)


def hold_batch(config: dict[str, Any]) -> None:
    """Receive one batch, report what it holds, then hang (until the parent kills it)."""
    with _connect(config) as client:
        queue = client.get_queue(config["queue"])
        started = time.time()
        messages = queue.receive(
            max_messages=config["max_messages"],
            wait_seconds=5,
            visibility_timeout=config["visibility_timeout"],
        )
        write_json(
            Path(config["out"]),
            {
                "received_after": started,
                "messages": [
                    {"message_id": m.message_id, "body": m.body, "receive_count": m.receive_count}
                    for m in messages
                ],
            },
        )
        time.sleep(CHILD_DEADLINE_SECONDS)  # killed long before


def produce(config: dict[str, Any]) -> None:
    """Send ``count`` messages in batches of 10, each with a unique payload id."""
    producer, count = config["producer"], config["count"]
    sent: list[list[str]] = []
    with _connect(config) as client:
        queue = client.get_queue(config["queue"])
        _gate(config)
        for start in range(0, count, 10):
            payloads = [f"{producer}-{n}" for n in range(start, min(start + 10, count))]
            results = queue.send_batch([{"body": {"payload": p}} for p in payloads])
            failed = [(r.id, repr(r.error)) for r in results if not r.ok]
            if failed:
                raise AssertionError(f"send_batch entries failed: {failed}")
            sent.extend([p, r.message_id] for p, r in zip(payloads, results, strict=True))
    write_json(Path(config["out"]), {"sent": sent})
    Path(config["done"]).touch()


def consume(config: dict[str, Any]) -> None:
    """Receive, record and delete until the producers are done and the queue is empty."""
    producers_done = [Path(p) for p in config["producers_done"]]
    received: list[list[Any]] = []
    delete_failures: list[str] = []
    deadline = _deadline()
    with _connect(config) as client:
        queue = client.get_queue(config["queue"])
        _gate(config)
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"still consuming after {CHILD_DEADLINE_SECONDS} s")
            messages = queue.receive(
                max_messages=10,
                wait_seconds=config["wait_seconds"],
                visibility_timeout=config["visibility_timeout"],
            )
            if messages:
                received.extend(
                    [m.message_id, m.body["payload"], m.receive_count, m.receipt_handle]
                    for m in messages
                )
                results = queue.delete_batch(messages)
                delete_failures.extend(repr(r.error) for r in results if not r.ok)
                continue
            if all(p.exists() for p in producers_done):
                stats = queue.stats()
                if stats.visible == stats.in_flight == stats.delayed == 0:
                    break
    write_json(Path(config["out"]), {"received": received, "delete_failures": delete_failures})


def fail_poison(config: dict[str, Any]) -> None:
    """Delete every message but the poison one, which it always fails (never deletes)."""
    poison, stop = config["poison"], Path(config["stop"])
    poison_receives: list[int] = []
    deleted: list[str] = []
    delete_failures: list[str] = []
    deadline = _deadline()
    with _connect(config) as client:
        queue = client.get_queue(config["queue"])
        while not stop.exists():
            if time.monotonic() > deadline:
                raise TimeoutError("the parent never said stop")
            handled = []
            for message in queue.receive(max_messages=10, wait_seconds=1):
                if message.body["id"] == poison:
                    # The handler "fails": no delete, it comes back after the timeout.
                    poison_receives.append(message.receive_count)
                else:
                    handled.append(message)
            if handled:
                results = queue.delete_batch(handled)
                delete_failures.extend(repr(r.error) for r in results if not r.ok)
                deleted.extend(m.body["id"] for m, r in zip(handled, results, strict=True) if r.ok)
    write_json(
        Path(config["out"]),
        {
            "poison_receives": poison_receives,
            "deleted": deleted,
            "delete_failures": delete_failures,
        },
    )


def write_batches(config: dict[str, Any]) -> None:
    """Send batches of 10 tagged (batch, index) forever; log each acknowledged batch number."""
    log = os.open(config["acks"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    with _connect(config) as client:
        queue = client.get_queue(config["queue"])
        Path(config["ready"]).touch()
        deadline = _deadline()
        batch = config["first_batch"]
        while time.monotonic() < deadline:
            results = queue.send_batch(
                {"body": f"{batch}:{index}", "attributes": {"batch": batch}} for index in range(10)
            )
            if not all(r.ok for r in results):
                raise AssertionError(f"batch {batch}: {[repr(r.error) for r in results]}")
            os.write(log, f"{batch}\n".encode())  # one small write: a whole line or nothing
            batch += 1
    raise TimeoutError("the parent never killed this writer")


def long_poll(config: dict[str, Any]) -> None:
    """Long-poll ``rounds`` times, announcing each poll, and report when each one returned."""
    polls: list[dict[str, Any]] = []
    with _connect(config) as client:
        queue = client.get_queue(config["queue"])
        for number in range(config["rounds"]):
            started = time.time()
            write_json(Path(f"{config['polling']}.{number}"), {"started": started})
            messages = queue.receive(max_messages=1, wait_seconds=config["wait_seconds"])
            returned = time.time()
            for message in messages:
                queue.delete(message)
            polls.append(
                {"started": started, "returned": returned, "bodies": [m.body for m in messages]}
            )
    write_json(Path(config["out"]), {"polls": polls})


def open_fresh(config: dict[str, Any]) -> None:
    """At the parent's signal, open a database file that may not exist yet, and use it."""
    _gate(config)
    with _connect(config) as client:
        client.create_queue("shared-dlq")
        queue = client.create_queue(
            "shared", visibility_timeout=30, dead_letter_queue="shared-dlq", max_receive_count=3
        )
        message_id = queue.send({"opener": config["opener"]})
    write_json(Path(config["out"]), {"message_id": message_id})


ROLES: dict[str, Callable[[dict[str, Any]], None]] = {
    "hold_batch": hold_batch,
    "produce": produce,
    "consume": consume,
    "fail_poison": fail_poison,
    "write_batches": write_batches,
    "long_poll": long_poll,
    "open_fresh": open_fresh,
}


def run_role(roles: dict[str, Callable[[dict[str, Any]], None]], role: str, raw_config: str) -> int:
    """Run one child role; a failure is written next to its output file and exits 1."""
    config = json.loads(raw_config)
    try:
        roles[role](config)
    except BaseException:
        report = traceback.format_exc()
        error_path(Path(config["out"])).write_text(report)
        sys.stderr.write(report)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run_role(ROLES, sys.argv[1], sys.argv[2]))
