"""``eventyard topics ls|show|create|delete``."""

from __future__ import annotations

import json
from typing import Any

import typer

import eventyard
from eventyard.commands._common import (
    DbOption,
    JsonOption,
    add_row,
    console,
    fields_table,
    jsonable,
    print_json,
    session,
    table,
)

app = typer.Typer(help="List, inspect, create and delete topics.", no_args_is_help=True)


def subscription_document(subscription: eventyard.Subscription) -> dict[str, Any]:
    config = subscription.config
    document: dict[str, Any] = {"arn": subscription.arn, **jsonable(config)}
    document["filter_policy"] = subscription.filter_policy
    return document


def topics_ls(db: DbOption = None, prefix: str = "", as_json: JsonOption = False) -> None:
    """List topics with their subscriptions."""
    with session(db) as client:
        topics: list[dict[str, Any]] = [
            {
                "name": name,
                "subscriptions": [
                    subscription_document(s) for s in client.list_subscriptions(name)
                ],
            }
            for name in client.list_topics(prefix)
        ]
    if as_json:
        print_json({"topics": topics})
        return
    view = table("topic", "protocol", "endpoint", "raw", "filter policy")
    for topic in topics:
        if not topic["subscriptions"]:
            add_row(view, topic["name"], "", "", "", "")
        for subscription in topic["subscriptions"]:
            add_row(
                view,
                topic["name"],
                subscription["protocol"],
                subscription["endpoint"],
                "yes" if subscription["raw_message_delivery"] else "",
                _policy(subscription["filter_policy"]),
            )
    console.print(view)


app.command("ls")(topics_ls)
app.command("list", hidden=True)(topics_ls)


def _policy(policy: object) -> str:
    return "" if policy is None else json.dumps(policy)


@app.command("show")
def topics_show(name: str, db: DbOption = None, as_json: JsonOption = False) -> None:
    """A topic and each subscription's endpoint, filter policy, delivery and retries."""
    with session(db) as client:
        topic = client.get_topic(name)
        document: dict[str, Any] = {
            "name": topic.name,
            "arn": topic.arn,
            "fifo": topic.fifo,
            "subscriptions": [subscription_document(s) for s in topic.subscriptions()],
        }
    if as_json:
        print_json(document)
        return
    console.print(
        fields_table(
            {
                "arn": document["arn"],
                "fifo": document["fifo"],
                "subscriptions": len(document["subscriptions"]),
            },
            title=f"topic {document['name']}",
        )
    )
    if document["subscriptions"]:
        view = table(
            "subscription",
            "protocol",
            "endpoint",
            "raw",
            "filter policy (scope)",
            "dlq",
            "retries",
        )
        for subscription in document["subscriptions"]:
            policy = _policy(subscription["filter_policy"])
            add_row(
                view,
                subscription["arn"],
                subscription["protocol"],
                subscription["endpoint"],
                "yes" if subscription["raw_message_delivery"] else "",
                f"{policy} ({subscription['filter_policy_scope']})" if policy else "",
                subscription["dead_letter_queue"] or "",
                f"{subscription['max_retries']} every {subscription['retry_delay_seconds']}s"
                if subscription["protocol"] in ("http", "https")
                else "",
            )
        console.print(view)


@app.command("create")
def topics_create(
    name: str, db: DbOption = None, content_based_deduplication: bool = False
) -> None:
    """Create a topic (FIFO when the name ends in .fifo)."""
    with session(db) as client:
        topic = client.create_topic(
            name, content_based_deduplication=content_based_deduplication or None
        )
        console.print(f"created {topic.name} ({topic.arn})")


@app.command("delete")
def topics_delete(name: str, db: DbOption = None) -> None:
    """Delete a topic and its subscriptions."""
    with session(db) as client:
        client.delete_topic(name)
        console.print(f"deleted {name}")
