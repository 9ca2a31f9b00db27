"""``eventyard rules ls|show [--bus B]``."""

from __future__ import annotations

import contextlib
import json
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
    print_json,
    session,
    table,
)

app = typer.Typer(help="List and inspect the rules of an event bus.", no_args_is_help=True)

BusOption = Annotated[str, typer.Option("--bus", help="The event bus.")]


def rule_document(rule: eventyard.Rule) -> dict[str, Any]:
    targets = []
    for target in rule.targets():
        document: dict[str, Any] = jsonable(target)
        with contextlib.suppress(ValueError):
            document["input_shape"] = json.loads(target.input_shape)
        targets.append(document)
    return {
        "name": rule.name,
        "bus": rule.bus,
        "arn": rule.arn,
        "state": "ENABLED" if rule.enabled else "DISABLED",
        "pattern": rule.pattern,
        "schedule": rule.schedule,
        "description": rule.description,
        "targets": targets,
    }


def _what(rule: dict[str, Any]) -> str:
    what = json.dumps(rule["pattern"]) if rule["pattern"] is not None else ""
    if rule["schedule"]:
        what = f"{what} {rule['schedule']}".strip()
    return what


def rules_ls(bus: BusOption = "default", db: DbOption = None, as_json: JsonOption = False) -> None:
    """List a bus's rules with their patterns, schedules, states and targets."""
    with session(db) as client:
        rules = [rule_document(rule) for rule in client.bus(bus).rules()]
    if as_json:
        print_json({"bus": bus, "rules": rules})
        return
    view = table("rule", "state", "pattern / schedule", "targets")
    for rule in rules:
        targets = ", ".join(f"{t['kind']}:{t['endpoint']}" for t in rule["targets"])
        add_row(view, rule["name"], rule["state"].lower(), _what(rule), targets)
    console.print(view)


app.command("ls")(rules_ls)
app.command("list", hidden=True)(rules_ls)


@app.command("show")
def rules_show(
    name: str, bus: BusOption = "default", db: DbOption = None, as_json: JsonOption = False
) -> None:
    """A rule's pattern or schedule, state, and each target with its input and retries."""
    with session(db) as client:
        document = rule_document(client.bus(bus).rule(name))
    if as_json:
        print_json(document)
        return
    console.print(
        fields_table(
            {
                "bus": document["bus"],
                "arn": document["arn"],
                "state": document["state"].lower(),
                "pattern": None
                if document["pattern"] is None
                else json.dumps(document["pattern"], indent=2),
                "schedule": document["schedule"],
                "description": document["description"],
            },
            title=f"rule {document['name']}",
        )
    )
    view = table("target", "kind", "endpoint", "input", "attempts", "max age (s)", "dlq")
    for target in document["targets"]:
        shape = target["input_shape"]
        add_row(
            view,
            target["target_id"],
            target["kind"],
            target["endpoint"],
            shape if isinstance(shape, str) else json.dumps(shape),
            str(target["max_attempts"]),
            str(target["max_event_age_seconds"]),
            target["dead_letter_queue"] or "",
        )
    console.print(view)
