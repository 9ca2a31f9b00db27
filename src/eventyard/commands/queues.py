"""``eventyard queues ls|show|create|delete|purge``."""

from __future__ import annotations

from typing import Annotated, Any, Final, Optional

import typer

import eventyard
from eventyard.commands._common import (
    DbOption,
    JsonOption,
    add_row,
    cell,
    console,
    errors,
    fields_table,
    jsonable,
    print_json,
    queue_handle,
    session,
    table,
)
from eventyard.model.internal import is_internal_queue

app = typer.Typer(help="List, inspect, create, purge and delete queues.", no_args_is_help=True)

#: From this many messages on, a purge shows a spinner while it runs (one transaction).
LARGE_QUEUE: Final = 1_000


def queue_row(queue: eventyard.Queue) -> dict[str, Any]:
    """One queue's line of ``queues ls``, as JSON values."""
    stats = queue.stats()
    return {
        "name": queue.name,
        "fifo": queue.fifo,
        "internal": is_internal_queue(queue.name),
        "visible": stats.visible,
        "in_flight": stats.in_flight,
        "delayed": stats.delayed,
        "oldest_age_seconds": stats.oldest_age_seconds,
        "dead_letter_queue": queue.attributes.dead_letter_queue,
    }


def queues_ls(
    db: DbOption = None,
    prefix: Annotated[str, typer.Option(help="Only queues whose name starts with this.")] = "",
    all_queues: Annotated[
        bool, typer.Option("--all", help="Also eventyard's own queues (eventyard:...).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """List queues with their approximate counts and dead-letter queues."""
    with session(db) as client:
        names = (
            [record.name for record in client.store.list_queues(prefix)]
            if all_queues
            else client.list_queues(prefix)
        )
        rows = [queue_row(queue_handle(client, name)) for name in names]
    if as_json:
        print_json({"queues": rows})
        return
    view = table("queue", "visible", "in flight", "delayed", "oldest age (s)", "dlq")
    for row in rows:
        add_row(
            view,
            row["name"],
            str(row["visible"]),
            str(row["in_flight"]),
            str(row["delayed"]),
            cell(row["oldest_age_seconds"]),
            row["dead_letter_queue"] or "",
        )
    console.print(view)


app.command("ls")(queues_ls)
app.command("list", hidden=True)(queues_ls)


@app.command("show")
def queues_show(name: str, db: DbOption = None, as_json: JsonOption = False) -> None:
    """A queue's counts, attributes, counters, dead-letter queue and redrive tasks."""
    with session(db) as client:
        queue = queue_handle(client, name)
        stats = queue.stats()
        config = queue.attributes
        dead_letter: dict[str, Any] | None = None
        if config.dead_letter_queue:
            try:
                dlq_stats = client.get_queue(config.dead_letter_queue).stats()
            except eventyard.QueueDoesNotExist:
                dead_letter = {"name": config.dead_letter_queue, "exists": False}
            else:
                dead_letter = {
                    "name": config.dead_letter_queue,
                    "exists": True,
                    "max_receive_count": config.max_receive_count,
                    "visible": dlq_stats.visible,
                    "in_flight": dlq_stats.in_flight,
                    "delayed": dlq_stats.delayed,
                    "total": dlq_stats.total,
                }
        document = {
            "name": queue.name,
            "arn": queue.arn,
            "fifo": queue.fifo,
            "internal": is_internal_queue(queue.name),
            "stats": {**jsonable(stats), "total": stats.total},
            "counters": jsonable(queue.counters()),
            "attributes": jsonable(config),
            "dead_letter_queue": dead_letter,
            "dead_letter_sources": client.store.dead_letter_sources(queue.name),
            "redrive_tasks": jsonable(client.store.list_move_tasks(queue.name)[:5]),
        }
    if as_json:
        print_json(document)
        return
    _print_queue(document)


def _print_queue(document: dict[str, Any]) -> None:
    stats, counters = document["stats"], document["counters"]
    console.print(
        fields_table(
            {
                "arn": document["arn"],
                "fifo": document["fifo"],
                "visible": stats["visible"],
                "in flight": stats["in_flight"],
                "delayed": stats["delayed"],
                "oldest age (s)": stats["oldest_age_seconds"],
            },
            title=f"queue {document['name']}",
        )
    )
    console.print(fields_table(counters, title="counters"))
    attributes = dict(document["attributes"])
    policy = attributes.pop("redrive_allow_policy")
    attributes["redrive_allow_policy"] = policy["permission"] + (
        f" {', '.join(policy['source_queues'])}" if policy["source_queues"] else ""
    )
    console.print(fields_table(attributes, title="attributes"))
    dead_letter = document["dead_letter_queue"]
    if dead_letter is not None:
        if dead_letter["exists"]:
            console.print(
                f"dead-letter queue: {dead_letter['name']} after "
                f"{dead_letter['max_receive_count']} receives, holding {dead_letter['total']} "
                f"message(s) (eventyard dlq show {dead_letter['name']})",
                soft_wrap=True,
            )
        else:
            console.print(f"dead-letter queue: {dead_letter['name']} (does not exist)")
    if document["dead_letter_sources"]:
        console.print(f"dead-letter queue of: {', '.join(document['dead_letter_sources'])}")
    if document["redrive_tasks"]:
        tasks = table("redrive task", "status", "to move", "moved", "skipped", "destination")
        for task in document["redrive_tasks"]:
            add_row(
                tasks,
                task["task_id"],
                task["status"],
                str(task["to_move"]),
                str(task["moved"]),
                str(task["skipped"]),
                task["destination_queue"] or "(each source)",
            )
        console.print(tasks)


@app.command("create")
def queues_create(
    name: str,
    db: DbOption = None,
    visibility_timeout: Optional[int] = None,  # noqa: UP045
    delay_seconds: Optional[int] = None,  # noqa: UP045
    dead_letter_queue: Optional[str] = None,  # noqa: UP045
    max_receive_count: Optional[int] = None,  # noqa: UP045
    content_based_deduplication: bool = False,
) -> None:
    """Create a queue (FIFO when the name ends in .fifo)."""
    with session(db) as client:
        queue = client.create_queue(
            name,
            visibility_timeout=visibility_timeout,
            delay_seconds=delay_seconds,
            dead_letter_queue=dead_letter_queue,
            max_receive_count=max_receive_count,
            content_based_deduplication=content_based_deduplication or None,
        )
        console.print(f"created {queue.name} ({queue.arn})")


@app.command("delete")
def queues_delete(name: str, db: DbOption = None) -> None:
    """Delete a queue and its messages."""
    with session(db) as client:
        client.delete_queue(name)
        console.print(f"deleted {name}")


@app.command("purge")
def queues_purge(
    name: str,
    db: DbOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete every message of a queue, in flight included (once per 60 s)."""
    with session(db) as client:
        queue = queue_handle(client, name)
        total = queue.stats().total
        if total and not yes:
            typer.confirm(
                f"Purge {total} message(s) from {queue.name}? They cannot be recovered",
                abort=True,
                err=True,
            )
        if total >= LARGE_QUEUE:
            with errors.status(f"purging {total} messages from {queue.name} …"):
                count = queue.purge()
        else:
            count = queue.purge()
        console.print(f"purged {count} messages from {queue.name}")
