"""Child programs of the outbox, webhook and FIFO reliability tests, and the parent-side spawn.

Run as a script, this module is one child process::

    python children_bus.py <role> '<json config>'

It follows the conventions of ``children.py`` (and reuses its helpers): each
child connects with its own client, reports through files named in its
config (JSON written atomically, or append-only logs with one ``os.write``
per line), and a child that raises writes its traceback to
``<config["out"]>.error`` and exits with 1.

Imported, it offers `spawn_bus`, which starts one of these roles as a
`children.Child` (so `wait_until`, `Child.kill`, `Child.finish` and
`stop_all` work on it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from children import CHILD_DEADLINE_SECONDS, Child, run_role, write_json

import eventyard

SCRIPT = Path(__file__).resolve()

#: The application table of the outbox children.
ORDERS_TABLE = "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, total REAL NOT NULL)"


# -- parent side ---------------------------------------------------------------------------------


class BusChild(Child):
    """A `Child` running a role of this script instead of ``children.py``."""

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


def spawn_bus(role: str, directory: Path, **config: Any) -> BusChild:
    """Start ``role`` of this script as a child process; ``config["out"]`` is where it reports."""
    config.setdefault("out", str(directory / f"{config.get('name', role)}.json"))
    return BusChild(role, config, directory)


def log_lines(path: Path) -> list[str]:
    """The complete lines of an append-only log (a line cut by a kill does not count)."""
    text = path.read_text() if path.exists() else ""
    return text.split("\n")[:-1]


# -- child side ----------------------------------------------------------------------------------


def _connect(config: dict[str, Any]) -> eventyard.Client:
    return eventyard.connect(f"sqlite:///{config['db']}", durability=config["durability"])


def _hang() -> None:
    time.sleep(CHILD_DEADLINE_SECONDS)  # killed long before
    raise TimeoutError("the parent never killed this child")


def _append(log: int, line: str) -> None:
    os.write(log, f"{line}\n".encode())  # one small write: a whole line or nothing


def outbox_hold(config: dict[str, Any]) -> None:
    """Save an order and publish its event in one transaction; then hang, inside or after it.

    ``commit`` false: the child says "ready" from inside the open transaction (the row
    inserted, the event published) and hangs there. ``commit`` true: it says "ready" once the
    transaction committed, and hangs.
    """
    order_id, ready = config["order_id"], Path(config["ready"])
    with _connect(config) as client:
        if config["commit"]:
            with client.transaction() as tx:
                tx.execute("INSERT INTO orders (id, total) VALUES (?, ?)", (order_id, 99.5))
                tx.publish(config["topic"], {"order_id": order_id})
            ready.touch()
            _hang()
        with client.transaction() as tx:
            tx.execute("INSERT INTO orders (id, total) VALUES (?, ?)", (order_id, 99.5))
            tx.publish(config["topic"], {"order_id": order_id})
            assert tx.connection.in_transaction
            ready.touch()
            _hang()


def outbox_loop(config: dict[str, Any]) -> None:
    """Save orders with their events, one transaction each, forever; log each committed id."""
    log = os.open(config["acks"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    with _connect(config) as client:
        topic = client.get_topic(config["topic"])
        Path(config["ready"]).touch()
        deadline = time.monotonic() + CHILD_DEADLINE_SECONDS
        order_id = config["first_id"]
        while time.monotonic() < deadline:
            with client.transaction() as tx:
                tx.execute("INSERT INTO orders (id, total) VALUES (?, ?)", (order_id, order_id))
                tx.publish(topic, {"order_id": order_id}, attributes={"order": order_id})
            _append(log, str(order_id))
            order_id += 1
    raise TimeoutError("the parent never killed this writer")


def dispatch(config: dict[str, Any]) -> None:
    """Run a dispatcher until the parent creates the ``stop`` file; report its counters."""
    stop = Path(config["stop"])
    deadline = time.monotonic() + CHILD_DEADLINE_SECONDS
    with _connect(config) as client:
        dispatcher = client.dispatcher()
        Path(config["ready"]).touch()
        try:
            while not stop.exists():
                if time.monotonic() > deadline:
                    raise TimeoutError("the parent never said stop")
                dispatcher.run_once(wait_seconds=0.2)
        finally:
            dispatcher.stop()
    write_json(
        Path(config["out"]),
        {
            "delivered": dispatcher.delivered,
            "failed_attempts": dispatcher.failed_attempts,
            "dead_lettered": dispatcher.dead_lettered,
            "dropped": dispatcher.dropped,
        },
    )


def fifo_consume(config: dict[str, Any]) -> None:
    """Receive one message at a time from a FIFO queue, logging each receive and each delete.

    Log lines: ``recv <n> <receive_count> <time>`` once received, ``del <n> <receive_count>
    <time>`` once deleted (``time.time()``). Stops
    (and writes ``out``) after ``stop_after`` deletes or when the queue stays empty.
    """
    log = os.open(config["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    deleted = 0
    deadline = time.monotonic() + CHILD_DEADLINE_SECONDS
    with _connect(config) as client:
        queue = client.get_queue(config["queue"])
        Path(config["ready"]).touch()
        while deleted < config["stop_after"]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"still consuming after {CHILD_DEADLINE_SECONDS} s")
            messages = queue.receive(
                1, wait_seconds=config["wait_seconds"], visibility_timeout=config["visibility"]
            )
            if not messages:
                stats = queue.stats()
                if stats.visible == stats.in_flight == stats.delayed == 0:
                    break
                continue
            [message] = messages
            number = message.body["n"]
            _append(log, f"recv {number} {message.receive_count} {time.time():.6f}")
            time.sleep(config["work_seconds"])  # the handler's work: a kill can land here
            queue.delete(message)
            _append(log, f"del {number} {message.receive_count} {time.time():.6f}")
            deleted += 1
    write_json(Path(config["out"]), {"deleted": deleted})


ROLES: dict[str, Callable[[dict[str, Any]], None]] = {
    "outbox_hold": outbox_hold,
    "outbox_loop": outbox_loop,
    "dispatch": dispatch,
    "fifo_consume": fifo_consume,
}


if __name__ == "__main__":
    sys.exit(run_role(ROLES, sys.argv[1], sys.argv[2]))
