"""``eventyard dlq ls|show|redrive``: find a poison message, see why it failed, send it back.

``dlq show`` peeks (receives nothing, changes nothing) and joins each message
with its failure history (`Client.message_failures`: the function, attempt,
error and traceback of every failed invocation, kept through dead-letter
moves). ``dlq redrive --ids`` moves chosen messages back at once
(`Client.redrive_messages`); without ids a background redrive task moves the
whole queue (`Client.start_redrive`) under a progress bar, and Ctrl-C
cancels it (what moved stays moved).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from typing import Annotated, Any, Final, Optional

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

import eventyard
from eventyard.commands._common import (
    EXIT_ERROR,
    DbOption,
    JsonOption,
    add_row,
    age,
    cell,
    console,
    error_line,
    errors,
    excerpt,
    jsonable,
    message_json,
    print_json,
    queue_handle,
    session,
    table,
    usage_error,
    when,
)
from eventyard.store.records import MoveTaskRecord

app = typer.Typer(
    help="Dead-letter queues: list them, look at their messages and failures, redrive.",
    no_args_is_help=True,
)

#: How often the redrive progress bar reads the task's progress (seconds).
_PROGRESS_EVERY: Final = 0.2


# -- ls ----------------------------------------------------------------------------------
def _dead_letter_queues(client: eventyard.Client) -> dict[str, list[dict[str, str]]]:
    """Dead-letter queue name → what sends its failures there (queues, subscriptions,
    rule targets)."""
    found: dict[str, list[dict[str, str]]] = {}
    for record in client.store.list_queues():
        if record.config.dead_letter_queue:
            found.setdefault(record.config.dead_letter_queue, []).append(
                {"kind": "queue", "name": record.name}
            )
    for subscription in client.list_subscriptions():
        if subscription.config.dead_letter_queue:
            found.setdefault(subscription.config.dead_letter_queue, []).append(
                {"kind": "subscription", "name": subscription.arn}
            )
    for bus in client.list_buses():
        for rule in client.bus(bus).rules():
            for target in rule.targets():
                if target.dead_letter_queue:
                    found.setdefault(target.dead_letter_queue, []).append(
                        {"kind": "rule target", "name": f"{bus}/{rule.name}/{target.target_id}"}
                    )
    return found


def dlq_ls(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Queues that are a dead-letter queue, with their depths and their sources."""
    with session(db) as client:
        rows: list[dict[str, Any]] = []
        for name, sources in sorted(_dead_letter_queues(client).items()):
            row: dict[str, Any] = {"name": name, "exists": True, "sources": sources}
            try:
                stats = queue_handle(client, name).stats()
            except eventyard.QueueDoesNotExist:
                row.update(exists=False, total=0)
            else:
                row.update(jsonable(stats), total=stats.total)
            rows.append(row)
    if as_json:
        print_json({"dead_letter_queues": rows})
        return
    view = table("dead-letter queue", "messages", "oldest age (s)", "sources")
    for row in rows:
        add_row(
            view,
            row["name"] if row["exists"] else f"{row['name']} (missing)",
            str(row["total"]),
            cell(row.get("oldest_age_seconds")),
            "\n".join(
                s["name"] if s["kind"] == "queue" else f"{s['kind']} {s['name']}"
                for s in row["sources"]
            ),
        )
    console.print(view)


app.command("ls")(dlq_ls)
app.command("list", hidden=True)(dlq_ls)


# -- show --------------------------------------------------------------------------------
@app.command("show")
def dlq_show(
    queue: str,
    db: DbOption = None,
    limit: Annotated[
        int, typer.Option(min=1, max=1000, help="At most this many messages, oldest first.")
    ] = 20,
    page_token: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Continue after a previous page (its next_page_token)."),
    ] = None,
    tracebacks: Annotated[
        bool, typer.Option("--tracebacks", help="Also print each message's last traceback.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Peek a dead-letter queue's messages (receiving nothing), each with its failures."""
    with session(db) as client:
        handle = queue_handle(client, queue)
        stats = handle.stats()
        page = handle.peek(limit, page_token)
        now_ms = client.now_ms()
        messages = [
            {
                **message_json(message),
                "age_seconds": max(0, now_ms - message.sent_timestamp) / 1000,
                "failures": jsonable(client.message_failures(message.message_id)),
            }
            for message in page.messages
        ]
        sources = client.store.dead_letter_sources(handle.name)
        document = {
            "queue": handle.name,
            "dead_letter_sources": sources,
            "stats": {**jsonable(stats), "total": stats.total},
            "messages": messages,
            "next_page_token": page.next_page_token,
        }
        bodies = {m.message_id: m.body for m in page.messages}
    if as_json:
        print_json(document)
        return
    console.print(
        f"[bold]{handle.name}[/bold]: {stats.total} message(s)"
        + (f", dead-letter queue of {', '.join(sources)}" if sources else "")
    )
    if not messages:
        return
    for message in messages:
        console.print()
        console.print(Text(message["message_id"], style="bold"))
        details = [
            f"received {message['receive_count']}x",
            f"sent {age(message['sent_timestamp'], now_ms)} ago",
            message["state"].replace("_", " "),
        ]
        if message["dead_letter_source_queue"]:
            details.insert(0, f"from {message['dead_letter_source_queue']}")
        console.print(Text("  " + ", ".join(details)))
        console.print(Text(f"  body: {excerpt(bodies[message['message_id']], 200)}"))
        if message["attributes"]:
            attributes = ", ".join(f"{k}={v}" for k, v in message["attributes"].items())
            console.print(Text(f"  attributes: {excerpt(attributes, 200)}"))
        if not message["failures"]:
            console.print(Text("  no failure recorded"))
            continue
        view = table("failed at", "function", "attempt", "error")
        view.columns[0].no_wrap = True
        for failure in message["failures"]:
            add_row(
                view,
                when(failure["failed_at_ms"]),
                failure["function"],
                failure["attempt"],
                f"{failure['error_type']}: {excerpt(failure['error_message'], 200)}",
            )
        console.print(view)
    if tracebacks:
        for message in messages:
            if message["failures"]:
                last = message["failures"][-1]
                console.rule(f"{message['message_id']}: {last['function']} #{last['attempt']}")
                console.print(last["traceback"] or "(no traceback)", markup=False)
    if page.next_page_token:
        console.print(
            f"more: eventyard dlq show {handle.name} --page-token {page.next_page_token}",
            soft_wrap=True,
        )
    console.print(
        f"redrive: eventyard dlq redrive {handle.name} --ids {messages[0]['message_id']}"
        " (or without --ids: the whole queue)",
        markup=False,
        soft_wrap=True,
    )


# -- redrive -----------------------------------------------------------------------------
@app.command("redrive")
def dlq_redrive(
    queue: str,
    db: DbOption = None,
    ids: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--ids", "--id", help="Only these message ids (repeatable, or comma-separated)."
        ),
    ] = None,
    to: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--to", help="Destination queue (default: each message's source queue)."),
    ] = None,
    rate: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(min=1, max=500, help="At most this many messages per second (whole queue)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Move messages of a dead-letter queue back: chosen ids at once, or all under a progress
    bar (Ctrl-C cancels; what moved stays moved)."""
    chosen = [part.strip() for item in ids or [] for part in item.split(",") if part.strip()]
    if ids is not None and not chosen:
        raise usage_error("--ids needs at least one message id")
    if chosen and rate is not None:
        raise usage_error("--rate applies to a whole-queue redrive, not to --ids")
    with session(db) as client:
        if chosen:
            _redrive_ids(client, queue, chosen, to, as_json)
        else:
            _redrive_all(client, queue, to, rate, as_json)


def _redrive_ids(
    client: eventyard.Client, queue: str, ids: list[str], to: str | None, as_json: bool
) -> None:
    results = client.redrive_messages(queue, ids, destination=to)
    rows = [
        {
            "message_id": result.message_id,
            "ok": result.ok,
            "error_type": None if result.error is None else type(result.error).__name__,
            "error_message": None if result.error is None else str(result.error),
        }
        for result in results
    ]
    if as_json:
        print_json({"queue": queue, "destination": to, "results": rows})
    else:
        view = table("message id", "result")
        for row in rows:
            add_row(
                view,
                row["message_id"],
                f"moved to {to}"
                if row["ok"] and to
                else "moved back"
                if row["ok"]
                else f"{row['error_type']}: {row['error_message']}",
            )
        console.print(view)
        console.print(f"redrove {len(results.successful)} of {len(rows)}")
    if results.failed:
        raise typer.Exit(code=EXIT_ERROR)


def _redrive_all(
    client: eventyard.Client, queue: str, to: str | None, rate: int | None, as_json: bool
) -> None:
    task = client.start_redrive(queue, destination=to, max_messages_per_second=rate)
    try:
        progress = _until_done(task) if as_json else _watch(task, queue)
    except KeyboardInterrupt:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # one clean cancel
        try:
            progress = task.cancel()
        finally:
            signal.signal(signal.SIGINT, previous)
    if as_json:
        print_json(progress)
    else:
        line = (
            f"{progress.status.lower()}: moved {progress.moved} of {progress.to_move}, "
            f"skipped {progress.skipped}"
        )
        (console if progress.status == "COMPLETED" else errors).print(line)
    if progress.status == "FAILED":
        error_line("RedriveFailed", progress.failure_reason or "the redrive task failed")
    if progress.status != "COMPLETED":
        raise typer.Exit(code=EXIT_ERROR)


def _watch(task: eventyard.RedriveTask, queue: str) -> MoveTaskRecord:
    """A progress bar (on stderr) until the task ends."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
    ) as bar:
        shown = bar.add_task(f"redriving {queue}", total=None)

        def show(progress: MoveTaskRecord) -> None:
            bar.update(shown, total=progress.to_move, completed=progress.moved + progress.skipped)

        return _until_done(task, show)


def _until_done(
    task: eventyard.RedriveTask, show: Callable[[MoveTaskRecord], None] | None = None
) -> MoveTaskRecord:
    """Wait for the task, showing its progress now and then. Sleeps, not `RedriveTask.wait`:
    on Python 3.11 a Ctrl-C inside `Thread.join` marks the thread stopped while it still
    runs, and the cancel that follows would not wait for it."""
    while task.running:
        time.sleep(_PROGRESS_EVERY)
        if show is not None:
            show(task.progress())
    final = task.progress()
    if show is not None:
        show(final)
    return final
