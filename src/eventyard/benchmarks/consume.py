"""``eventyard bench consume``: a no-op function draining a queue, against the raw receive loop.

For each durability setting, on a new SQLite file for every measurement:

* **raw queue rate** (the baseline): one plain consumer loop in the
  benchmark process, through the public API: ``queue.receive(max_messages=10)``
  then ``delete_batch``; for batch size 100, ``receive(100)`` then
  ``delete_batch`` in chunks of 10;
* **function**: an app file with a no-op ``@app.consumer(queue,
  batch_size=10)`` (and ``batch_size=100, batching_window_seconds=1``), run
  by the `Supervisor` in the benchmark process with its worker processes,
  as ``eventyard worker`` runs it, with ``max_concurrency`` 1 and 2 (the
  default).

The queue is pre-filled with N messages of ~200 bytes in one transaction
(not timed); the clock starts when that transaction has committed (nothing
is visible to a consumer before) and stops when the last message has been
deleted (for the function: when it has completed N / batch size
invocations, each counted after its deletes; then the queue is checked to be
empty). The function's worker processes are started and warmed up before
the pre-fill (a warm-up round of one full batch per worker, twice), so that
process start-up is never timed. N is rounded up to a multiple of 100, so
every batch is full and the batching window never waits. The benchmark
process's CPU time over the drain is reported per message (the raw loop's,
or the supervisor's: its threads, not the workers). msgs/s = N / that time;
invocations/s = the function's invocations / that time; ratio = the
function's msgs/s ÷ the raw loop's msgs/s at the same batch size (medians;
each run also carries its own ratio against the raw loop of the same run).
Runs are interleaved (run 1 of every case, then run 2...).

Latency: the function (batch size 10, 2 workers) idles in its long poll
while a producer process sends single messages at random intervals of
2-20 ms; each body carries ``time.time()`` taken before ``send``, and the
handler writes ``time.time()`` taken at its start; latency = handler start
minus send time.
"""

from __future__ import annotations

import gc
import json
import math
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from multiprocessing.synchronize import Barrier
from typing import Any, Final, cast

import eventyard
from eventyard.benchmarks._harness import (
    BATCH,
    BODY_BYTES,
    BenchmarkError,
    Durability,
    Job,
    Report,
    batches,
    bodies,
    run_pair,
)
from eventyard.benchmarks.queue import (
    _LATENCY_GAP_SECONDS,
    DURABILITIES,
    QUEUE_NAME,
    SYNCHRONOUS,
    _eventyard_prepare,
    _latency_producer,
    _machine,
    _percentile,
    _progress,
    _ratio,
    _url,
)
from eventyard.runtime.apply import apply_app
from eventyard.runtime.loader import load_app
from eventyard.runtime.supervisor import Supervisor

#: Batch size -> the batching window it is declared with (more than 10 needs a window).
BATCH_SIZES: Final[dict[int, float]] = {10: 0.0, 100: 1.0}
CONCURRENCIES: Final = (1, 2)
#: The issue's targets: >= 60 % of the raw queue rate at batch size 10; send -> handler p50.
TARGET_BATCH: Final = 10
TARGET_RATIO: Final = 0.6
TARGET_LATENCY_P50_MS: Final = 10.0
#: The latency function: the defaults of ``@app.consumer``.
LATENCY_BATCH: Final = 10
LATENCY_CONCURRENCY: Final = 2
FUNCTION: Final = "noop"
_WARM_UP_ROUNDS: Final = 2
_POLL_SECONDS: Final = 0.002
_STARTUP_TIMEOUT_SECONDS: Final = 120.0
_LATENCY_RESULTS: Final = "latency.txt"
_LATENCY_APP: Final = "latency_app.py"

_APP_SOURCE: Final = '''\
"""eventyard bench consume: a no-op consumer function."""

import eventyard

app = eventyard.App("bench-consume", durability={durability!r})
queue = app.queue({queue!r})


@app.consumer(
    queue,
    batch_size={batch_size},
    batching_window_seconds={window!r},
    max_concurrency={concurrency},
    name={function!r},
)
def handler(batch):
    pass
'''

_LATENCY_APP_SOURCE: Final = '''\
"""eventyard bench consume: a function that records when it starts, per message."""

import time

import eventyard

RESULTS = {results!r}
app = eventyard.App("bench-consume-latency", durability={durability!r})
queue = app.queue({queue!r})


@app.consumer(queue, batch_size={batch_size}, max_concurrency={concurrency}, name={function!r})
def handler(batch):
    started = time.time()
    lines = "".join(f"{{record.text.split(' ', 1)[0]}} {{started:.6f}}\\n" for record in batch)
    with open(RESULTS, "a", encoding="utf-8") as results:
        results.write(lines)
'''


def _write_app(directory: str, batch_size: int, concurrency: int, durability: Durability) -> str:
    path = os.path.join(directory, "consume_app.py")
    with open(path, "w", encoding="utf-8") as file:
        file.write(
            _APP_SOURCE.format(
                queue=QUEUE_NAME,
                batch_size=batch_size,
                window=BATCH_SIZES[batch_size],
                concurrency=concurrency,
                function=FUNCTION,
                durability=durability,
            )
        )
    return path


def _write_latency_app(directory: str, durability: Durability) -> str:
    path = os.path.join(directory, _LATENCY_APP)
    with open(path, "w", encoding="utf-8") as file:
        file.write(
            _LATENCY_APP_SOURCE.format(
                results=os.path.join(directory, _LATENCY_RESULTS),
                queue=QUEUE_NAME,
                batch_size=LATENCY_BATCH,
                concurrency=LATENCY_CONCURRENCY,
                function=FUNCTION,
                durability=durability,
            )
        )
    return path


# -- pieces shared by the raw loop and the function ---------------------------------------------
def _prefill(client: eventyard.Client, work: list[list[str]]) -> None:
    """Every message in one transaction: no consumer sees any of them before the commit."""
    queue = client.get_queue(QUEUE_NAME)
    with client.transaction() as tx:
        for batch in work:
            tx.send_batch(queue, batch).raise_for_errors()


def _remaining(client: eventyard.Client) -> int:
    stats = client.get_queue(QUEUE_NAME).stats()
    return stats.visible + stats.in_flight + stats.delayed


def _cpu_seconds() -> float:
    """CPU time of this process (all its threads), user + system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _wait_for(
    condition: Callable[[], bool], timeout: float, what: str, pause: float = _POLL_SECONDS
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise BenchmarkError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(pause)


def _timeout(messages: int) -> float:
    # Generous: only a hang should trip it (a few hundred messages a second would still pass).
    return 60.0 + messages / 200


# -- the raw queue loop -------------------------------------------------------------------------
def _measure_raw(
    batch_size: int, durability: Durability, work: list[list[str]], directory: str | None
) -> dict[str, Any]:
    messages = sum(len(batch) for batch in work)
    with tempfile.TemporaryDirectory(prefix="eventyard-bench-", dir=directory) as tmp:
        client = eventyard.connect(_url(os.path.join(tmp, "consume.db")), durability=durability)
        try:
            client.create_queue(QUEUE_NAME)
            queue = client.get_queue(QUEUE_NAME)
            _prefill(client, work)
            gc.collect()
            deleted = receives = 0
            cpu = _cpu_seconds()
            started = time.perf_counter()
            while deleted < messages:
                received = queue.receive(max_messages=batch_size, wait_seconds=1)
                receives += 1
                for start in range(0, len(received), BATCH):
                    queue.delete_batch(received[start : start + BATCH]).raise_for_errors()
                deleted += len(received)
            seconds = time.perf_counter() - started
            cpu = _cpu_seconds() - cpu
            left = _remaining(client)
        finally:
            client.close()
    if left:
        raise BenchmarkError(f"the raw loop ({durability}) left {left} of {messages} messages")
    return {
        "msgs_per_s": round(messages / seconds),
        "seconds": round(seconds, 3),
        "messages_per_receive": round(deleted / receives, 2),
        "cpu_us_per_msg": round(cpu / messages * 1e6, 2),
    }


# -- the function under the supervisor ----------------------------------------------------------
def _invocations(supervisor: Supervisor) -> int:
    return supervisor.stats().get(FUNCTION, {}).get("invocations", 0)


def _invoked(supervisor: Supervisor, target: int) -> Callable[[], bool]:
    """Whether the function has completed ``target`` invocations (each after its deletes)."""
    return lambda: _invocations(supervisor) >= target


def _warm_up(client: eventyard.Client, supervisor: Supervisor, batch_size: int) -> int:
    """Start every worker process (untimed): rounds of one full batch per worker at once.

    Workers start at their slot's first batch. All slots idle in their long
    poll, so each claims one of the batches committed together, and starts
    its worker while the others claim theirs. Returns the invocations so far.
    """
    concurrency = supervisor.app.function(FUNCTION).max_concurrency
    # Let every slot's thread enter its long poll first.
    time.sleep(0.3)
    warm = [f"warm-up {i}" for i in range(batch_size * concurrency)]
    expected = 0
    for _ in range(_WARM_UP_ROUNDS):
        _prefill(client, batches(warm))
        expected += concurrency
        _wait_for(
            _invoked(supervisor, expected),
            _STARTUP_TIMEOUT_SECONDS,
            "the function's workers to start",
            pause=0.01,
        )
    # An invocation is counted inside the transaction that deletes its batch: the
    # deletes may commit a moment after the count moved.
    _wait_for(
        lambda: not _remaining(client),
        _STARTUP_TIMEOUT_SECONDS,
        "the warm-up messages to be deleted",
        pause=0.01,
    )
    return _invocations(supervisor)


def _start_function(client: eventyard.Client, app_path: str) -> Supervisor:
    application = load_app(app_path)
    apply_app(application, client)
    supervisor = Supervisor(application, app_path, client, run_dispatcher=False, grace_seconds=10.0)
    return supervisor.start()


def _measure_function(
    batch_size: int,
    concurrency: int,
    durability: Durability,
    work: list[list[str]],
    directory: str | None,
) -> dict[str, Any]:
    messages = sum(len(batch) for batch in work)
    # Every batch is full (messages is a multiple of the batch size): one invocation each.
    expected_invocations = math.ceil(messages / batch_size)
    with tempfile.TemporaryDirectory(prefix="eventyard-bench-", dir=directory) as tmp:
        app_path = _write_app(tmp, batch_size, concurrency, durability)
        client = eventyard.connect(_url(os.path.join(tmp, "consume.db")), durability=durability)
        supervisor: Supervisor | None = None
        try:
            supervisor = _start_function(client, app_path)
            warm = _warm_up(client, supervisor, batch_size)
            _prefill(client, work)
            cpu = _cpu_seconds()
            started = time.perf_counter()
            _wait_for(
                _invoked(supervisor, warm + expected_invocations),
                _timeout(messages),
                f"the function to drain {messages} messages",
            )
            # Normally empty already (invocations count after their deletes).
            _wait_for(lambda: _remaining(client) == 0, 30.0, "the queue to empty", pause=0.01)
            seconds = time.perf_counter() - started
            cpu = _cpu_seconds() - cpu
            invocations = _invocations(supervisor) - warm
            restarts = supervisor.stats()[FUNCTION]["restarts"]
        finally:
            if supervisor is not None:
                supervisor.shutdown()
            client.close()
    return {
        "msgs_per_s": round(messages / seconds),
        "invocations_per_s": round(invocations / seconds, 1),
        "seconds": round(seconds, 3),
        "invocations": invocations,
        "messages_per_invocation": round(messages / invocations, 2),
        "supervisor_cpu_us_per_msg": round(cpu / messages * 1e6, 2),
        "worker_restarts": restarts,
    }


# -- send -> handler start latency (a producer process and a supervisor process) ----------------
def _latency_function(job: Job, barrier: Barrier) -> Report:
    """The consumer role: the supervisor and its workers, idle in the long poll."""
    directory = os.path.dirname(job.path)
    results = os.path.join(directory, _LATENCY_RESULTS)
    client = eventyard.connect(_url(job.path), durability=job.durability)
    supervisor: Supervisor | None = None
    try:
        supervisor = _start_function(client, os.path.join(directory, _LATENCY_APP))
        _warm_up(client, supervisor, LATENCY_BATCH)
        barrier.wait()
        _wait_for(
            lambda: len(_latency_lines(results)) >= job.sends,
            60.0 + job.sends * 0.1,
            f"the handler to see {job.sends} sends",
            pause=0.05,
        )
    finally:
        if supervisor is not None:
            supervisor.shutdown()
        client.close()
    latencies = [started - sent for sent, started in _latency_lines(results)]
    return {"latencies": latencies, "pid": os.getpid()}


def _latency_lines(path: str) -> list[tuple[float, float]]:
    """(send time, handler start) of each timed message (warm-up lines are skipped)."""
    if not os.path.exists(path):
        return []
    pairs = []
    with open(path, encoding="utf-8") as file:
        for line in file:
            sent, _, started = line.strip().partition(" ")
            # A line still being appended (no newline yet) is read again at the next look.
            if sent.startswith("warm") or not started or not line.endswith("\n"):
                continue
            pairs.append((float(sent), float(started)))
    return pairs


def _measure_latency(durability: Durability, sends: int, directory: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="eventyard-bench-", dir=directory) as tmp:
        job = Job("latency", os.path.join(tmp, "latency.db"), durability, 0, sends, seed=sends)
        _write_latency_app(tmp, durability)
        _eventyard_prepare(job)  # the producer may connect before the function applies its app
        reports = run_pair(
            _latency_producer, _latency_function, job, _STARTUP_TIMEOUT_SECONDS + sends * 0.1
        )
    latencies_ms = [value * 1000 for value in reports["consumer"]["latencies"]]
    if len(latencies_ms) != sends:
        raise BenchmarkError(f"latency: {len(latencies_ms)} of {sends} sends were seen")
    return {
        "p50": round(_percentile(latencies_ms, 0.50), 3),
        "p99": round(_percentile(latencies_ms, 0.99), 3),
        "max": round(max(latencies_ms), 3),
        "samples": len(latencies_ms),
    }


# -- orchestration ------------------------------------------------------------------------------
def _median(taken: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(s[key] for s in taken))


def _summary_raw(taken: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "msgs_per_s": round(_median(taken, "msgs_per_s")),
        "cpu_us_per_msg": round(_median(taken, "cpu_us_per_msg"), 2),
        "runs": taken,
    }


def _summary_function(taken: list[dict[str, Any]], raw_msgs_per_s: float) -> dict[str, Any]:
    msgs_per_s = round(_median(taken, "msgs_per_s"))
    return {
        "msgs_per_s": msgs_per_s,
        "invocations_per_s": round(_median(taken, "invocations_per_s"), 1),
        "ratio_function_raw": _ratio(msgs_per_s, raw_msgs_per_s),
        "supervisor_cpu_us_per_msg": round(_median(taken, "supervisor_cpu_us_per_msg"), 2),
        "runs": taken,
    }


def run(
    messages: int,
    runs: int,
    durabilities: Sequence[Durability],
    latency_sends: int,
    directory: str | None,
) -> dict[str, Any]:
    """Measure everything and return the results as one JSON-ready object."""
    machine = _machine(directory)
    work = batches(bodies(messages))
    raw: dict[tuple[Durability, int], list[dict[str, Any]]] = {}
    function: dict[tuple[Durability, int, int], list[dict[str, Any]]] = {}
    for run_number in range(1, runs + 1):
        for durability in durabilities:
            for batch_size in BATCH_SIZES:
                sample = _measure_raw(batch_size, durability, work, directory)
                raw.setdefault((durability, batch_size), []).append(sample)
                _progress(
                    f"[run {run_number}/{runs}] {durability:<7} batch {batch_size:<4} raw loop"
                    f"      {sample['msgs_per_s']:>8,} msgs/s  ({sample['seconds']:.1f} s)"
                )
                for concurrency in CONCURRENCIES:
                    sample = _measure_function(batch_size, concurrency, durability, work, directory)
                    sample["ratio_function_raw"] = _ratio(
                        sample["msgs_per_s"], raw[(durability, batch_size)][-1]["msgs_per_s"]
                    )
                    function.setdefault((durability, batch_size, concurrency), []).append(sample)
                    _progress(
                        f"[run {run_number}/{runs}] {durability:<7} batch {batch_size:<4} "
                        f"function x{concurrency} {sample['msgs_per_s']:>8,} msgs/s "
                        f"{sample['invocations_per_s']:>9,.1f} invocations/s  ratio "
                        f"{sample['ratio_function_raw']:.2f}  ({sample['seconds']:.1f} s)"
                    )
    result: dict[str, Any] = {
        "benchmark": "consume",
        "machine": machine,
        "parameters": {
            "messages": messages,
            "runs": runs,
            "body_bytes": BODY_BYTES,
            "batch_sizes": list(BATCH_SIZES),
            "batching_window_seconds": {str(size): w for size, w in BATCH_SIZES.items()},
            "max_concurrency": list(CONCURRENCIES),
            "raw_delete_batch": BATCH,
            "prefill": "one transaction, not timed",
            "latency_sends": latency_sends,
            "latency_gap_ms": [gap * 1000 for gap in _LATENCY_GAP_SECONDS],
            "latency_batch_size": LATENCY_BATCH,
            "latency_max_concurrency": LATENCY_CONCURRENCY,
        },
        "targets": {
            f"ratio_function_raw_batch_{TARGET_BATCH}_min": TARGET_RATIO,
            "latency_p50_ms_max": TARGET_LATENCY_P50_MS,
        },
        "durability": {},
    }
    for durability in durabilities:
        per_batch: dict[str, Any] = {}
        for batch_size in BATCH_SIZES:
            baseline = _summary_raw(raw[(durability, batch_size)])
            per_batch[str(batch_size)] = {
                "raw": baseline,
                "function": {
                    str(concurrency): _summary_function(
                        function[(durability, batch_size, concurrency)], baseline["msgs_per_s"]
                    )
                    for concurrency in CONCURRENCIES
                },
            }
        latency = (
            _measure_latency(durability, latency_sends, directory) if latency_sends > 0 else None
        )
        if latency is not None:
            _progress(
                f"[latency] {durability:<7} send -> handler start p50 {latency['p50']:.2f} ms, "
                f"p99 {latency['p99']:.2f} ms ({latency['samples']} sends)"
            )
        ratio = per_batch[str(TARGET_BATCH)]["function"][str(max(CONCURRENCIES))][
            "ratio_function_raw"
        ]
        result["durability"][durability] = {
            "synchronous": SYNCHRONOUS[durability],
            "batch": per_batch,
            "latency_ms": latency,
            "target_met": {
                "ratio": ratio is not None and ratio >= TARGET_RATIO,
                "latency": None if latency is None else latency["p50"] <= TARGET_LATENCY_P50_MS,
            },
        }
    machine["load_average_1m"].append(round(os.getloadavg()[0], 2))
    return result


def render(result: dict[str, Any]) -> str:
    """The human-readable report of a `run` result."""
    machine, parameters = result["machine"], result["parameters"]
    lines = [
        f"eventyard bench consume: {parameters['messages']:,} messages of "
        f"~{parameters['body_bytes']} bytes pre-filled, drained by a no-op function (supervisor "
        f"+ worker processes) and by a raw receive/delete loop; median of {parameters['runs']} "
        "run(s)",
        f"machine: {machine['cpu_count']} CPUs, {machine['platform']}, Python {machine['python']},"
        f" SQLite {machine['sqlite']}; one fsync ≈ {machine['fsync_ms']} ms here; load average "
        f"{machine['load_average_1m'][0]} before, {machine['load_average_1m'][1]} after;"
        f" eventyard {machine['eventyard']} ({machine['eventyard_revision'] or 'not a checkout'})",
    ]
    header = (
        f"  {'batch':>5}  {'consumer':<22}{'msgs/s':>9}{'invocations/s':>15}{'ratio':>7}"
        f"{'CPU µs/msg':>12}   runs (msgs/s)"
    )
    for durability, entry in result["durability"].items():
        lines += ["", f"durability={durability} (synchronous={entry['synchronous']})", header]
        for size, per_batch in entry["batch"].items():
            window = parameters["batching_window_seconds"][size]
            raw = per_batch["raw"]
            each = " / ".join(f"{s['msgs_per_s']:,}" for s in raw["runs"])
            lines.append(
                f"  {size:>5}  {'raw receive + delete':<22}{raw['msgs_per_s']:>9,}{'':>15}"
                f"{'':>7}{raw['cpu_us_per_msg']:>12.1f}   {each}"
            )
            for concurrency, fn in per_batch["function"].items():
                each = " / ".join(f"{s['msgs_per_s']:,}" for s in fn["runs"])
                label = f"function x{concurrency}" + (f", window {window:g} s" if window else "")
                lines.append(
                    f"  {size:>5}  {label:<22}{fn['msgs_per_s']:>9,}"
                    f"{fn['invocations_per_s']:>15,.1f}{fn['ratio_function_raw']:>7.2f}"
                    f"{fn['supervisor_cpu_us_per_msg']:>12.1f}   {each}"
                )
        ratio = entry["batch"][str(TARGET_BATCH)]["function"][str(max(CONCURRENCIES))][
            "ratio_function_raw"
        ]
        lines.append(
            f"  function (batch {TARGET_BATCH}, {max(CONCURRENCIES)} workers) / raw loop: "
            f"{ratio:.2f} ({'meets' if entry['target_met']['ratio'] else 'misses'} the target of "
            f"≥ {TARGET_RATIO:.2f}); CPU µs/msg: the benchmark process (raw loop, or supervisor)"
        )
        latency = entry["latency_ms"]
        if latency is not None:
            verdict = "meets" if entry["target_met"]["latency"] else "misses"
            lines.append(
                f"  send → handler start ({latency['samples']} single sends "
                f"{parameters['latency_gap_ms'][0]:g}-{parameters['latency_gap_ms'][1]:g} ms "
                f"apart, batch {parameters['latency_batch_size']}, "
                f"{parameters['latency_max_concurrency']} workers): p50 {latency['p50']:.2f} ms, "
                f"p99 {latency['p99']:.2f} ms ({verdict} the target of p50 ≤ "
                f"{TARGET_LATENCY_P50_MS:g} ms)"
            )
    return "\n".join(lines)


def main(
    messages: int = 100_000,
    runs: int = 3,
    durability: str = "both",
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
    # Full batches only: a partial last batch would wait out the batching window.
    step = max(BATCH_SIZES)
    rounded = -(-messages // step) * step
    if rounded != messages:
        _progress(f"messages rounded up to {rounded:,} (a multiple of {step}: full batches only)")
    durabilities = DURABILITIES if durability == "both" else (cast(Durability, durability),)
    try:
        result = run(rounded, runs, durabilities, latency_sends, directory)
    except BenchmarkError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2) if as_json else render(result))
    return 0
