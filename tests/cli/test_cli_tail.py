"""``eventyard tail QUEUE``: new messages as they arrive, without receiving them."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

from ops_cli import Cli, make_poison

import eventyard


def start_tail(cli: Cli, *args: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "eventyard", "tail", *args, "--db", cli.db],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    ready = process.stderr.readline()  # printed once what was there is known
    assert ready.startswith("tailing "), ready
    return process


def test_tail_prints_a_message_sent_after_it_started_then_ctrl_c_exits_0(cli: Cli) -> None:
    with eventyard.connect(cli.db) as client:
        client.create_queue("orders").send("already there")
    process = start_tail(cli, "orders", "--json")
    try:
        sent = cli("send", "orders", "hello", "-a", "kind=book")
        assert sent.returncode == 0
        assert process.stdout is not None
        line = json.loads(process.stdout.readline())
        assert line["message_id"] == sent.stdout.strip()
        assert line["queue"] == "orders"
        assert (line["body"], line["attributes"]) == ("hello", {"kind": "book"})
        assert line["receive_count"] == 0
        process.send_signal(signal.SIGINT)
        rest, errors = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, errors
    assert rest == ""  # "already there" was not printed
    assert "Traceback" not in errors
    with eventyard.connect(cli.db) as client:  # nothing was received
        assert client.get_queue("orders").stats().visible == 2


def test_tail_of_a_dlq_shows_a_dead_lettered_message_and_stops_at_limit(cli: Cli) -> None:
    make_poison(cli.db)
    with eventyard.connect(cli.db) as client:
        orders = client.get_queue("orders")
        message_id = orders.send("second poison")
    process = start_tail(cli, "orders-dlq", "--limit", "1")
    try:
        with eventyard.connect(cli.db) as client:
            orders = client.get_queue("orders")
            for _ in range(4):  # three receives, then the move to the DLQ
                orders.receive()
        out, errors = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, errors
    [line] = out.splitlines()
    assert message_id in line
    assert "from orders" in line
    assert "second poison" in line
