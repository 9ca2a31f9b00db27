"""``eventyard topics ls|show`` and ``eventyard rules ls|show [--bus]``."""

from __future__ import annotations

from ops_cli import Cli

import eventyard


def test_topics_ls_and_show(cli: Cli) -> None:
    with eventyard.connect(cli.db) as client:
        queue = client.create_queue("inventory")
        topic = client.create_topic("NewOrder")
        topic.subscribe(queue, raw=True, filter_policy={"country": ["NL"]})
        client.create_topic("Empty")
    listing = cli.json("topics", "ls")
    assert [t["name"] for t in listing["topics"]] == ["Empty", "NewOrder"]
    [subscription] = listing["topics"][1]["subscriptions"]
    assert subscription["protocol"] == "sqs"
    assert subscription["endpoint"] == "inventory"
    assert subscription["raw_message_delivery"] is True
    assert subscription["filter_policy"] == {"country": ["NL"]}
    shown = cli.json("topics", "show", "NewOrder")
    assert shown["arn"].endswith(":NewOrder")
    assert shown["subscriptions"] == listing["topics"][1]["subscriptions"]
    assert "inventory" in cli("topics", "ls").stdout
    assert cli("topics", "show", "Nope").returncode == 1


def test_rules_ls_and_show_on_a_bus(cli: Cli) -> None:
    with eventyard.connect(cli.db) as client:
        review = client.create_queue("review")
        client.bus().put_rule(
            "big", pattern={"detail": {"total": [{"numeric": [">", 1000]}]}}
        ).add_target(review)
        client.bus().put_rule("nightly", schedule="cron(0 2 * * ? *)", enabled=False)
        client.create_bus("media")
        client.bus("media").put_rule("uploads", pattern={"source": ["cam"]})
    listing = cli.json("rules", "ls")
    assert [r["name"] for r in listing["rules"]] == ["big", "nightly"]
    big = listing["rules"][0]
    assert big["state"] == "ENABLED"
    assert big["pattern"] == {"detail": {"total": [{"numeric": [">", 1000]}]}}
    assert [(t["kind"], t["endpoint"]) for t in big["targets"]] == [("queue", "review")]
    assert listing["rules"][1]["schedule"] == "cron(0 2 * * ? *)"
    assert listing["rules"][1]["state"] == "DISABLED"
    assert [r["name"] for r in cli.json("rules", "ls", "--bus", "media")["rules"]] == ["uploads"]
    assert cli.json("rules", "show", "big")["targets"][0]["endpoint"] == "review"
    text = cli("rules", "show", "big").stdout
    assert "queue-review" in text or "review" in text
    missing = cli("rules", "show", "nope")
    assert missing.returncode == 1
    assert missing.stderr.startswith("error (")
