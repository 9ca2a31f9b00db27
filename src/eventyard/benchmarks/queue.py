"""``eventyard bench queue``: one producer process, one consumer process, one SQLite file.

For each durability setting the same workload runs on three systems, in
the same invocation so that they share the machine's mood:

* **eventyard**: ``send_batch`` of 10 in the producer; ``receive(10)`` (long
  poll) then ``delete_batch`` in the consumer, through the public API;
* **raw sqlite3**: eventyard's SQL with no eventyard code (the ceiling; see
  `eventyard.benchmarks._raw_sqlite`);
* **huey** ``SqliteHuey`` with 2 workers (the peer; see
  `eventyard.benchmarks._huey_peer`), skipped if huey is not installed.

Throughput is messages / (time from the moment both processes are ready
until the consumer has finished the last one); runs are interleaved
(run 1 of every system, then run 2...) so that a noisy neighbour hurts all
systems alike, and the median is reported. Wake-up latency is measured
separately: a consumer long-polls while a producer sends single messages
at irregular intervals, and each message carries its send time.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from multiprocessing.synchronize import Barrier
from types import ModuleType
from typing import Any, Final, cast

import eventyard
from eventyard.benchmarks import _raw_sqlite
from eventyard.benchmarks._harness import (
    BATCH,
    BODY_BYTES,
    BenchmarkError,
    Durability,
    Job,
    Report,
    Role,
    batches,
    bodies,
    run_pair,
)

QUEUE_NAME: Final = "bench"
DURABILITIES: Final[tuple[Durability, ...]] = ("full", "process")
SYNCHRONOUS: Final = {"full": "FULL", "process": "NORMAL"}
TARGET_RATIO_RAW: Final = 0.5
TARGET_LATENCY_P50_MS: Final = 5.0
LABELS: Final = {
    "eventyard": "eventyard",
    "raw_sqlite": "raw sqlite3",
    "huey": "huey SqliteHuey",
}
#: The consumer's long poll in the throughput runs (it only waits when it outruns the producer).
_RECEIVE_WAIT_SECONDS: Final = 5
_LATENCY_WAIT_SECONDS: Final = 20
_LATENCY_GAP_SECONDS: Final = (0.002, 0.020)


def _url(path: str) -> str:
    return f"sqlite:///{path}"


# -- eventyard: the roles (each runs in its own spawned process) -----------------------------
def _eventyard_producer(job: Job, barrier: Barrier) -> Report:
    client = eventyard.connect(_url(job.path), durability=job.durability)
    queue = client.get_queue(QUEUE_NAME)
    work = batches(bodies(job.messages))
    barrier.wait()
    started = time.perf_counter()
    for batch in work:
        queue.send_batch(batch).raise_for_errors()
    seconds = time.perf_counter() - started
    client.close()
    return {"seconds": seconds, "pid": os.getpid()}


def _eventyard_consumer(job: Job, barrier: Barrier) -> Report:
    client = eventyard.connect(_url(job.path), durability=job.durability)
    queue = client.get_queue(QUEUE_NAME)
    deleted = receives = empty_receives = 0
    barrier.wait()
    started = time.perf_counter()
    while deleted < job.messages:
        messages = queue.receive(max_messages=BATCH, wait_seconds=_RECEIVE_WAIT_SECONDS)
        receives += 1
        if not messages:
            empty_receives += 1
            continue
        queue.delete_batch(messages).raise_for_errors()
        deleted += len(messages)
    seconds = time.perf_counter() - started
    client.close()
    return {
        "seconds": seconds,
        "deleted": deleted,
        "receives": receives,
        "empty_receives": empty_receives,
        "pid": os.getpid(),
    }


def _eventyard_prepare(job: Job) -> None:
    with eventyard.connect(_url(job.path), durability=job.durability) as client:
        client.create_queue(QUEUE_NAME)


def _eventyard_remaining(job: Job) -> int:
    with eventyard.connect(_url(job.path), durability=job.durability) as client:
        stats = client.get_queue(QUEUE_NAME).stats()
    return stats.visible + stats.in_flight + stats.delayed


# -- wake-up latency --------------------------------------------------------------------------
def _latency_producer(job: Job, barrier: Barrier) -> Report:
    client = eventyard.connect(_url(job.path), durability=job.durability)
    queue = client.get_queue(QUEUE_NAME)
    rng = random.Random(job.seed)
    gaps = [rng.uniform(*_LATENCY_GAP_SECONDS) for _ in range(job.sends)]
    pad = " " + "x" * (BODY_BYTES - 19)
    barrier.wait()
    # Give the consumer time to enter its long poll: we measure wake-ups, not its start-up.
    time.sleep(0.2)
    for gap in gaps:
        queue.send(f"{time.time():.6f}{pad}")
        time.sleep(gap)  # the load generator's pacing, not part of what is measured
    client.close()
    return {"sent": len(gaps)}


def _latency_consumer(job: Job, barrier: Barrier) -> Report:
    client = eventyard.connect(_url(job.path), durability=job.durability)
    queue = client.get_queue(QUEUE_NAME)
    latencies: list[float] = []
    barrier.wait()
    while len(latencies) < job.sends:
        messages = queue.receive(max_messages=BATCH, wait_seconds=_LATENCY_WAIT_SECONDS)
        received = time.time()
        for message in messages:
            latencies.append(received - float(message.body.split(" ", 1)[0]))
        if messages:
            queue.delete_batch(messages).raise_for_errors()
    client.close()
    return {"latencies": latencies}


# -- orchestration ----------------------------------------------------------------------------
class _System:
    """How to set up, run and check one system."""

    def __init__(
        self,
        producer: Role,
        consumer: Role,
        prepare: Callable[[Job], None],
        remaining: Callable[[Job], int],
    ) -> None:
        self.producer = producer
        self.consumer = consumer
        self.prepare = prepare
        self.remaining = remaining


def _systems(huey_module: ModuleType | None) -> dict[str, _System]:
    systems = {
        "eventyard": _System(
            _eventyard_producer, _eventyard_consumer, _eventyard_prepare, _eventyard_remaining
        ),
        "raw_sqlite": _System(
            _raw_sqlite.producer, _raw_sqlite.consumer, _raw_sqlite.prepare, _raw_sqlite.remaining
        ),
    }
    if huey_module is not None:
        systems["huey"] = _System(
            huey_module.producer, huey_module.consumer, huey_module.prepare, huey_module.remaining
        )
    return systems


def _load_huey() -> tuple[ModuleType | None, str | None]:
    """The huey peer module, or why it cannot run (huey is an optional, benchmark-only dep)."""
    try:
        from eventyard.benchmarks import _huey_peer
    except ImportError as exc:
        return None, (
            f"huey is not installed ({exc}); install it with pip install 'eventyard[bench]' "
            "to compare against SqliteHuey"
        )
    return _huey_peer, None


def _timeout(messages: int) -> float:
    # Generous: huey with fsync runs at a few thousand a second; only a hang should trip it.
    return 120.0 + messages / 250


def _measure_once(
    name: str, system: _System, durability: Durability, messages: int, directory: str | None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="eventyard-bench-", dir=directory) as tmp:
        job = Job(name, os.path.join(tmp, f"{name}.db"), durability, messages)
        system.prepare(job)
        reports = run_pair(system.producer, system.consumer, job, _timeout(messages))
        left = system.remaining(job)
    if left:
        raise BenchmarkError(f"{name} ({durability}) left {left} of {messages} messages behind")
    consumer, producer = reports["consumer"], reports["producer"]
    result: dict[str, Any] = {
        "msgs_per_s": round(messages / consumer["seconds"]),
        "producer_msgs_per_s": round(messages / producer["seconds"]),
        "seconds": round(consumer["seconds"], 3),
    }
    if "receives" in consumer:
        result["messages_per_receive"] = round(consumer["deleted"] / consumer["receives"], 2)
    if "logged_errors" in consumer:
        # huey under write contention: its 5 s busy timeout expires ("database is locked").
        result["enqueue_lock_errors"] = producer["lock_errors"]
        result["consumer_logged_errors"] = consumer["logged_errors"]
    return result


def _percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (no interpolation between two samples)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def _measure_latency(durability: Durability, sends: int, directory: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="eventyard-bench-", dir=directory) as tmp:
        job = Job("latency", os.path.join(tmp, "latency.db"), durability, 0, sends, seed=sends)
        _eventyard_prepare(job)
        reports = run_pair(_latency_producer, _latency_consumer, job, 60.0 + sends * 0.1)
    latencies_ms = [value * 1000 for value in reports["consumer"]["latencies"]]
    return {
        "p50": round(_percentile(latencies_ms, 0.50), 3),
        "p99": round(_percentile(latencies_ms, 0.99), 3),
        "max": round(max(latencies_ms), 3),
        "samples": len(latencies_ms),
    }


def _fsync_ms(directory: str | None) -> float:
    """The median time of one small write + fsync where the benchmark's files live."""
    with tempfile.TemporaryDirectory(prefix="eventyard-bench-", dir=directory) as tmp:
        fd = os.open(os.path.join(tmp, "fsync"), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            timings = []
            for _ in range(50):
                started = time.perf_counter()
                os.write(fd, b"x" * 4096)
                os.fsync(fd)
                timings.append(time.perf_counter() - started)
        finally:
            os.close(fd)
    return round(statistics.median(timings) * 1000, 3)


def _source_revision() -> str | None:
    """The git commit of the eventyard being measured, when it runs from a checkout.

    A read-only query; "+dirty" when eventyard's sources differ from that commit.
    """
    source = os.path.dirname(os.path.abspath(eventyard.__file__))
    try:
        revision = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=source,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "."],
            cwd=source,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{revision}+dirty" if changed else revision


def _machine(directory: str | None) -> dict[str, Any]:
    """The machine and the code measured, taken before the runs (the checkout may move on)."""
    try:
        huey_version: str | None = importlib.metadata.version("huey")
    except importlib.metadata.PackageNotFoundError:
        huey_version = None
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "eventyard": eventyard.__version__,
        "eventyard_revision": _source_revision(),
        "huey": huey_version,
        # Other users' load on a shared machine, before (and, appended later, after) the runs.
        "load_average_1m": [round(os.getloadavg()[0], 2)],
        "fsync_ms": _fsync_ms(directory),
    }


def _progress(text: str) -> None:
    # Progress goes to stderr so that --json output on stdout stays one clean object.
    print(text, file=sys.stderr, flush=True)


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 3)


def run(
    messages: int,
    runs: int,
    durabilities: Sequence[Durability],
    peers: bool,
    latency_sends: int,
    directory: str | None,
) -> dict[str, Any]:
    """Measure everything and return the results as one JSON-ready object."""
    machine = _machine(directory)
    huey_module, huey_skipped = _load_huey() if peers else (None, "not asked for (--no-peers)")
    if huey_skipped is not None and peers:
        _progress(f"skipping huey: {huey_skipped}")
    systems = _systems(huey_module)
    samples: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run_number in range(1, runs + 1):
        for durability in durabilities:
            for name, system in systems.items():
                sample = _measure_once(name, system, durability, messages, directory)
                samples.setdefault((durability, name), []).append(sample)
                _progress(
                    f"[run {run_number}/{runs}] {durability:<7} {LABELS[name]:<16} "
                    f"{sample['msgs_per_s']:>8,} msgs/s  (producer "
                    f"{sample['producer_msgs_per_s']:,} msgs/s, {sample['seconds']:.1f} s)"
                )
    result: dict[str, Any] = {
        "benchmark": "queue",
        "machine": machine,
        "parameters": {
            "messages": messages,
            "runs": runs,
            "batch": BATCH,
            "body_bytes": BODY_BYTES,
            "producer_processes": 1,
            "consumer_processes": 1,
            "huey_workers": 2,
            "latency_sends": latency_sends,
            "latency_gap_ms": [gap * 1000 for gap in _LATENCY_GAP_SECONDS],
        },
        "targets": {
            "ratio_eventyard_raw_min": TARGET_RATIO_RAW,
            "latency_p50_ms_max": TARGET_LATENCY_P50_MS,
        },
        "skipped": {} if huey_skipped is None else {"huey": huey_skipped},
        "durability": {},
    }
    for durability in durabilities:
        per_system: dict[str, Any] = {}
        for name in systems:
            taken = samples[(durability, name)]
            per_system[name] = {
                "msgs_per_s": round(statistics.median(s["msgs_per_s"] for s in taken)),
                "producer_msgs_per_s": round(
                    statistics.median(s["producer_msgs_per_s"] for s in taken)
                ),
                "runs": taken,
            }
        medians = {name: entry["msgs_per_s"] for name, entry in per_system.items()}
        latency = (
            _measure_latency(durability, latency_sends, directory) if latency_sends > 0 else None
        )
        if latency is not None:
            _progress(
                f"[latency] {durability:<7} p50 {latency['p50']:.2f} ms, p99 "
                f"{latency['p99']:.2f} ms ({latency['samples']} sends)"
            )
        result["durability"][durability] = {
            "synchronous": SYNCHRONOUS[durability],
            "huey_fsync": durability == "full",
            "systems": per_system,
            "ratio_eventyard_raw": _ratio(medians["eventyard"], medians["raw_sqlite"]),
            "ratio_eventyard_huey": _ratio(medians["eventyard"], medians.get("huey")),
            "latency_ms": latency,
        }
    machine["load_average_1m"].append(round(os.getloadavg()[0], 2))
    return result


def render(result: dict[str, Any]) -> str:
    """The human-readable report of a `run` result."""
    machine, parameters = result["machine"], result["parameters"]
    lines = [
        f"eventyard bench queue: {parameters['messages']:,} messages of ~{parameters['body_bytes']}"
        f" bytes, batches of {parameters['batch']}, 1 producer process + 1 consumer process; "
        f"median of {parameters['runs']} run(s)",
        f"machine: {machine['cpu_count']} CPUs, {machine['platform']}, Python {machine['python']},"
        f" SQLite {machine['sqlite']}, huey {machine['huey'] or '-'}; one fsync ≈ "
        f"{machine['fsync_ms']} ms here (fsync-bound figures drop on slower disks); load "
        f"average {machine['load_average_1m'][0]} before, {machine['load_average_1m'][1]} after;"
        f" eventyard {machine['eventyard']} ({machine['eventyard_revision'] or 'not a checkout'})",
    ]
    for name, reason in result["skipped"].items():
        lines.append(f"skipped {name}: {reason}")
    for durability, entry in result["durability"].items():
        lines.append("")
        lines.append(
            f"durability={durability} (synchronous={entry['synchronous']}; huey "
            f"fsync={entry['huey_fsync']})"
        )
        lines.append(f"  {'system':<18}{'msgs/s':>10}   {'runs':<28}{'producer msgs/s':>16}")
        for name, system in entry["systems"].items():
            each = " / ".join(f"{s['msgs_per_s']:,}" for s in system["runs"])
            lines.append(
                f"  {LABELS[name]:<18}{system['msgs_per_s']:>10,}   {each:<28}"
                f"{system['producer_msgs_per_s']:>16,}"
            )
        huey_runs = entry["systems"].get("huey", {}).get("runs", [])
        lock_errors = sum(s["enqueue_lock_errors"] + s["consumer_logged_errors"] for s in huey_runs)
        if lock_errors:
            lines.append(
                f"  huey hit {lock_errors} 'database is locked' errors over its runs (its 5 s "
                "busy timeout; the benchmark retried the enqueues, the workers carry on)"
            )
        raw_ratio = entry["ratio_eventyard_raw"]
        verdict = "meets" if raw_ratio is not None and raw_ratio >= TARGET_RATIO_RAW else "misses"
        lines.append(
            f"  eventyard / raw sqlite3: {raw_ratio:.2f} ({verdict} the target of "
            f"≥ {TARGET_RATIO_RAW:.2f})"
        )
        if entry["ratio_eventyard_huey"] is not None:
            lines.append(f"  eventyard / huey: {entry['ratio_eventyard_huey']:.2f}")
        latency = entry["latency_ms"]
        if latency is not None:
            lines.append(
                f"  wake-up latency, send → receive ({latency['samples']} single sends "
                f"{parameters['latency_gap_ms'][0]:g}-{parameters['latency_gap_ms'][1]:g} ms "
                f"apart): p50 {latency['p50']:.2f} ms, p99 {latency['p99']:.2f} ms "
                f"(target p50 ≤ {TARGET_LATENCY_P50_MS:g} ms)"
            )
    return "\n".join(lines)


def main(
    messages: int = 100_000,
    runs: int = 3,
    durability: str = "both",
    peers: bool = True,
    as_json: bool = False,
    *,
    latency_sends: int = 200,
    directory: str | None = None,
) -> int:
    """Run the benchmark and print it (text or one JSON object); the exit code."""
    if durability not in (*DURABILITIES, "both"):
        print(f"durability must be full, process or both, got {durability!r}", file=sys.stderr)
        return 2
    if messages < 1 or runs < 1 or latency_sends < 0:
        print("messages and runs must be at least 1, latency sends at least 0", file=sys.stderr)
        return 2
    durabilities = DURABILITIES if durability == "both" else (cast(Durability, durability),)
    try:
        result = run(messages, runs, durabilities, peers, latency_sends, directory)
    except BenchmarkError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2) if as_json else render(result))
    return 0
