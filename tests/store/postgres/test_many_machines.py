"""One app, several ``eventyard worker`` commands against one PostgreSQL server.

Each worker is started the way it would be on its own machine: a separate
``eventyard worker`` process with nothing shared but the database URL (no
file, no signal, no parent). They apply the app at the same moment, share
the standard queue's messages between them (each message handled once),
and keep a FIFO queue's groups in order across all of them.
"""

from __future__ import annotations

import subprocess
import textwrap
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from running_app import start_eventyard, stop, wait_until
from tests_support import query

import eventyard

WORKERS = 3
MESSAGES = 1500
GROUPS = 6
PER_GROUP = 40

APP = """
import os
import eventyard

app = eventyard.App("machines")
jobs = app.queue("jobs", visibility_timeout=60)
ordered = app.queue("ordered.fifo", fifo=True, visibility_timeout=60)
MACHINE = os.environ["MACHINE"]


@app.setup
def tables(client):
    with client.transaction() as tx:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS handled (body TEXT NOT NULL, machine TEXT NOT NULL,"
            " pid INTEGER NOT NULL)"
        )
        tx.execute(
            "CREATE TABLE IF NOT EXISTS fifo_handled (step SERIAL PRIMARY KEY,"
            " grp TEXT NOT NULL, seq INTEGER NOT NULL, machine TEXT NOT NULL)"
        )


@app.consumer(jobs, batch_size=10)
def handle(batch, context):
    with context.transaction() as tx:
        tx.executemany(
            "INSERT INTO handled VALUES (?, ?, ?)",
            [(record.body, MACHINE, os.getpid()) for record in batch],
        )


@app.consumer(ordered, batch_size=5)
def handle_in_order(batch, context):
    with context.transaction() as tx:
        for record in batch:
            tx.execute(
                "INSERT INTO fifo_handled (grp, seq, machine) VALUES (?, ?, ?)",
                (record.body["group"], record.body["seq"], MACHINE),
            )
"""


@contextmanager
def machines(folder: Path, database_url: str) -> Iterator[list[subprocess.Popen[str]]]:
    app = folder / "machines.py"
    app.write_text(textwrap.dedent(APP))
    processes = [
        start_eventyard(
            "worker", str(app), database_url, folder / f"machine-{n}.log", env={"MACHINE": f"m{n}"}
        )
        for n in range(WORKERS)
    ]
    try:
        yield processes
    finally:
        for process in processes:
            stop(process)


def logs(folder: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted(folder.glob("machine-*.log")))


def test_workers_on_several_machines_share_one_queue_and_keep_fifo_order(
    tmp_path: Path, postgres_url: str
) -> None:
    with machines(tmp_path, postgres_url) as processes:

        def applied() -> bool:
            assert all(p.poll() is None for p in processes), logs(tmp_path)
            tables = query(
                postgres_url,
                "SELECT count(*) FROM information_schema.tables"
                " WHERE table_name IN ('handled', 'fifo_handled')",
            )
            return tables[0][0] == 2

        wait_until(applied, timeout=60, interval=0.2, what="the workers to apply the app")
        with eventyard.connect(postgres_url) as client:
            jobs = client.get_queue("jobs")
            for start in range(0, MESSAGES, 10):
                jobs.send_batch([f"job-{n}" for n in range(start, start + 10)])
            ordered = client.get_queue("ordered.fifo")
            for seq in range(PER_GROUP):
                ordered.send_batch(
                    [
                        {
                            "body": {"group": f"g{g}", "seq": seq},
                            "group_id": f"g{g}",
                            "deduplication_id": f"g{g}-{seq}",
                        }
                        for g in range(GROUPS)
                    ]
                )

            def done() -> bool:
                [(handled,)] = query(postgres_url, "SELECT count(*) FROM handled")
                [(in_order,)] = query(postgres_url, "SELECT count(*) FROM fifo_handled")
                return int(handled) >= MESSAGES and int(in_order) >= GROUPS * PER_GROUP

            wait_until(done, timeout=180, interval=0.25, what="every message to be handled")
            assert jobs.stats().total == 0
            assert ordered.stats().total == 0
        assert all(p.poll() is None for p in processes), logs(tmp_path)

    rows = query(postgres_url, "SELECT body, machine FROM handled")
    bodies = [body for body, _ in rows]
    assert len(bodies) == MESSAGES, "each message handled exactly once"
    assert set(bodies) == {f"job-{n}" for n in range(MESSAGES)}
    per_machine: defaultdict[object, int] = defaultdict(int)
    for _, machine in rows:
        per_machine[machine] += 1
    assert len(per_machine) >= 2, f"one machine did all the work: {dict(per_machine)}"

    steps = query(postgres_url, "SELECT grp, seq, machine FROM fifo_handled ORDER BY step")
    assert len(steps) == GROUPS * PER_GROUP
    by_group: defaultdict[object, list[object]] = defaultdict(list)
    for group, seq, _ in steps:
        by_group[group].append(seq)
    assert all(seqs == list(range(PER_GROUP)) for seqs in by_group.values()), "FIFO order"
