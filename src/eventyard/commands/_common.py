"""What every operator command shares: the session, errors, options and rendering.

Human output goes through rich (tables, progress); ``--json`` output is one
plain JSON document on stdout (JSON lines for streams), never styled, so
scripts can parse it. Errors are one line on stderr and exit 1; usage errors
(bad options) exit 2, as click reports them.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, Final, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

import eventyard
from eventyard.errors import EventyardError
from eventyard.model.internal import is_internal_queue
from eventyard.model.peek import PeekedMessage

#: Exit codes: 0 done, 1 an error (the API refused or failed), 2 a usage error (click's).
EXIT_ERROR: Final = 1
EXIT_USAGE: Final = 2

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)

DbOption = Annotated[
    Optional[str],  # noqa: UP045 - typer needs Optional at runtime on 3.11
    typer.Option("--db", help="Database URL (default: $EVENTYARD_DB or sqlite:///./eventyard.db)."),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON document instead of a table (for scripts).")
]


@contextmanager
def session(db: str | None, durability: str = "full") -> Iterator[eventyard.Client]:
    """A client for one command; an eventyard error ends the command with one line, exit 1."""
    try:
        with eventyard.connect(db, durability=durability) as client:  # type: ignore[arg-type]
            yield client
    except EventyardError as exc:
        raise fail(exc) from None


def fail(exc: EventyardError) -> typer.Exit:
    """Print ``error (Type): message`` on stderr; the caller raises the returned exit (code 1)."""
    error_line(type(exc).__name__, str(exc))
    return typer.Exit(code=EXIT_ERROR)


def error_line(kind: str, message: str) -> None:
    errors.print(Text.assemble(("error", "red"), f" ({kind}): {message}"), soft_wrap=True)


def usage_error(message: str) -> typer.Exit:
    """A bad combination of options: one line on stderr, exit 2 (as click's own usage errors)."""
    errors.print(Text.assemble(("usage error", "red"), f": {message}"), soft_wrap=True)
    return typer.Exit(code=EXIT_USAGE)


# -- JSON ----------------------------------------------------------------------------
def jsonable(value: Any) -> Any:
    """Plain JSON values: dataclasses become objects, bytes become base64 text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, float) and value == float("inf"):
        return "+Inf"
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def message_json(message: PeekedMessage) -> dict[str, Any]:
    """A peeked message as JSON values; a binary body is base64 text, marked as such."""
    document: dict[str, Any] = jsonable(message)
    if isinstance(message.body, bytes):
        document["body_encoding"] = "base64"
    return document


def print_json(document: Any) -> None:
    """One JSON document on stdout."""
    sys.stdout.write(json.dumps(jsonable(document), indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def print_json_line(document: Any) -> None:
    """One JSON line on stdout, flushed at once (for streams)."""
    sys.stdout.write(json.dumps(jsonable(document), ensure_ascii=False) + "\n")
    sys.stdout.flush()


# -- text ------------------------------------------------------------------------------
def table(*columns: str, title: str | None = None) -> Table:
    """A table whose first column (the name) never wraps; the others fold."""
    new = Table(title=title, title_justify="left")
    for index, column in enumerate(columns):
        new.add_column(column, overflow="fold", no_wrap=index == 0)
    return new


def fields_table(rows: Mapping[str, object], title: str | None = None) -> Table:
    """A two-column table of names and values (for ``show``)."""
    new = Table(title=title, title_justify="left", show_header=False)
    new.add_column("field", style="bold")
    new.add_column("value", overflow="fold")
    for name, value in rows.items():
        new.add_row(Text(name), Text(cell(value)))
    return new


def add_row(view: Table, *values: object) -> None:
    """A row of plain text (what users named or sent is never read as rich markup)."""
    view.add_row(*(Text(cell(value)) for value in values))


def cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def excerpt(body: object, width: int = 60) -> str:
    """A body on one line, cut to ``width`` characters."""
    if isinstance(body, bytes):
        text = f"<{len(body)} bytes>"
    elif isinstance(body, str):
        text = body
    else:
        text = json.dumps(body, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def body_text(body: object) -> str:
    """A whole body as text: JSON values as JSON, bytes as base64."""
    if isinstance(body, bytes):
        return base64.b64encode(body).decode("ascii")
    if isinstance(body, str):
        return body
    return json.dumps(body, ensure_ascii=False)


def age(since_ms: int, now_ms: int | None = None) -> str:
    """``42s``, ``5m``, ``3h``, ``2d``: how long ago ``since_ms`` was."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    seconds = max(0, (now - since_ms) // 1000)
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def when(ms: int) -> str:
    """A timestamp (ms since the epoch) in local time, to the second."""
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def milliseconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def queue_handle(client: eventyard.Client, name: str) -> eventyard.Queue:
    """A queue by name, eventyard's own (``eventyard:...``) included."""
    if is_internal_queue(name):
        return eventyard.Queue(client, client.store.get_queue(name))
    return client.get_queue(name)
