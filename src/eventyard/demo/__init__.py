"""`eventyard demo`: the chapter's checkout system, running, with a narrated scenario.

Starts the checkout example (``eventyard.examples.checkout``: HTTP API, topic,
queues with dead-letter queues, four functions in worker processes, bus rules)
on a fresh SQLite file with the admin surface beside it, prints where it
serves (the API, and the dashboard with a one-time login link), tells the story (see
`eventyard.demo.story`) with live figures, prints a summary, and keeps serving
until Ctrl-C (or ends at once with ``exit_after``).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import socket
import tempfile
from types import ModuleType
from typing import Any, Final

from rich.console import Console

import eventyard

APP_MODULE: Final = "eventyard.examples.checkout.app"
#: How long a failed message waits before its next try in the demo (the example's default: 30).
DEMO_RETRY_SECONDS: Final = "2"
DEFAULT_PORT: Final = 8000
STARTUP_SECONDS: Final = 30


def _missing_extras() -> list[str]:
    return [name for name in ("reportlab", "PIL") if importlib.util.find_spec(name) is None]


def _free_port(preferred: int | None) -> int:
    for candidate in (preferred if preferred is not None else DEFAULT_PORT, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                if preferred is not None:
                    raise
                continue
            return int(sock.getsockname()[1])
    raise OSError("no free port on 127.0.0.1")


def _checkout_module(folder: str) -> ModuleType:
    """The example's app module, configured for the demo (quick retries, labels in the folder)."""
    os.environ["CHECKOUT_RETRY_SECONDS"] = DEMO_RETRY_SECONDS
    os.environ["CHECKOUT_LABELS_DIR"] = os.path.join(folder, "labels")
    module = importlib.import_module(APP_MODULE)
    if str(module.RETRY_SECONDS) != DEMO_RETRY_SECONDS:  # imported earlier with other settings
        module = importlib.reload(module)
    return module


def run_demo(
    folder: str | None = None,
    console: Console | None = None,
    *,
    port: int | None = None,
    exit_after: bool = False,
) -> int:
    """Run the demo; returns the process exit code (0, 1 if a step stalled, 2 on bad input)."""
    out = console or Console()
    missing = _missing_extras()
    if missing:
        out.print(
            f"[red]error[/red]: the demo needs {', '.join(missing)}: pip install 'eventyard[demo]'"
        )
        return 2
    if folder is None:
        folder = tempfile.mkdtemp(prefix="eventyard-demo-")
    database = os.path.abspath(os.path.join(folder, "checkout.db"))
    if os.path.exists(database):
        out.print(
            f"[red]error[/red]: {database} exists; the demo starts a fresh shop, "
            "so give it a new or empty folder"
        )
        return 2
    os.makedirs(folder, exist_ok=True)
    try:
        listen_port = _free_port(port)
    except OSError as exc:
        out.print(f"[red]error[/red]: cannot listen on 127.0.0.1:{port}: {exc}")
        return 2
    try:
        return _run(folder, database, listen_port, out, exit_after)
    except KeyboardInterrupt:
        out.print("\ninterrupted: the shop is stopped; its files stay in " + folder)
        return 130


def _run(folder: str, database: str, port: int, out: Console, exit_after: bool) -> int:
    from eventyard.admin.access import admin_access, login_link
    from eventyard.demo.board import Board, DemoStalled
    from eventyard.demo.story import Shop, Story
    from eventyard.runtime.apply import apply_app
    from eventyard.runtime.supervisor import Supervisor

    module = _checkout_module(folder)
    orders: Any = importlib.import_module("eventyard.examples.checkout.orders")
    api = f"http://127.0.0.1:{port}"
    out.print(f"[bold]eventyard demo[/bold]: the chapter's checkout system in [cyan]{folder}[/]")
    with eventyard.connect(f"sqlite:///{database}") as client:
        apply_app(module.app, client)
        access = admin_access(client.url)
        supervisor = Supervisor(
            module.app,
            f"{APP_MODULE}:app",
            client,
            http=("127.0.0.1", port),
            admin_routes=access.routes(lambda: client),
        )
        supervisor.start()
        board = Board(client, database, out)
        shop = Shop(api, out)
        try:
            if not supervisor.http_ready.wait(STARTUP_SECONDS) or supervisor.failure:
                out.print(f"[red]error[/red]: {supervisor.failure or 'the API did not start'}")
                return 2
            out.print(
                f"  API        {api}  (POST /checkout, GET /orders/{{id}}, GET /stock, "
                "POST /printer)\n"
                f"  database   {database}\n"
                f"  labels     {os.environ['CHECKOUT_LABELS_DIR']}\n"
                f"  functions  {', '.join(module.app.functions)} (worker processes)"
            )
            out.print(
                f"  dashboard  {api}/admin/  (token in {access.token_location})\n"
                f"  log in     {login_link(access, api)}  (one-time link, 15 minutes)",
                soft_wrap=True,
                highlight=False,
            )
            story = Story(
                client,
                shop,
                board,
                out,
                lambda order_id, posted: orders.order_event(
                    order_id, orders.OrderRequest.model_validate(posted)
                ),
                dashboard=f"{api}/admin",
            )
            try:
                story.run()
            except DemoStalled as exc:
                out.print(f"\n[red]the demo stalled[/red]: {exc}")
                return 1
            out.print()
            out.print(story.summary(supervisor.stats()))
            if exit_after:
                return 0
            out.print(
                f"\nStill serving on {api}: try [cyan]curl {api}/stock[/cyan] or "
                f"[cyan]curl -X POST {api}/printer -d '{{\"paper\": false}}'[/cyan]; "
                f"the poison order waits on the dashboard at {api}/admin/queues/InventoryDLQ "
                f"(a fresh login link: {login_link(access, api)}). Ctrl-C to stop.",
                soft_wrap=True,
                highlight=False,
            )
            supervisor.install_signal_handlers()
            supervisor.wait()
            out.print("stopped")
            return 0
        finally:
            shop.close()
            board.close()
            supervisor.shutdown()
