"""``eventyard queues ls|show|purge`` and the exit codes."""

from __future__ import annotations

from ops_cli import Cli

import eventyard


def test_ls_hides_internal_queues_unless_all(cli: Cli) -> None:
    with eventyard.connect(cli.db) as client:
        client.create_queue("orders-dlq")
        client.create_queue("orders", dead_letter_queue="orders-dlq", max_receive_count=3)
        client.get_queue("orders").send("x")
    listing = cli.json("queues", "ls")
    assert [q["name"] for q in listing["queues"]] == ["orders", "orders-dlq"]
    orders = listing["queues"][0]
    assert (orders["visible"], orders["dead_letter_queue"]) == (1, "orders-dlq")
    everything = cli.json("queues", "ls", "--all")
    assert "eventyard:deliveries" in [q["name"] for q in everything["queues"]]
    done = cli("queues", "list")  # the old name still works
    assert done.returncode == 0
    assert "orders-dlq" in done.stdout


def test_show_has_counts_attributes_counters_and_the_dlq(cli: Cli) -> None:
    with eventyard.connect(cli.db) as client:
        client.create_queue("jobs-dlq").send("dead")
        jobs = client.create_queue(
            "jobs", visibility_timeout=7, dead_letter_queue="jobs-dlq", max_receive_count=2
        )
        jobs.send("a")
        jobs.send("b")
        jobs.receive()
    shown = cli.json("queues", "show", "jobs")
    assert shown["stats"] == {
        "visible": 1,
        "in_flight": 1,
        "delayed": 0,
        "oldest_age_seconds": shown["stats"]["oldest_age_seconds"],
        "total": 2,
    }
    assert shown["attributes"]["visibility_timeout"] == 7
    assert shown["counters"]["sent"] == 2
    assert shown["counters"]["received"] == 1
    assert shown["dead_letter_queue"]["name"] == "jobs-dlq"
    assert shown["dead_letter_queue"]["total"] == 1
    assert cli.json("queues", "show", "jobs-dlq")["dead_letter_sources"] == ["jobs"]
    done = cli("queues", "show", "jobs")
    assert done.returncode == 0
    assert "jobs-dlq" in done.stdout
    assert "visibility_timeout" in done.stdout


def test_purge_asks_unless_yes(cli: Cli) -> None:
    with eventyard.connect(cli.db) as client:
        client.create_queue("q").send_batch(["a", "b", "c"])
    refused = cli("queues", "purge", "q", stdin="n\n")
    assert refused.returncode == 1
    assert "Purge 3 message(s) from q?" in refused.stderr
    with eventyard.connect(cli.db) as client:
        assert client.get_queue("q").stats().total == 3
    confirmed = cli("queues", "purge", "q", stdin="y\n")
    assert confirmed.returncode == 0, confirmed.stderr
    assert "purged 3 messages from q" in confirmed.stdout
    with eventyard.connect(cli.db) as client:
        client.create_queue("r").send("x")
    assert cli("queues", "purge", "r", "--yes").returncode == 0


def test_exit_codes_error_1_usage_2(cli: Cli) -> None:
    missing = cli("queues", "show", "nope")
    assert missing.returncode == 1
    assert missing.stdout == ""
    assert missing.stderr.strip().splitlines() == [
        "error (QueueDoesNotExist): queue 'nope' does not exist"
    ]
    assert cli("send", "nope", "x").returncode == 1
    assert cli("queues", "ls", "--no-such-option").returncode == 2
    assert cli("queues", "show").returncode == 2  # missing argument
    assert cli("dlq", "show", "q", "--limit", "0").returncode == 2  # out of range
