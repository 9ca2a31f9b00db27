"""Process plumbing shared by the queue benchmarks.

Every measurement runs a producer process and a consumer process (the
"spawn" start method: fresh interpreters, no state inherited from the
parent). Each process does its own set-up first (imports, connection,
building the bodies), then both meet at a barrier, so interpreter start-up
and connection set-up are never timed; each times its own work from the
moment the barrier lets it go and reports back through a queue.
"""

from __future__ import annotations

import multiprocessing
import queue
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier
from typing import Any, Final, Literal

#: Rows are ~200 bytes of text, as in MEASUREMENTS.md.
BODY_BYTES: Final = 200
BATCH: Final = 10
#: How long a process may take to start and set up before the other gives up on it.
BARRIER_TIMEOUT_SECONDS: Final = 120.0

Report = dict[str, Any]
Durability = Literal["full", "process"]


@dataclass(frozen=True, slots=True)
class Job:
    """What one producer/consumer pair is asked to do (pickled to both processes)."""

    system: str
    path: str
    durability: Durability
    messages: int
    #: Latency runs only: how many single sends, and the seed of their random gaps.
    sends: int = 0
    seed: int = 0


Role = Callable[[Job, Barrier], Report]


class BenchmarkError(RuntimeError):
    """A benchmark process failed, hung or died; the message says which and why."""


def body(index: int) -> str:
    """A distinct ~200-byte text body (identical inputs for every system)."""
    head = f'{{"n":{index},"pad":"'
    return head + "x" * (BODY_BYTES - len(head) - 2) + '"}'


def bodies(count: int) -> list[str]:
    return [body(i) for i in range(count)]


def batches(items: list[str], size: int = BATCH) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def sender_id() -> str:
    return f"{socket.gethostname()}:bench"


def _child(role: Role, name: str, job: Job, barrier: Barrier, results: Any) -> None:
    try:
        report = role(job, barrier)
    except BaseException:
        # Release the other process from the barrier at once instead of after its timeout.
        barrier.abort()
        results.put((name, None, traceback.format_exc()))
        return
    results.put((name, report, None))


def run_pair(producer: Role, consumer: Role, job: Job, timeout_seconds: float) -> dict[str, Report]:
    """Run one producer process and one consumer process; return their reports by role."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2, timeout=BARRIER_TIMEOUT_SECONDS)
    results: multiprocessing.Queue[tuple[str, Report | None, str | None]] = context.Queue()
    processes = {
        name: context.Process(
            target=_child,
            args=(role, name, job, barrier, results),
            name=f"eventyard-bench-{job.system}-{name}",
            daemon=True,
        )
        for name, role in (("producer", producer), ("consumer", consumer))
    }
    for process in processes.values():
        process.start()
    reports: dict[str, Report] = {}
    deadline = time.monotonic() + timeout_seconds
    try:
        while len(reports) < len(processes):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BenchmarkError(
                    f"{job.system} ({job.durability}) did not finish in {timeout_seconds:.0f} s"
                )
            try:
                name, report, error = results.get(timeout=min(remaining, 1.0))
            except queue.Empty:
                # A process that was killed (OOM, signal) never reports; _child always does.
                for name, process in processes.items():
                    if name not in reports and process.exitcode not in (None, 0):
                        raise BenchmarkError(
                            f"{job.system} ({job.durability}) {name} died with exit code "
                            f"{process.exitcode}"
                        ) from None
                continue
            if error is not None or report is None:
                raise BenchmarkError(f"{job.system} ({job.durability}) {name} failed:\n{error}")
            reports[name] = report
        for process in processes.values():
            process.join(timeout=30)
    finally:
        for process in processes.values():
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
        results.close()
        results.join_thread()
    return reports
