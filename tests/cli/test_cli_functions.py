"""``eventyard functions ls|show``: statistics and pending invocations."""

from __future__ import annotations

from ops_cli import Cli

import eventyard
from eventyard.model.internal import function_queue
from eventyard.model.queue_config import QueueConfig


def test_functions_from_stats_and_invocation_queues(cli: Cli) -> None:
    with eventyard.connect(cli.db) as client:
        now = client.now_ms()
        client.store.record_invocations("update_stock", now, 4, 1, 40, [3.0, 7.0, 20.0, 400.0])
        client.store.create_queue(function_queue("resize"), QueueConfig(), now)
        eventyard.Queue(client, client.store.get_queue(function_queue("resize"))).send("{}")
    listing = cli.json("functions", "ls")
    assert listing["window_seconds"] == 300
    by_name = {f["function"]: f for f in listing["functions"]}
    assert set(by_name) == {"resize", "update_stock"}
    stock = by_name["update_stock"]
    assert (stock["invocations"], stock["errors"], stock["messages"]) == (4, 1, 40)
    assert stock["p50_ms"] is not None
    assert stock["p99_ms"] >= stock["p50_ms"]
    assert stock["invocation_queue"] is None
    assert by_name["resize"]["invocations"] == 0
    assert by_name["resize"]["invocation_queue"]["visible"] == 1
    shown = cli.json("functions", "show", "update_stock", "--window", "600")
    assert shown["window_seconds"] == 600
    assert shown["histogram"][-1] == {"le_ms": "+Inf", "count": 4}
    text = cli("functions", "ls").stdout
    assert "update_stock" in text
    assert "resize" in text
    missing = cli("functions", "show", "nope")
    assert missing.returncode == 1
    assert "ResourceNotFound" in missing.stderr
    assert cli("functions", "ls", "--window", "5").returncode == 2
    # eventyard's own queues stay out of queues ls, in with --all
    assert function_queue("resize") not in [q["name"] for q in cli.json("queues", "ls")["queues"]]
