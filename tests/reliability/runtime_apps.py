"""App files of the runtime crash tests (`test_runtime_crashes.py`), as source text.

Each test writes one of these to its temporary folder and runs it with
``eventyard run``; the supervisor and every worker process import it. They
report through an append-only JSON-lines log next to the app file (one
``os.write`` per line, so a line is whole or absent even when the writer is
SIGKILLed) and through tables of their own in the app's database.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: Shared by the app files: where to log, and how.
_PRELUDE = '''
import json
import os
import time

import eventyard

HERE = os.path.dirname(os.path.abspath(__file__))
LOG = os.path.join(HERE, "events.log")


def note(event, **fields):
    """One JSON line, appended with a single write (whole, or not there at all)."""
    line = json.dumps({"event": event, "pid": os.getpid(), "at": time.time(), **fields})
    fd = os.open(LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode() + b"\\n")
    finally:
        os.close(fd)


@eventyard.idempotent(key="order_id")
def record_effect(record, tx):
    """The effect of an order: one row, in the caller's transaction with its idempotency record."""
    tx.execute(
        "INSERT INTO effects (order_id, n) VALUES (?, ?)",
        (record.body["order_id"], record.receive_count),
    )
    return record.body["order_id"]
'''

#: The application table every effect goes to (created by the test, in the app's database).
EFFECTS_TABLE = "CREATE TABLE IF NOT EXISTS effects (order_id TEXT NOT NULL, n INTEGER NOT NULL)"
#: Where the steady function of the crash-loop app records what it handled.
STEADY_TABLE = "CREATE TABLE IF NOT EXISTS steady_done (n INTEGER NOT NULL, at REAL NOT NULL)"

#: Test 1: ``ship`` records each order of its batch in its own transaction, through
#: `record_effect`. The first delivery of the first batch holds its second record's
#: transaction open (effect written, not committed) long enough to be SIGKILLed there.
KILL_APP = (
    _PRELUDE
    + """
HOLD_SECONDS = 2.0
KILLED = os.path.join(HERE, "killed")

app = eventyard.App("runtime-kill")
orders = app.queue("orders", visibility_timeout=3)


@app.consumer(orders, batch_size=5, timeout_seconds=3, max_concurrency=1)
def ship(batch, context):
    ids = [record.body["order_id"] for record in batch]
    first = all(record.receive_count == 1 for record in batch)
    note("batch", ids=ids)
    for index, record in enumerate(batch):
        order_id = record.body["order_id"]
        note("record", order_id=order_id, receive_count=record.receive_count)
        with context.transaction() as tx:
            record_effect(record, tx)
            note("in_tx", order_id=order_id, index=index)
            if first and index == 1 and not os.path.exists(KILLED):
                time.sleep(HOLD_SECONDS)  # the test SIGKILLs this process here
            else:
                time.sleep(0.02)
        note("committed", order_id=order_id)
    note("done", ids=ids)
"""
)

#: Test 2: ``crashy`` dies on every batch; ``steady`` records what it handles.
CRASH_LOOP_APP = (
    _PRELUDE
    + """
app = eventyard.App("runtime-crash-loop")
crashy_queue = app.queue(
    "crashy", visibility_timeout=1, dead_letter_queue="crashy-dlq", max_receive_count=2
)
steady_queue = app.queue("steady", visibility_timeout=30)


@app.consumer(crashy_queue, batch_size=1, timeout_seconds=1, max_concurrency=1)
def crashy(batch):
    note("crash", ids=[record.message_id for record in batch])
    os._exit(3)


@app.consumer(steady_queue, batch_size=10, timeout_seconds=5, max_concurrency=2)
def steady(batch, context):
    now = time.time()
    with context.transaction() as tx:
        tx.executemany(
            "INSERT INTO steady_done (n, at) VALUES (?, ?)",
            [(record.body["n"], now) for record in batch],
        )
"""
)

#: Test 3: slow enough batches that a SIGTERM lands while some run.
SHUTDOWN_APP = (
    _PRELUDE
    + """
app = eventyard.App("runtime-shutdown")
orders = app.queue("orders", visibility_timeout=60)


@app.consumer(orders, batch_size=10, timeout_seconds=5, max_concurrency=2)
def ship(batch, context):
    ids = [record.body["order_id"] for record in batch]
    note("start", ids=ids, receive_counts=[record.receive_count for record in batch])
    time.sleep(0.4)
    for record in batch:
        with context.transaction() as tx:
            record_effect(record, tx)
    note("end", ids=ids)
"""
)

#: Test 4: ``hog`` (256 MB) allocates 1 GB when asked to; ``steady`` keeps working.
MEMORY_APP = (
    _PRELUDE
    + """
app = eventyard.App("runtime-memory")
hog_queue = app.queue("hog", visibility_timeout=30)
steady_queue = app.queue("steady", visibility_timeout=30)


@app.consumer(hog_queue, batch_size=1, timeout_seconds=10, max_concurrency=1, memory_limit_mb=256)
def hog(batch, context):
    record = batch[0]
    if record.body["order_id"].endswith("gigabyte"):
        note("allocating", order_id=record.body["order_id"])
        data = bytearray(1024**3)
        note("allocated", order_id=record.body["order_id"], size=len(data))
    with context.transaction() as tx:
        record_effect(record, tx)


@app.consumer(steady_queue, batch_size=10, timeout_seconds=5, max_concurrency=1)
def steady(batch, context):
    for record in batch:
        with context.transaction() as tx:
            record_effect(record, tx)
"""
)

#: The known bug (see the xfail test): a consumer gathering a batch over a long window.
WINDOW_APP = (
    _PRELUDE
    + """
app = eventyard.App("runtime-window")
orders = app.queue("orders", visibility_timeout=60)


@app.consumer(
    orders, batch_size=100, batching_window_seconds=30, timeout_seconds=1, max_concurrency=1
)
def ship(batch, context):
    for record in batch:
        with context.transaction() as tx:
            record_effect(record, tx)
"""
)


def read_log(folder: Path) -> list[dict[str, Any]]:
    """The app's log lines so far (a line being written is not there yet)."""
    path = folder / "events.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]
