"""The label printer: has it paper, and how long does a label take to print.

The switch lives in the shop's database, so the HTTP route (``POST /printer``),
this command line and the shipping function in its worker process all see
the same printer::

    python -m eventyard.examples.checkout.printer --no-paper --db sqlite:///checkout.db
    python -m eventyard.examples.checkout.printer --paper --print-ms 20 --db sqlite:///checkout.db
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from pydantic import BaseModel, ConfigDict, Field

import eventyard

MAX_PRINT_MS = 10_000


class OutOfPaper(Exception):
    """The printer has no paper: the shipping function fails and its messages wait."""


class PrinterState(BaseModel):
    """The printer's settings; also the body of ``POST /printer`` (both fields optional there)."""

    model_config = ConfigDict(extra="forbid")

    paper: bool
    print_ms: Annotated[int, Field(ge=0, le=MAX_PRINT_MS)]


class PrinterChange(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    paper: bool | None = None
    print_ms: Annotated[int | None, Field(ge=0, le=MAX_PRINT_MS)] = None


def read_printer(tx: eventyard.Transaction) -> PrinterState:
    paper, print_ms = tx.execute("SELECT paper, print_ms FROM printer WHERE id = 1").fetchone()
    return PrinterState(paper=bool(paper), print_ms=print_ms)


def change_printer(tx: eventyard.Transaction, change: PrinterChange) -> PrinterState:
    if change.paper is not None:
        tx.execute("UPDATE printer SET paper = ? WHERE id = 1", (int(change.paper),))
    if change.print_ms is not None:
        tx.execute("UPDATE printer SET print_ms = ? WHERE id = 1", (change.print_ms,))
    return read_printer(tx)


def add_printer_routes(app: eventyard.App) -> None:
    """``GET /printer`` and ``POST /printer`` (``{"paper": false}``, ``{"print_ms": 20}``)."""

    @app.route("GET", "/printer")
    def get_printer(tx: eventyard.Transaction) -> PrinterState:
        return read_printer(tx)

    @app.route("POST", "/printer", max_body_bytes=1024)
    def switch_printer(change: PrinterChange, tx: eventyard.Transaction) -> PrinterState:
        return change_printer(tx, change)


def main(
    db: Annotated[str, typer.Option(help="The checkout app's database URL.")],
    paper: Annotated[
        Optional[bool],  # noqa: UP045 - typer needs Optional here
        typer.Option("--paper/--no-paper", help="Load paper, or take it out."),
    ] = None,
    print_ms: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(min=0, max=MAX_PRINT_MS, help="Milliseconds each label takes to print."),
    ] = None,
) -> None:
    """Show or switch the checkout example's label printer."""
    from .orders import create_tables

    with eventyard.connect(db) as client:
        create_tables(client)
        with client.transaction() as tx:
            state = change_printer(tx, PrinterChange(paper=paper, print_ms=print_ms))
    typer.echo(state.model_dump_json())


if __name__ == "__main__":
    typer.run(main)
