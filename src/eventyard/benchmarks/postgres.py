"""``eventyard bench postgres``: eventyard on PostgreSQL vs raw psycopg vs PGQueuer.

Everything runs on one PostgreSQL server: the one ``--db`` names, or a
throwaway one that the benchmark starts with pgserver in a temporary
directory (its settings are recorded either way). Each measurement gets a
fresh schema, dropped afterwards.

**Drain** (the "queue" part), for 1, 2 and 4 consumer processes: a producer
process fills one queue with N messages of ~200 bytes, 10 per call (timed:
the producer figures), then the consumer processes, started and connected
beforehand, drain it 10 at a time; msgs/s = N / (first consumer's start to
last consumer's finish). The systems, with the same N and batch size:

* **eventyard**, public API: ``send_batch`` of 10; ``receive(max_messages=10,
  wait_seconds=0)`` then ``delete_batch``, until a receive comes back empty
  (the queue was filled beforehand: empty means drained);
* **raw psycopg**, the ceiling: eventyard's claim statement shape and table,
  no eventyard code (`eventyard.benchmarks._pg_raw`);
* **PGQueuer** with asyncpg, the peer, set up as its docs and its own drain
  benchmark do (`eventyard.benchmarks._pg_peer`), one `PgQueuer` per process
  and five per process (its drain benchmark's set-up); the targets use the
  faster of the two; skipped if not installed;
* **eventyard function** (the "function" part): a no-op
  ``@app.consumer(queue, batch_size=10, max_concurrency=C)`` run by the
  `Supervisor` with C worker processes, as ``eventyard worker`` runs it; the
  queue is filled in one transaction (untimed) once the workers are warm.

The fill is followed by an ``ANALYZE`` of the measurement's tables (untimed;
``--no-analyze`` skips it): the drain then starts from the statistics that
autovacuum gives a table in use within a minute, rather than from a
never-analysed table, which PGQueuer's dequeue (it then sorts the whole
backlog on every call) and any plan cached while the table was small suffer
from. Runs are interleaved (run 1 of every case, then run 2...) and medians
reported, with ratios eventyard / raw and eventyard / PGQueuer per consumer
count. Every drain also records the CPU the consumers used (client µs per
message) and, on a throwaway server, the CPU the server used (postmaster and
backends, from /proc), and the transactions committed per batch of 10.

**Latency**: one consumer long-polls (``receive(10, wait_seconds=20)``) while
a producer process sends single messages at random 2-20 ms intervals, each
carrying ``time.time()`` taken before ``send``: p50/p99 of receive time minus
send time. Against the same for a raw ``pg_notify`` → ``LISTEN`` round trip,
and for PGQueuer (enqueue → entrypoint start).

**Churn** (``--churn N``, off by default): N messages through one queue (a
producer sending 100 per transaction, 2 consumers receiving 100 and deleting
them in one transaction), sampling the message table's size and dead tuples
as it goes and after, to see whether autovacuum keeps it bounded
(`eventyard.benchmarks._pg_churn`).
"""

from __future__ import annotations

import importlib.metadata
import itertools
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final

import eventyard
from eventyard.benchmarks._harness import BATCH, BODY_BYTES, BenchmarkError, Report, batches, bodies
from eventyard.benchmarks._pg_harness import PgJob, Role, Sync, cpu_seconds, run_group, span
from eventyard.benchmarks._pg_report import (
    LABELS,
    TARGET_CONSUMERS,
    TARGET_LATENCY_P50_MS,
    TARGET_RATIO_PGQUEUER,
    render,
)
from eventyard.benchmarks.queue import (
    _LATENCY_GAP_SECONDS,
    QUEUE_NAME,
    _machine,
    _percentile,
    _progress,
    _ratio,
)
from eventyard.store.base import Durability

if TYPE_CHECKING:
    from eventyard.benchmarks._pg_server import Server

CONSUMERS: Final = (1, 2, 4)
DURABILITIES: Final[tuple[Durability, ...]] = ("full", "process")
PARTS: Final = ("queue", "function", "latency")
DEFAULT_MESSAGES: Final = 50_000
#: PGQueuer's own drain benchmark runs 5 dequeuers (PgQueuer instances) in one process.
PGQUEUER_BENCHMARK_DEQUEUERS: Final = 5
SYNCHRONOUS_COMMIT: Final = {"full": "on", "process": "off"}
_LATENCY_WAIT_SECONDS: Final = 20
_RAW_CHANNEL: Final = "eventyard_bench_raw"
_schemas = itertools.count(1)


# -- eventyard: the roles (each runs in its own spawned process) -----------------------------
def _client(job: PgJob) -> eventyard.Client:
    from eventyard.benchmarks._pg_server import with_schema

    return eventyard.connect(with_schema(job.url, job.schema), durability=job.durability)


def _eventyard_prepare(job: PgJob) -> None:
    with _client(job) as client:
        client.create_queue(QUEUE_NAME)


def _eventyard_remaining(job: PgJob) -> int:
    with _client(job) as client:
        stats = client.get_queue(QUEUE_NAME).stats()
    return stats.visible + stats.in_flight + stats.delayed


def _eventyard_producer(job: PgJob, sync: Sync) -> Report:
    client = _client(job)
    queue = client.get_queue(QUEUE_NAME)
    queue.stats()  # opens this process's pool before the clock starts
    work = batches(bodies(job.messages))
    sync.barrier.wait()
    cpu = cpu_seconds()
    started = time.monotonic()
    for batch in work:
        queue.send_batch(batch).raise_for_errors()
    finished = time.monotonic()
    cpu = cpu_seconds() - cpu
    client.close()
    return {"started": started, "finished": finished, "cpu": cpu, "pid": os.getpid()}


def _eventyard_consumer(job: PgJob, sync: Sync) -> Report:
    client = _client(job)
    queue = client.get_queue(QUEUE_NAME)
    queue.stats()  # opens this process's pool before the clock starts
    deleted = receives = 0
    sync.barrier.wait()
    cpu = cpu_seconds()
    started = time.monotonic()
    while True:
        messages = queue.receive(max_messages=BATCH, wait_seconds=0)
        receives += 1
        if not messages:
            break  # pre-filled: nothing left that another consumer is not claiming
        queue.delete_batch(messages).raise_for_errors()
        deleted += len(messages)
    finished = time.monotonic()
    cpu = cpu_seconds() - cpu
    client.close()
    return {
        "started": started,
        "finished": finished,
        "cpu": cpu,
        "deleted": deleted,
        "receives": receives,
        "pid": os.getpid(),
    }


def _eventyard_latency_producer(job: PgJob, sync: Sync) -> Report:
    client = _client(job)
    queue = client.get_queue(QUEUE_NAME)
    queue.stats()
    rng = random.Random(job.seed)
    gaps = [rng.uniform(*_LATENCY_GAP_SECONDS) for _ in range(job.sends)]
    pad = " " + "x" * (BODY_BYTES - 19)
    sync.barrier.wait()
    time.sleep(0.2)  # the consumer enters its long poll (and LISTEN) first
    for gap in gaps:
        queue.send(f"{time.time():.6f}{pad}")
        time.sleep(gap)  # the load generator's pacing, not part of what is measured
    client.close()
    return {"sent": len(gaps)}


def _eventyard_latency_consumer(job: PgJob, sync: Sync) -> Report:
    client = _client(job)
    queue = client.get_queue(QUEUE_NAME)
    queue.receive(max_messages=1, wait_seconds=1)  # starts the listener (untimed)
    latencies: list[float] = []
    sync.barrier.wait()
    while len(latencies) < job.sends:
        messages = queue.receive(max_messages=BATCH, wait_seconds=_LATENCY_WAIT_SECONDS)
        received = time.time()
        for message in messages:
            latencies.append(received - float(message.body.split(" ", 1)[0]))
        if messages:
            queue.delete_batch(messages).raise_for_errors()
    client.close()
    return {"latencies": latencies}


# -- raw LISTEN/NOTIFY: the floor of any wake-up -----------------------------------------------
def _notify_producer(job: PgJob, sync: Sync) -> Report:
    import psycopg

    from eventyard.benchmarks._pg_server import conninfo

    rng = random.Random(job.seed)
    gaps = [rng.uniform(*_LATENCY_GAP_SECONDS) for _ in range(job.sends)]
    with psycopg.connect(conninfo(job.url), autocommit=True) as conn:
        sync.barrier.wait()
        time.sleep(0.2)
        for gap in gaps:
            conn.execute("SELECT pg_notify(%s, %s)", (_RAW_CHANNEL, f"{time.time():.6f}"))
            time.sleep(gap)
    return {"sent": len(gaps)}


def _notify_listener(job: PgJob, sync: Sync) -> Report:
    import psycopg

    from eventyard.benchmarks._pg_server import conninfo

    latencies: list[float] = []
    with psycopg.connect(conninfo(job.url), autocommit=True) as conn:
        conn.execute(f"LISTEN {_RAW_CHANNEL}")
        sync.barrier.wait()
        for notify in conn.notifies(timeout=60 + job.sends * 0.1, stop_after=job.sends):
            latencies.append(time.time() - float(notify.payload))
    return {"latencies": latencies}


# -- the systems ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _System:
    """How to set up, fill, drain and check one system."""

    producer: Role
    consumer: Role
    prepare: Callable[[PgJob], None]
    remaining: Callable[[PgJob], int]
    options: dict[str, Any] = field(default_factory=dict)


def _load_pgqueuer() -> tuple[ModuleType | None, str | None]:
    """The PGQueuer peer module, or why it cannot run (a benchmark-only dependency)."""
    try:
        from eventyard.benchmarks import _pg_peer
    except ImportError as exc:
        return None, (
            f"pgqueuer or asyncpg is not installed ({exc}); install them with "
            "pip install 'eventyard[bench]' to compare against PGQueuer"
        )
    return _pg_peer, None


def _systems(peer: ModuleType | None) -> dict[str, _System]:
    from eventyard.benchmarks import _pg_raw

    systems = {
        "eventyard": _System(
            _eventyard_producer, _eventyard_consumer, _eventyard_prepare, _eventyard_remaining
        ),
        "raw_psycopg": _System(
            _pg_raw.producer, _pg_raw.consumer, _pg_raw.prepare, _pg_raw.remaining
        ),
    }
    if peer is not None:
        systems["pgqueuer"] = _System(peer.producer, peer.consumer, peer.prepare, peer.remaining)
        systems["pgqueuer_x5"] = _System(
            peer.producer,
            peer.consumer,
            peer.prepare,
            peer.remaining,
            {"dequeuers": PGQUEUER_BENCHMARK_DEQUEUERS},
        )
    return systems


def _timeout(messages: int) -> float:
    # Generous: only a hang should trip it (a few hundred messages a second would still pass).
    return 120.0 + messages / 200


@contextmanager
def _fresh_schema(server: Server, system: str) -> Iterator[str]:
    from eventyard.benchmarks._pg_harness import SCHEMA_PREFIX
    from eventyard.benchmarks._pg_server import create_schema, drop_schema

    schema = f"{SCHEMA_PREFIX}_{os.getpid()}_{next(_schemas)}_{system}"
    create_schema(server.url, schema)
    try:
        yield schema
    finally:
        drop_schema(server.url, schema)


class _Meter:
    """Server CPU and commits between two points (None where they cannot be known)."""

    def __init__(self, server: Server) -> None:
        from eventyard.benchmarks._pg_server import commits, server_cpu_seconds

        self._server = server
        self._cpu = server_cpu_seconds(server.postmaster_pid)
        self._commits = commits(server.url)

    def stop(self) -> tuple[float | None, int | None]:
        from eventyard.benchmarks._pg_server import commits, server_cpu_seconds

        cpu = server_cpu_seconds(self._server.postmaster_pid)
        time.sleep(0.05)  # exited backends have flushed their statistics by now
        count = commits(self._server.url)
        return (
            None if cpu is None or self._cpu is None else cpu - self._cpu,
            None if count is None or self._commits is None else count - self._commits - 1,
        )


def _per_message_us(seconds: float | None, messages: int) -> float | None:
    return None if seconds is None else round(seconds / messages * 1e6, 1)


def _measure_drain(
    name: str,
    system: _System,
    consumers: int,
    durability: Durability,
    messages: int,
    server: Server,
    analyze: bool = True,
) -> dict[str, Any]:
    from eventyard.benchmarks._pg_server import analyze_schema

    with _fresh_schema(server, name) as schema:
        job = PgJob(
            name, server.url, schema, durability, messages, consumers, options=system.options
        )
        system.prepare(job)
        meter = _Meter(server)
        produced = run_group([("producer", system.producer, job)], _timeout(messages))
        producer_cpu, producer_commits = meter.stop()
        if analyze:
            analyze_schema(server.url, schema)
        meter = _Meter(server)
        reports = run_group(
            [(f"consumer-{i}", system.consumer, replace(job, index=i)) for i in range(consumers)],
            _timeout(messages),
        )
        server_cpu, drain_commits = meter.stop()
        left = system.remaining(job)
    if left:
        raise BenchmarkError(f"{name} ({consumers} consumers) left {left} of {messages} messages")
    drained = [reports[f"consumer-{i}"] for i in range(consumers)]
    deleted = sum(r["deleted"] for r in drained)
    if deleted != messages:
        raise BenchmarkError(f"{name} ({consumers} consumers) handled {deleted} of {messages}")
    seconds = span(drained)
    producer = produced["producer"]
    producer_seconds = producer["finished"] - producer["started"]
    result: dict[str, Any] = {
        "msgs_per_s": round(messages / seconds),
        "seconds": round(seconds, 3),
        "per_consumer": [r["deleted"] for r in drained],
        "client_cpu_us_per_msg": _per_message_us(
            sum(r["cpu"] for r in drained) if all("cpu" in r for r in drained) else None,
            messages,
        ),
        "server_cpu_us_per_msg": _per_message_us(server_cpu, messages),
        "commits_per_batch": None
        if drain_commits is None
        else round(drain_commits / (messages / BATCH), 2),
        "producer_msgs_per_s": round(messages / producer_seconds),
        "producer_server_cpu_us_per_msg": _per_message_us(producer_cpu, messages),
        "producer_commits_per_batch": None
        if producer_commits is None
        else round(producer_commits / (messages / BATCH), 2),
    }
    if "cpu" in producer:
        result["producer_client_cpu_us_per_msg"] = _per_message_us(producer["cpu"], messages)
    if all("receives" in r for r in drained):
        result["messages_per_receive"] = round(deleted / sum(r["receives"] for r in drained), 2)
    return result


# -- the function under the supervisor (in this process, as `eventyard worker`) ----------------
def _measure_function(
    consumers: int,
    durability: Durability,
    messages: int,
    server: Server,
    directory: str | None,
    analyze: bool = True,
) -> dict[str, Any]:
    from eventyard.benchmarks import consume
    from eventyard.benchmarks._pg_server import analyze_schema, with_schema
    from eventyard.runtime.supervisor import Supervisor

    work = batches(bodies(messages))
    invocations_expected = -(-messages // BATCH)
    with (
        _fresh_schema(server, "function") as schema,
        tempfile.TemporaryDirectory(prefix="eventyard-bench-", dir=directory) as tmp,
    ):
        app_path = consume._write_app(tmp, BATCH, consumers, durability)
        client = eventyard.connect(with_schema(server.url, schema), durability=durability)
        supervisor: Supervisor | None = None
        try:
            supervisor = consume._start_function(client, app_path)
            warm = consume._warm_up(client, supervisor, BATCH)
            consume._prefill(client, work)
            if analyze:
                analyze_schema(server.url, schema)
            meter = _Meter(server)
            cpu = cpu_seconds()
            started = time.monotonic()
            consume._wait_for(
                consume._invoked(supervisor, warm + invocations_expected),
                _timeout(messages),
                f"the function to drain {messages} messages",
            )
            consume._wait_for(
                lambda: consume._remaining(client) == 0, 30.0, "the queue to empty", pause=0.01
            )
            seconds = time.monotonic() - started
            cpu = cpu_seconds() - cpu
            server_cpu, _ = meter.stop()
            invocations = consume._invocations(supervisor) - warm
        finally:
            if supervisor is not None:
                supervisor.shutdown()
            client.close()
    return {
        "msgs_per_s": round(messages / seconds),
        "seconds": round(seconds, 3),
        "invocations": invocations,
        "supervisor_cpu_us_per_msg": _per_message_us(cpu, messages),
        "server_cpu_us_per_msg": _per_message_us(server_cpu, messages),
        # The supervisor's connections stay open: their statistics reach
        # pg_stat_database late (at idle, at most once a second), so no count here.
        "commits_per_batch": None,
    }


# -- wake-up latency --------------------------------------------------------------------------
def _measure_latency(
    name: str, server: Server, durability: Durability, sends: int, peer: ModuleType | None
) -> dict[str, Any]:
    roles: dict[str, tuple[Role, Role, Callable[[PgJob], None] | None]] = {
        "eventyard": (
            _eventyard_latency_producer,
            _eventyard_latency_consumer,
            _eventyard_prepare,
        ),
        "raw_notify": (_notify_producer, _notify_listener, None),
    }
    if peer is not None:
        roles["pgqueuer"] = (peer.latency_producer, peer.latency_consumer, peer.prepare)
    producer, consumer, prepare = roles[name]
    with _fresh_schema(server, f"latency_{name}") as schema:
        job = PgJob(
            name,
            server.url,
            schema,
            durability,
            0,
            sends=sends,
            seed=sends,
            options={"gap_seconds": _LATENCY_GAP_SECONDS},
        )
        if prepare is not None:
            prepare(job)
        reports = run_group(
            [("consumer", consumer, job), ("producer", producer, job)], 120.0 + sends * 0.1
        )
    latencies_ms = [value * 1000 for value in reports["consumer"]["latencies"]]
    if len(latencies_ms) != sends:
        raise BenchmarkError(f"latency ({name}): {len(latencies_ms)} of {sends} sends were seen")
    return {
        "p50": round(_percentile(latencies_ms, 0.50), 3),
        "p99": round(_percentile(latencies_ms, 0.99), 3),
        "max": round(max(latencies_ms), 3),
        "samples": len(latencies_ms),
    }


# -- orchestration ----------------------------------------------------------------------------
def _versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for package in ("psycopg", "psycopg-pool", "pgqueuer", "asyncpg", "uvloop", "pgserver"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def _median(taken: Sequence[dict[str, Any]], key: str) -> float | None:
    values = [s[key] for s in taken if s.get(key) is not None]
    return statistics.median(values) if values else None


def _summary(taken: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [k for k in taken[0] if k not in ("per_consumer", "invocations")]
    summary: dict[str, Any] = {}
    for key in keys:
        value = _median(taken, key)
        if value is not None:
            summary[key] = round(value) if key.endswith("msgs_per_s") else round(value, 2)
        else:
            summary[key] = None
    summary["runs"] = taken
    return summary


def _progress_drain(
    run: int, runs: int, durability: str, consumers: int, name: str, s: dict[str, Any]
) -> None:
    producer = (
        f" (producer {s['producer_msgs_per_s']:,} msgs/s)" if "producer_msgs_per_s" in s else ""
    )
    _progress(
        f"[run {run}/{runs}] {durability:<7} x{consumers} {LABELS[name]:<24} "
        f"{s['msgs_per_s']:>8,} msgs/s{producer}  ({s['seconds']:.1f} s)"
    )


def _drain_block(taken: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Medians and ratios of one consumer count (``taken``: each system's runs)."""
    per_system = {name: _summary(runs) for name, runs in taken.items()}
    medians = {name: s["msgs_per_s"] for name, s in per_system.items()}
    peers: list[str] = [name for name in ("pgqueuer", "pgqueuer_x5") if name in medians]
    best = max(peers, key=medians.__getitem__) if peers else None
    best_median = None if best is None else medians[best]
    per_run: list[float | None] = []
    if "eventyard" in taken and peers:
        # The same ratio within each run (the machine's mood shared by both sides).
        for index, sample in enumerate(taken["eventyard"]):
            rivals = [taken[name][index]["msgs_per_s"] for name in peers]
            per_run.append(_ratio(sample["msgs_per_s"], max(rivals)))
    return {
        "systems": per_system,
        "ratio_eventyard_raw": _ratio(medians.get("eventyard"), medians.get("raw_psycopg")),
        "ratio_eventyard_pgqueuer": _ratio(medians.get("eventyard"), medians.get("pgqueuer")),
        "ratio_eventyard_pgqueuer_x5": _ratio(medians.get("eventyard"), medians.get("pgqueuer_x5")),
        #: The faster of PGQueuer's two set-ups at this consumer count: the target's rival.
        "best_pgqueuer": best,
        "ratio_eventyard_best_pgqueuer": _ratio(medians.get("eventyard"), best_median),
        "ratio_eventyard_best_pgqueuer_per_run": per_run,
        "ratio_function_best_pgqueuer": _ratio(medians.get("function"), best_median),
        "ratio_function_eventyard": _ratio(medians.get("function"), medians.get("eventyard")),
    }


def _verdicts(entry: dict[str, Any], consumer_counts: Sequence[int]) -> dict[str, bool | None]:
    drain = entry["drain"]
    target = drain.get(str(TARGET_CONSUMERS), {})
    ratio = target.get("ratio_eventyard_best_pgqueuer")
    growth: bool | None = None
    if "1" in drain and "2" in drain:
        growth = (
            drain["2"]["systems"]["eventyard"]["msgs_per_s"]
            > drain["1"]["systems"]["eventyard"]["msgs_per_s"]
        )
    latency = (entry.get("latency_ms") or {}).get("eventyard")
    return {
        "ratio_pgqueuer": None if ratio is None else ratio >= TARGET_RATIO_PGQUEUER,
        "growth_1_to_2": growth,
        "latency": None if latency is None else latency["p50"] <= TARGET_LATENCY_P50_MS,
    }


def run(
    server: Server,
    messages: int,
    runs: int,
    consumer_counts: Sequence[int],
    durabilities: Sequence[Durability],
    parts: Sequence[str],
    peers: bool,
    latency_sends: int,
    churn: int,
    directory: str | None,
    analyze: bool = True,
) -> dict[str, Any]:
    """Measure everything on ``server`` and return the results as one JSON-ready object."""
    from eventyard.benchmarks._pg_server import redacted, server_settings

    machine = _machine(directory)
    machine.update(_versions())
    settings = server_settings(server.url)
    peer, peer_skipped = _load_pgqueuer() if peers else (None, "not asked for (--no-peers)")
    if peer_skipped is not None and peers:
        _progress(f"skipping PGQueuer: {peer_skipped}")
    systems = _systems(peer) if "queue" in parts else {}
    names = [*systems, *(["function"] if "function" in parts else [])]
    samples: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    for run_number in range(1, runs + 1):
        for durability in durabilities:
            for consumers in consumer_counts:
                for name in names:
                    if name == "function":
                        sample = _measure_function(
                            consumers, durability, messages, server, directory, analyze
                        )
                    else:
                        sample = _measure_drain(
                            name, systems[name], consumers, durability, messages, server, analyze
                        )
                    samples.setdefault((durability, consumers, name), []).append(sample)
                    _progress_drain(run_number, runs, durability, consumers, name, sample)
    result: dict[str, Any] = {
        "benchmark": "postgres",
        "machine": machine,
        "server": {
            "url": redacted(server.url),
            "throwaway": server.throwaway,
            "server_cpu_measured": server.postmaster_pid is not None,
            "settings": settings,
        },
        "parameters": {
            "messages": messages,
            "runs": runs,
            "batch": BATCH,
            "body_bytes": BODY_BYTES,
            "consumer_processes": list(consumer_counts),
            "producer_processes": 1,
            "parts": list(parts),
            "latency_sends": latency_sends,
            "latency_gap_ms": [gap * 1000 for gap in _LATENCY_GAP_SECONDS],
            "churn_messages": churn,
            "analyze_after_fill": analyze,
            "pgqueuer_event_loop": getattr(peer, "EVENT_LOOP", None),
        },
        "targets": {
            "ratio_eventyard_pgqueuer_min": TARGET_RATIO_PGQUEUER,
            "ratio_consumers": TARGET_CONSUMERS,
            "throughput_grows_1_to_2": True,
            "latency_p50_ms_max": TARGET_LATENCY_P50_MS,
        },
        "skipped": {} if peer_skipped is None else {"pgqueuer": peer_skipped},
        "durability": {},
        "churn": None,
    }
    for durability in durabilities:
        entry: dict[str, Any] = {"synchronous_commit": SYNCHRONOUS_COMMIT[durability]}
        if systems:
            producer: dict[str, Any] = {}
            for name in systems:
                if name == "pgqueuer_x5":
                    continue  # the same producer as "pgqueuer": its samples go there
                sources = ("pgqueuer", "pgqueuer_x5") if name == "pgqueuer" else (name,)
                taken = [
                    s
                    for c in consumer_counts
                    for source in sources
                    for s in samples[(durability, c, source)]
                ]
                values = [s["producer_msgs_per_s"] for s in taken]
                producer[name] = {
                    "msgs_per_s": round(statistics.median(values)),
                    "client_cpu_us_per_msg": _median(taken, "producer_client_cpu_us_per_msg"),
                    "server_cpu_us_per_msg": _median(taken, "producer_server_cpu_us_per_msg"),
                    "commits_per_batch": _median(taken, "producer_commits_per_batch"),
                    "runs": values,
                }
            entry["producer"] = {
                "systems": producer,
                "ratio_eventyard_raw": _ratio(
                    producer["eventyard"]["msgs_per_s"], producer["raw_psycopg"]["msgs_per_s"]
                ),
                "ratio_eventyard_pgqueuer": _ratio(
                    producer["eventyard"]["msgs_per_s"],
                    producer.get("pgqueuer", {}).get("msgs_per_s"),
                ),
            }
        entry["drain"] = {
            str(consumers): _drain_block(
                {name: samples[(durability, consumers, name)] for name in names}
            )
            for consumers in consumer_counts
        }
        latency: dict[str, Any] | None = None
        if "latency" in parts and latency_sends > 0:
            latency = {}
            for name in ("eventyard", "raw_notify", *(("pgqueuer",) if peer else ())):
                latency[name] = _measure_latency(name, server, durability, latency_sends, peer)
                _progress(
                    f"[latency] {durability:<7} {LABELS[name]:<24} p50 "
                    f"{latency[name]['p50']:.2f} ms, p99 {latency[name]['p99']:.2f} ms"
                )
        entry["latency_ms"] = latency
        entry["target_met"] = _verdicts(entry, consumer_counts)
        result["durability"][durability] = entry
    if churn > 0:
        from eventyard.benchmarks import _pg_churn

        result["churn"] = _pg_churn.measure(server, churn, durabilities[0], _progress)
    machine["load_average_1m"].append(round(os.getloadavg()[0], 2))
    return result


def _parse_consumers(text: str | Sequence[int]) -> tuple[int, ...]:
    if isinstance(text, str):
        values = tuple(int(part) for part in text.split(",") if part.strip())
    else:
        values = tuple(text)
    if not values or any(v < 1 or v > 64 for v in values):
        raise ValueError("consumers: give process counts from 1 to 64, e.g. 1,2,4")
    return values


def main(
    db: str | None = None,
    messages: int = DEFAULT_MESSAGES,
    runs: int = 3,
    consumers: str | Sequence[int] = CONSUMERS,
    durability: str = "full",
    peers: bool = True,
    as_json: bool = False,
    *,
    parts: Sequence[str] = PARTS,
    latency_sends: int = 200,
    churn: int = 0,
    directory: str | None = None,
    analyze: bool = True,
) -> int:
    """Run the benchmark and print it (text or one JSON object); the exit code."""
    if durability not in (*DURABILITIES, "both"):
        print(f"durability must be full, process or both, got {durability!r}", file=sys.stderr)
        return 2
    if messages < BATCH or runs < 1 or latency_sends < 0 or churn < 0:
        print(
            f"messages must be at least {BATCH}, runs at least 1, latency sends and churn at "
            "least 0",
            file=sys.stderr,
        )
        return 2
    try:
        counts = _parse_consumers(consumers)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    unknown = set(parts) - set(PARTS)
    if unknown:
        print(f"unknown parts {sorted(unknown)}; choose from {list(PARTS)}", file=sys.stderr)
        return 2
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        print(
            f"psycopg is not installed ({exc}): pip install 'eventyard[postgres]'", file=sys.stderr
        )
        return 1
    from eventyard.benchmarks._pg_server import (
        Server,
        ServerUnavailable,
        is_postgres_url,
        throwaway_server,
    )

    if db is not None and not is_postgres_url(db):
        print(f"--db must be a postgresql:// URL, got {db!r}", file=sys.stderr)
        return 2
    durabilities = tuple(d for d in DURABILITIES if durability in (d, "both"))
    # Full batches only (every receive and every invocation gets 10).
    rounded = -(-messages // BATCH) * BATCH
    try:
        with (
            _stopped_cleanly(),
            throwaway_server(directory) if db is None else _given(Server(db, False)) as server,
        ):
            if db is None:
                _progress(f"started a throwaway PostgreSQL server at {server.url}")
            result = run(
                server,
                rounded,
                runs,
                counts,
                durabilities,
                parts,
                peers,
                latency_sends,
                churn,
                directory,
                analyze,
            )
    except (BenchmarkError, ServerUnavailable) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2) if as_json else render(result))
    return 0


@contextmanager
def _given(server: Server) -> Iterator[Server]:
    yield server


@contextmanager
def _stopped_cleanly() -> Iterator[None]:
    """A SIGTERM unwinds like Ctrl-C: the throwaway server is stopped and deleted."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
