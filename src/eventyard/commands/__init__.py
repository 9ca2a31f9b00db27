"""The operator commands of ``eventyard``: one module per group, registered on the main app.

``queues``, ``topics``, ``rules``, ``functions`` (``ls`` / ``show``), ``dlq``
(``ls`` / ``show`` / ``redrive``) and ``tail``; shared session, error and
rendering helpers in `_common`. Every listing takes ``--json``; errors are one
line on stderr with exit 1, usage errors exit 2.
"""

from __future__ import annotations

import typer

from eventyard.commands import dlq, functions, queues, rules, tail, topics


def register(app: typer.Typer) -> None:
    """Add the operator command groups and ``tail`` to the main ``eventyard`` app."""
    app.add_typer(queues.app, name="queues")
    app.add_typer(topics.app, name="topics")
    app.add_typer(rules.app, name="rules")
    app.add_typer(functions.app, name="functions")
    app.add_typer(dlq.app, name="dlq")
    app.command("tail")(tail.tail)
