"""One order's W3C trace, from its HTTP request through a topic and a queue into a function
and on to what that function sends."""

from __future__ import annotations

import textwrap
from pathlib import Path

import httpx
import pytest
from running_app import free_port, wait_until

import eventyard
from eventyard.model import trace
from eventyard.runtime.apply import apply_app
from eventyard.runtime.loader import load_app
from eventyard.runtime.supervisor import Supervisor

pytestmark = pytest.mark.slow

APP = """
import eventyard

app = eventyard.App("traced")
orders = app.topic("orders")
inventory = app.queue("inventory", visibility_timeout=10)
audit = app.queue("audit")
orders.subscribe(inventory, raw=True)


@app.route("POST", "/checkout")
def checkout(body: dict, tx: eventyard.Transaction) -> dict:
    tx.publish("orders", body)
    return {"ok": True}


@app.consumer(inventory, batch_size=1, timeout_seconds=5, max_concurrency=1)
def take_stock(batch, context):
    for record in batch:
        context.client.get_queue("audit").send({"seen": record.traceparent})
"""

INCOMING = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_trace_follows_the_order_from_request_to_function_and_beyond(tmp_path: Path) -> None:
    path = tmp_path / "traced.py"
    path.write_text(textwrap.dedent(APP))
    app = load_app(str(path))
    port = free_port()
    with eventyard.connect(f"sqlite:///{tmp_path / 'traced.db'}", durability="process") as client:
        apply_app(app, client)
        supervisor = Supervisor(
            app, str(path), client, http=("127.0.0.1", port), run_dispatcher=False
        ).start()
        try:
            assert supervisor.http_ready.wait(30)
            answer = httpx.post(
                f"http://127.0.0.1:{port}/checkout",
                json={"order": 1},
                headers={"traceparent": INCOMING},
            )
            assert answer.status_code == 200
            assert trace.trace_id(answer.headers["traceparent"]) == trace.trace_id(INCOMING)
            fresh = httpx.post(f"http://127.0.0.1:{port}/checkout", json={"order": 2})
            audit = client.get_queue("audit")
            wait_until(lambda: audit.stats().visible == 2, timeout=30, what="both audited")
            messages = audit.receive(max_messages=2)
        finally:
            supervisor.shutdown()
    by_trace = {trace.trace_id(m.body["seen"]): m for m in messages}
    assert set(by_trace) == {trace.trace_id(INCOMING), trace.trace_id(fresh.headers["traceparent"])}
    for traced in messages:
        # The function's own send continues the trace it was handed (a new span of it).
        sent = str(traced.attributes["traceparent"])
        assert trace.trace_id(sent) == trace.trace_id(traced.body["seen"])
        assert sent != traced.body["seen"]
