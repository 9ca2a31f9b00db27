"""A poison message found, understood and fixed from the CLI alone: ``dlq ls|show|redrive``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from ops_cli import Cli, make_poison

import eventyard


def test_find_understand_and_redrive_a_poison_message(cli: Cli) -> None:
    message_id = make_poison(cli.db)

    # find: which DLQ holds what, and where from
    [dead] = cli.json("dlq", "ls")["dead_letter_queues"]
    assert dead["name"] == "orders-dlq"
    assert dead["total"] == 1
    assert dead["sources"] == [{"kind": "queue", "name": "orders"}]

    # understand: the message, its receives and its failure history, tracebacks included
    shown = cli.json("dlq", "show", "orders-dlq")
    assert shown["dead_letter_sources"] == ["orders"]
    [message] = shown["messages"]
    assert message["message_id"] == message_id
    assert message["body"] == {"order_id": 7, "sku": "[bold]LAMP"}
    assert message["attributes"] == {"kind": "lamp"}
    assert message["receive_count"] == 3
    assert message["dead_letter_source_queue"] == "orders"
    assert message["age_seconds"] >= 0
    assert [(f["function"], f["attempt"], f["error_type"]) for f in message["failures"]] == [
        ("update_stock", 1, "KeyError"),
        ("update_stock", 2, "KeyError"),
        ("update_stock", 3, "KeyError"),
    ]
    assert "KeyError: 'LAMP'" in message["failures"][-1]["traceback"]
    assert shown["next_page_token"] is None
    text = cli("dlq", "show", "orders-dlq", "--tracebacks")
    assert text.returncode == 0
    assert message_id in text.stdout
    assert "[bold]LAMP" in text.stdout  # bodies are shown as sent, never as markup
    assert "KeyError: unknown sku 'LAMP' (attempt 3)" in text.stdout
    assert 'File "stock.py", line 9' in text.stdout
    assert f"dlq redrive orders-dlq --ids {message_id}" in text.stdout
    with eventyard.connect(cli.db) as client:  # looking changed nothing
        assert client.get_queue("orders-dlq").peek().messages[0].receive_count == 3

    # fix: redrive that one message; an unknown id gets its own error and exit 1
    redriven = cli("dlq", "redrive", "orders-dlq", "--ids", f"{message_id},not-there", "--json")
    assert redriven.returncode == 1
    results = json.loads(redriven.stdout)["results"]
    assert results[0] == {
        "message_id": message_id,
        "ok": True,
        "error_type": None,
        "error_message": None,
    }
    assert (results[1]["ok"], results[1]["error_type"]) == (False, "MessageNotFound")
    with eventyard.connect(cli.db) as client:
        assert client.get_queue("orders-dlq").stats().total == 0
        [back] = client.get_queue("orders").peek().messages
        assert (back.message_id, back.receive_count) == (message_id, 0)
        assert len(client.message_failures(message_id)) == 3  # the history stays
    assert cli.json("dlq", "ls")["dead_letter_queues"][0]["total"] == 0


def test_redrive_ids_human_output(cli: Cli) -> None:
    message_id = make_poison(cli.db)
    done = cli("dlq", "redrive", "orders-dlq", "--ids", message_id)
    assert done.returncode == 0, done.stderr
    assert "redrove 1 of 1" in done.stdout
    assert "moved back" in done.stdout


def test_whole_queue_redrive_with_progress_and_destination(cli: Cli) -> None:
    with eventyard.connect(cli.db) as client:
        dlq = client.create_queue("dlq")
        client.create_queue("target")
        for start in range(0, 250, 10):
            dlq.send_batch([str(i) for i in range(start, start + 10)])
    done = cli("dlq", "redrive", "dlq", "--to", "target", "--rate", "500")
    assert done.returncode == 0, done.stderr
    assert "completed: moved 250 of 250, skipped 0" in done.stdout
    with eventyard.connect(cli.db) as client:
        assert client.get_queue("target").stats().visible == 250
        client.get_queue("target").send("more")
    moved = cli.json("dlq", "redrive", "target", "--to", "dlq")
    assert (moved["status"], moved["moved"], moved["to_move"]) == ("COMPLETED", 251, 251)


def test_redrive_usage_and_errors(cli: Cli) -> None:
    make_poison(cli.db)
    assert cli("dlq", "redrive", "orders-dlq", "--ids", "x", "--rate", "5").returncode == 2
    assert cli("dlq", "redrive", "orders-dlq", "--rate", "0").returncode == 2
    missing = cli("dlq", "redrive", "nope")
    assert missing.returncode == 1
    assert "QueueDoesNotExist" in missing.stderr
    assert cli("dlq", "show", "nope").returncode == 1


def test_dlq_show_pages(cli: Cli) -> None:
    with eventyard.connect(cli.db) as client:
        client.create_queue("dlq").send_batch(["a", "b", "c"])
    first = cli.json("dlq", "show", "dlq", "--limit", "2")
    assert [m["body"] for m in first["messages"]] == ["a", "b"]
    assert first["messages"][0]["failures"] == []
    rest = cli.json("dlq", "show", "dlq", "--limit", "2", "--page-token", first["next_page_token"])
    assert [m["body"] for m in rest["messages"]] == ["c"]
    assert rest["next_page_token"] is None
    assert cli("dlq", "show", "dlq", "--page-token", "garbage").returncode == 1


def test_ctrl_c_cancels_a_whole_queue_redrive_cleanly(cli: Cli) -> None:
    with eventyard.connect(cli.db) as client:
        dlq = client.create_queue("slow-dlq")
        client.create_queue("back")
        for start in range(0, 30, 10):
            dlq.send_batch([str(i) for i in range(start, start + 10)])
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "eventyard", "dlq", "redrive", "slow-dlq"),
            *("--to", "back", "--rate", "2", "--db", cli.db),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with eventyard.connect(cli.db) as client:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # the test waits for the task to move some
                tasks = client.redrive_tasks("slow-dlq")
                if tasks and tasks[0].moved > 0:
                    break
                time.sleep(0.05)
            else:
                raise AssertionError("the redrive task did not start")
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 1, errors
    assert "Traceback" not in errors
    assert "cancelled: moved" in errors
    with eventyard.connect(cli.db) as client:
        [task] = client.redrive_tasks("slow-dlq")
        assert task.status == "CANCELLED"
        moved = client.get_queue("back").stats().total
        assert 0 < moved < 30
        assert moved + client.get_queue("slow-dlq").stats().total == 30


def test_binary_bodies_are_base64_in_json(cli: Cli) -> None:
    with eventyard.connect(cli.db) as client:
        client.create_queue("bin").send(b"\x00\x01")
    [message] = cli.json("dlq", "show", "bin")["messages"]
    assert (message["body"], message["body_encoding"]) == ("AAE=", "base64")
    assert "<2 bytes>" in cli("dlq", "show", "bin").stdout
