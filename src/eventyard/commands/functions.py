"""``eventyard functions ls|show``: what each function did lately, and what waits for it.

The figures come from `Client.function_stats` (written by every worker
process); the pending asynchronous invocations of a function wait in its
internal queue ``eventyard:fn:<name>``. A function that never ran and has no
such queue is unknown here (the database does not hold the app's code).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

import eventyard
from eventyard.commands._common import (
    DbOption,
    JsonOption,
    add_row,
    console,
    fields_table,
    jsonable,
    milliseconds,
    print_json,
    session,
    table,
)
from eventyard.errors import ResourceNotFound
from eventyard.model.internal import function_queue

app = typer.Typer(
    help="Functions: invocations, errors and latency, and their pending invocations.",
    no_args_is_help=True,
)

WindowOption = Annotated[
    int,
    typer.Option(
        "--window", min=60, max=3600, help="Seconds of recent history (60-3600, whole minutes)."
    ),
]
_PREFIX = function_queue("")


def _pending(client: eventyard.Client) -> dict[str, dict[str, Any]]:
    """Function name → the stats of its invocation queue."""
    pending: dict[str, dict[str, Any]] = {}
    for record in client.store.list_queues(_PREFIX):
        stats = eventyard.Queue(client, record).stats()
        pending[record.name[len(_PREFIX) :]] = {
            "queue": record.name,
            **jsonable(stats),
            "total": stats.total,
        }
    return pending


def _document(
    name: str, stats: eventyard.FunctionStats | None, queue: dict[str, Any] | None, window: int
) -> dict[str, Any]:
    document: dict[str, Any] = {"function": name, "window_seconds": window}
    if stats is None:
        document.update(
            invocations=0,
            errors=0,
            messages=0,
            p50_ms=None,
            p99_ms=None,
            total_invocations=0,
            total_errors=0,
            total_messages=0,
            total_duration_ms=0.0,
            histogram=[],
        )
    else:
        document.update(
            {
                key: value
                for key, value in jsonable(stats).items()
                if key not in ("function", "total_buckets", "bucket_bounds_ms")
            }
        )
        document["histogram"] = [
            {"le_ms": bound, "count": count} for bound, count in stats.cumulative_buckets()
        ]
    document["invocation_queue"] = queue
    return document


def _collect(client: eventyard.Client, window: int) -> list[dict[str, Any]]:
    stats = client.function_stats(window)
    pending = _pending(client)
    return [
        _document(name, stats.get(name), pending.get(name), window)
        for name in sorted(set(stats) | set(pending))
    ]


def functions_ls(
    db: DbOption = None, window: WindowOption = 300, as_json: JsonOption = False
) -> None:
    """Each function's invocations, errors and p50/p99 latency (last 5 minutes by default)."""
    with session(db) as client:
        functions = _collect(client, window)
    if as_json:
        print_json({"window_seconds": window, "functions": functions})
        return
    if not functions:
        console.print("no function has run against this database")
        return
    view = table(
        "function",
        "calls",
        "errors",
        "msgs",
        "p50 ms",
        "p99 ms",
        "pending",
        "all-time calls/errors",
        title=f"last {window // 60} minute(s)",
    )
    for function in functions:
        queue = function["invocation_queue"]
        add_row(
            view,
            function["function"],
            str(function["invocations"]),
            str(function["errors"]),
            str(function["messages"]),
            milliseconds(function["p50_ms"]),
            milliseconds(function["p99_ms"]),
            "-" if queue is None else str(queue["total"]),
            f"{function['total_invocations']} / {function['total_errors']}",
        )
    console.print(view)


app.command("ls")(functions_ls)
app.command("list", hidden=True)(functions_ls)


@app.command("show")
def functions_show(
    name: str, db: DbOption = None, window: WindowOption = 300, as_json: JsonOption = False
) -> None:
    """One function's recent and all-time figures, duration histogram and pending invocations."""
    with session(db) as client:
        found = [f for f in _collect(client, window) if f["function"] == name]
        if not found:
            raise ResourceNotFound(
                f"function {name!r} has no statistics and no invocation queue in "
                f"{client.url} (has it run against this database?)"
            )
    [function] = found
    if as_json:
        print_json(function)
        return
    queue = function["invocation_queue"]
    console.print(
        fields_table(
            {
                f"invocations (last {window}s)": function["invocations"],
                "errors": function["errors"],
                "messages": function["messages"],
                "p50 (ms)": milliseconds(function["p50_ms"]),
                "p99 (ms)": milliseconds(function["p99_ms"]),
                "all-time invocations": function["total_invocations"],
                "all-time errors": function["total_errors"],
                "all-time messages": function["total_messages"],
                "all-time duration (ms)": function["total_duration_ms"],
                "pending invocations": "-"
                if queue is None
                else f"{queue['visible']} visible, {queue['in_flight']} in flight, "
                f"{queue['delayed']} delayed ({queue['queue']})",
            },
            title=f"function {name}",
        )
    )
    if function["histogram"]:
        view = table("duration ≤ (ms)", "invocations (all-time, cumulative)")
        for bucket in function["histogram"]:
            bound = bucket["le_ms"]
            add_row(view, "+Inf" if bound == float("inf") else f"{bound:g}", str(bucket["count"]))
        console.print(view)
