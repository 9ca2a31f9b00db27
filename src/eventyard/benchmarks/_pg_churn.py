"""Churn: many messages through one eventyard queue on PostgreSQL, watching the table's size.

Every message is a row inserted, updated by its receive and deleted: dead
row versions pile up unless (auto)vacuum reclaims them. One producer process
sends N messages, 100 per transaction (10 ``send_batch`` calls of 10 in a
``client.transaction()``); 2 consumer processes ``receive(100)`` and delete
what they got in one transaction (10 ``delete_batch`` calls). Meanwhile, and
for a while after (long enough for autovacuum's next round:
``autovacuum_naptime`` is 1 min by default), this process samples every few
seconds the message table's total size (heap + indexes + TOAST), its live and
dead tuples and its autovacuum count, and the queue's sent/deleted counters.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import psycopg
from psycopg import sql

import eventyard
from eventyard.benchmarks._harness import BATCH, Report, batches, bodies
from eventyard.benchmarks._pg_harness import PgJob, Sync, run_group
from eventyard.benchmarks._pg_server import conninfo, create_schema, drop_schema, with_schema
from eventyard.benchmarks.queue import QUEUE_NAME

if TYPE_CHECKING:
    from eventyard.benchmarks._pg_server import Server

#: Messages per producer transaction and per consumer receive (and delete transaction).
CHUNK: Final = 100
CONSUMERS: Final = 2
SAMPLE_SECONDS: Final = 5.0
#: After the last message: how long to keep watching for autovacuum (its naptime is 60 s).
SETTLE_SECONDS: Final = 90.0
CHECKPOINTS: Final = (0.1, 0.25, 0.5, 0.75, 1.0)
TABLE: Final = "eventyard_messages"


def _client(job: PgJob) -> eventyard.Client:
    return eventyard.connect(with_schema(job.url, job.schema), durability=job.durability)


def _producer(job: PgJob, sync: Sync) -> Report:
    client = _client(job)
    queue = client.get_queue(QUEUE_NAME)
    chunks = [batches(chunk) for chunk in batches(bodies(CHUNK), CHUNK)] * (job.messages // CHUNK)
    sync.barrier.wait()
    started = time.monotonic()
    try:
        for chunk in chunks:
            with client.transaction() as tx:
                for batch in chunk:
                    tx.send_batch(queue, batch).raise_for_errors()
    finally:
        sync.done.set()
    finished = time.monotonic()
    client.close()
    return {"started": started, "finished": finished, "pid": os.getpid()}


def _consumer(job: PgJob, sync: Sync) -> Report:
    client = _client(job)
    queue = client.get_queue(QUEUE_NAME)
    queue.stats()
    deleted = 0
    sync.barrier.wait()
    started = time.monotonic()
    while True:
        # Read before the receive: once the producer is done, an empty receive means drained.
        finishing = sync.done.is_set()
        messages = queue.receive(max_messages=CHUNK, wait_seconds=0 if finishing else 1)
        if not messages:
            if finishing:
                break
            continue
        with client.transaction():
            for start in range(0, len(messages), BATCH):
                queue.delete_batch(messages[start : start + BATCH]).raise_for_errors()
        deleted += len(messages)
    finished = time.monotonic()
    client.close()
    return {"started": started, "finished": finished, "deleted": deleted, "pid": os.getpid()}


_SAMPLE: Final = (
    "SELECT pg_total_relation_size(c.oid), pg_relation_size(c.oid), pg_indexes_size(c.oid),"
    " s.n_live_tup, s.n_dead_tup, s.autovacuum_count, s.autoanalyze_count,"
    " (SELECT coalesce(sum(sent), 0) FROM {counters}),"
    " (SELECT coalesce(sum(deleted), 0) FROM {counters})"
    " FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = %s::regclass"
)


class _Sampler:
    """Samples the message table every few seconds in a thread of this process."""

    def __init__(self, url: str, schema: str) -> None:
        self._conn = psycopg.connect(conninfo(url), autocommit=True)
        self._statement = sql.SQL(_SAMPLE).format(
            counters=sql.Identifier(schema, "eventyard_queue_counters")
        )
        self._table = f'"{schema}".{TABLE}'
        self._origin = time.monotonic()
        self.samples: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self, phase: str) -> dict[str, Any]:
        row = self._conn.execute(self._statement, (self._table,)).fetchone()
        assert row is not None
        total, heap, indexes, live, dead, vacuums, analyzes, sent, deleted = row
        taken = {
            "phase": phase,
            "seconds": round(time.monotonic() - self._origin, 1),
            "sent": int(sent),
            "deleted": int(deleted),
            "total_bytes": int(total),
            "heap_bytes": int(heap),
            "index_bytes": int(indexes),
            "live_tuples": int(live),
            "dead_tuples": int(dead),
            "autovacuums": int(vacuums),
            "autoanalyzes": int(analyzes),
        }
        self.samples.append(taken)
        return taken

    def start(self, interval: float) -> None:
        def loop() -> None:
            while not self._stop.wait(interval):
                self.sample("during")

        self._thread = threading.Thread(target=loop, name="eventyard-bench-churn", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def close(self) -> None:
        self._conn.close()


def measure(
    server: Server,
    messages: int,
    durability: Any,
    progress: Callable[[str], None],
    *,
    sample_seconds: float = SAMPLE_SECONDS,
    settle_seconds: float = SETTLE_SECONDS,
) -> dict[str, Any]:
    """Push ``messages`` (rounded up to a multiple of 100) through one queue; the samples."""
    messages = -(-messages // CHUNK) * CHUNK
    schema = f"eybench_{os.getpid()}_churn"
    create_schema(server.url, schema)
    try:
        job = PgJob("churn", server.url, schema, durability, messages, CONSUMERS)
        with _client(job) as client:
            client.create_queue(QUEUE_NAME)
        sampler = _Sampler(server.url, schema)
        try:
            sampler.sample("start")
            sampler.start(sample_seconds)
            progress(f"[churn] {messages:,} messages through one queue ...")
            members = [("producer", _producer, job)] + [
                (f"consumer-{i}", _consumer, job) for i in range(CONSUMERS)
            ]
            try:
                reports = run_group(members, 600.0 + messages / 100)
            finally:
                sampler.stop()
            end = sampler.sample("end")
            progress(
                f"[churn] done: {end['total_bytes'] / 2**20:.1f} MiB, {end['dead_tuples']:,} "
                f"dead tuples; watching autovacuum for up to {settle_seconds:.0f} s"
            )
            vacuums_at_end = end["autovacuums"]
            deadline = time.monotonic() + settle_seconds
            while time.monotonic() < deadline:
                time.sleep(min(sample_seconds, max(0.0, deadline - time.monotonic())))
                after = sampler.sample("after")
                if after["autovacuums"] > vacuums_at_end and after["dead_tuples"] < 1000:
                    break
        finally:
            sampler.close()
    finally:
        drop_schema(server.url, schema)
    consumers = [reports[f"consumer-{i}"] for i in range(CONSUMERS)]
    deleted = sum(r["deleted"] for r in consumers)
    seconds = max(r["finished"] for r in consumers) - reports["producer"]["started"]
    samples = sampler.samples
    checkpoints = []
    for fraction in CHECKPOINTS:
        reached = next((s for s in samples if s["deleted"] >= fraction * messages), None)
        if reached is not None:
            checkpoints.append({"fraction": fraction, **reached})
    final = samples[-1]
    # The consumers' pace between two samples while messages were still coming: a dip
    # shows a stall (a bad plan after an autovacuum, a lock, a checkpoint).
    paces = [
        {
            "seconds": later["seconds"],
            "deleted_per_s": round(
                (later["deleted"] - earlier["deleted"]) / (later["seconds"] - earlier["seconds"])
            ),
        }
        for earlier, later in itertools.pairwise(samples)
        if later["phase"] == "during" and later["seconds"] > earlier["seconds"]
    ]
    return {
        "messages": messages,
        "deleted": deleted,
        "msgs_per_s": round(messages / seconds),
        "seconds": round(seconds, 1),
        "chunk": CHUNK,
        "consumers": CONSUMERS,
        "durability": durability,
        "max_total_bytes": max(s["total_bytes"] for s in samples),
        "max_dead_tuples": max(s["dead_tuples"] for s in samples),
        "end": end,
        "final": final,
        "checkpoints": checkpoints,
        "paces": paces,
        "slowest_pace": min(paces, key=lambda p: p["deleted_per_s"]) if paces else None,
        "samples": samples,
    }


def _mib(value: int) -> str:
    return f"{value / 2**20:.1f} MiB"


def render(churn: dict[str, Any]) -> list[str]:
    lines = [
        f"churn: {churn['messages']:,} messages through one queue ({churn['chunk']} per "
        f"transaction, 1 producer + {churn['consumers']} consumer processes, durability "
        f"{churn['durability']}): {churn['msgs_per_s']:,} msgs/s over {churn['seconds']:.0f} s",
        f"  {'when':<22}{'deleted':>11}{'table+indexes':>15}{'heap':>11}{'indexes':>11}"
        f"{'live':>11}{'dead':>11}{'autovacuums':>13}",
    ]
    rows = [
        (f"{int(c['fraction'] * 100)}% deleted ({c['seconds']:.0f} s)", c)
        for c in churn["checkpoints"]
    ]
    rows.append((f"end ({churn['end']['seconds']:.0f} s)", churn["end"]))
    rows.append((f"final ({churn['final']['seconds']:.0f} s)", churn["final"]))
    for label, s in rows:
        lines.append(
            f"  {label:<22}{s['deleted']:>11,}{_mib(s['total_bytes']):>15}"
            f"{_mib(s['heap_bytes']):>11}{_mib(s['index_bytes']):>11}{s['live_tuples']:>11,}"
            f"{s['dead_tuples']:>11,}{s['autovacuums']:>13}"
        )
    lines.append(
        f"  largest seen: {_mib(churn['max_total_bytes'])}; most dead tuples seen: "
        f"{churn['max_dead_tuples']:,}"
    )
    slowest = churn.get("slowest_pace")
    if slowest is not None:
        lines.append(
            f"  consumers' pace between samples: slowest {slowest['deleted_per_s']:,} msgs/s "
            f"(at {slowest['seconds']:.0f} s), fastest "
            f"{max(p['deleted_per_s'] for p in churn['paces']):,} msgs/s"
        )
    return lines
