"""Helpers of the operator CLI tests: run ``python -m eventyard`` on a real file, seed a
poison message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import eventyard
from eventyard.store.records import FailureRecord


class Cli:
    """Runs ``python -m eventyard ARGS --db URL`` and keeps what it printed."""

    def __init__(self, db: str) -> None:
        self.db = db

    def __call__(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "eventyard", *args, "--db", self.db],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "COLUMNS": "200"},  # rich tables: one line per row
        )

    def json(self, *args: str) -> Any:
        done = self(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


def make_poison(db: str) -> str:
    """``orders`` (DLQ ``orders-dlq`` after 3 receives) with one message that failed 3
    times in a function and now sits in the DLQ; returns its id."""
    with eventyard.connect(db) as client:
        client.create_queue("orders-dlq")
        orders = client.create_queue(
            "orders", visibility_timeout=0, dead_letter_queue="orders-dlq", max_receive_count=3
        )
        message_id = orders.send({"order_id": 7, "sku": "[bold]LAMP"}, attributes={"kind": "lamp"})
        for attempt in (1, 2, 3):
            [message] = orders.receive()
            assert message.receive_count == attempt
            client.store.record_failures(
                [
                    FailureRecord(
                        message_id,
                        "orders",
                        "update_stock",
                        attempt,
                        "KeyError",
                        f"unknown sku 'LAMP' (attempt {attempt})",
                        'Traceback (most recent call last):\n  File "stock.py", line 9\n'
                        "KeyError: 'LAMP'",
                        client.now_ms(),
                    )
                ]
            )
        assert orders.receive() == []  # the 4th receive moves it to the DLQ
        assert client.get_queue("orders-dlq").stats().visible == 1
    return message_id
