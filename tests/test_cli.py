"""The eventyard command line: each command against a real database file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import eventyard
from eventyard.cli import app

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_create_send_receive_delete(db: str) -> None:
    assert invoke("queues", "create", "orders", "--db", db, "--visibility-timeout", "5")[0] == 0
    code, out = invoke("send", "orders", "hello", "--db", db, "-a", "kind=book")
    assert code == 0
    message_id = out.strip()
    code, out = invoke("receive", "orders", "--db", db, "--max-messages", "5", "--delete")
    assert code == 0
    [line] = out.strip().splitlines()
    record = json.loads(line)
    assert record["message_id"] == message_id
    assert record["body"] == "hello"
    assert record["attributes"] == {"kind": "book"}
    code, out = invoke("queues", "list", "--db", db)
    assert code == 0
    assert "orders" in out
    with eventyard.connect(db) as client:
        assert client.get_queue("orders").stats().total == 0


def test_errors_are_one_line_and_exit_1_usage_errors_2(db: str) -> None:
    code, out = invoke("send", "missing", "x", "--db", db)
    assert code == 1
    assert "QueueDoesNotExist" in out
    code, out = invoke("queues", "create", "bad name", "--db", db)
    assert code == 1
    assert "letters, digits" in out
    code, out = invoke("send", "missing", "x", "--db", db, "-a", "novalue")
    assert code == 2
    assert "name=value" in out


def test_purge_and_delete(db: str) -> None:
    invoke("queues", "create", "q", "--db", db)
    invoke("send", "q", "x", "--db", db)
    code, out = invoke("queues", "purge", "q", "--db", db, "--yes")
    assert (code, "purged 1" in out) == (0, True)
    code, out = invoke("queues", "delete", "q", "--db", db)
    assert (code, "deleted q" in out) == (0, True)


def test_redrive_command(db: str) -> None:
    with eventyard.connect(db) as client:
        client.create_queue("dlq")
        client.create_queue("target")
        client.get_queue("dlq").send("x")
    code, out = invoke("redrive", "dlq", "--db", db, "--to", "target", "--rate", "100")
    assert code == 0
    assert "moved 1 of 1" in out


def test_python_dash_m_is_the_same_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "eventyard", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    for command in (
        "demo",
        "queues",
        "topics",
        "rules",
        "functions",
        "dlq",
        "tail",
        "send",
        "receive",
        "redrive",
        "bench",
    ):
        assert command in done.stdout


def test_topics_publish_subscribe_and_list(db: str) -> None:
    assert invoke("topics", "create", "orders", "--db", db)[0] == 0
    invoke("queues", "create", "q", "--db", db)
    code, out = invoke(
        "subscribe", "orders", "q", "--db", db, "--raw", "--filter-policy", '{"kind": ["book"]}'
    )
    assert code == 0
    assert "arn:aws:sns" in out
    assert invoke("publish", "orders", "lamp", "--db", db, "-a", "kind=lamp")[0] == 0
    assert invoke("publish", "orders", "book", "--db", db, "-a", "kind=book")[0] == 0
    code, out = invoke("receive", "q", "--db", db, "--max-messages", "10")
    assert [json.loads(line)["body"] for line in out.strip().splitlines()] == ["book"]
    code, out = invoke("topics", "list", "--db", db)
    assert "orders" in out
    assert "sqs" in out
    code, out = invoke("subscribe", "orders", "q", "--db", db, "--filter-policy", "{nope")
    assert code == 2
    assert "not JSON" in out
    assert invoke("topics", "delete", "orders", "--db", db)[0] == 0


def test_put_events_and_rules(db: str) -> None:
    with eventyard.connect(db) as client:
        queue = client.create_queue("review")
        client.bus().put_rule(
            "big", pattern={"detail": {"total": [{"numeric": [">", 1000]}]}}
        ).add_target(queue)
    code, out = invoke(
        "put-events",
        "--source",
        "shop",
        "--detail-type",
        "OrderPlaced",
        "--detail",
        '{"total": 5000}',
        "--db",
        db,
    )
    assert code == 0
    code, out = invoke(
        "put-events", "--source", "shop", "--detail-type", "X", "--detail", "[1]", "--db", db
    )
    assert code == 1
    assert "MalformedDetail" in out
    code, out = invoke("rules", "list", "--db", db)
    assert "big" in out
    assert "queue:review" in out
    with eventyard.connect(db) as client:
        assert client.get_queue("review").stats().visible == 1


def test_dispatch_runs_until_sigterm(db: str) -> None:
    import signal
    import time

    with eventyard.connect(db) as client:
        queue = client.create_queue("ticks")
        client.bus().put_rule("often", schedule="rate(1 minute)").add_target(queue)
    process = subprocess.Popen(
        [sys.executable, "-m", "eventyard", "dispatch", "--db", db],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    assert "dispatching" in first
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=30)
    assert process.returncode == 0, rest
    assert "stopped:" in rest
