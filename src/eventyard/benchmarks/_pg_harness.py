"""Process plumbing of the PostgreSQL benchmark: a group of N processes that start together.

Like `eventyard.benchmarks._harness` (one producer + one consumer), but for
any number of processes: every process is a fresh interpreter ("spawn"),
does its own set-up (imports, connections, bodies), then waits at a barrier
with the others; each reports when it passed the barrier and when it was
done, on ``time.monotonic()``, which on Linux is one clock for every process
of the machine (``CLOCK_MONOTONIC``), so the parent can take the span from
the first start to the last finish. A process may also set the group's
``done`` event (a producer telling its consumers that nothing more will come).
"""

from __future__ import annotations

import multiprocessing
import queue
import resource
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.synchronize import Barrier, Event
from typing import Any, Final

from eventyard.benchmarks._harness import BARRIER_TIMEOUT_SECONDS, BenchmarkError, Report
from eventyard.store.base import Durability

#: The eventyard schema, and the raw/PGQueuer schemas, are named after this and the run.
SCHEMA_PREFIX: Final = "eybench"


@dataclass(frozen=True, slots=True)
class PgJob:
    """What one process of a group is asked to do (pickled to it)."""

    system: str
    #: The server's URL as given (libpq's parameters, plus eventyard's own ``schema=``).
    url: str
    #: The PostgreSQL schema this measurement's tables live in (created and dropped by the parent).
    schema: str
    durability: Durability
    messages: int
    #: Consumers in the group, and which one this process is (0-based).
    consumers: int = 1
    index: int = 0
    #: Latency runs only: how many single sends, and the seed of their random gaps.
    sends: int = 0
    seed: int = 0
    #: Per-system extras (batch sizes of the churn run, ...).
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Sync:
    """What the processes of one group share."""

    barrier: Barrier
    done: Event


Role = Callable[[PgJob, Sync], Report]


def _child(role: Role, name: str, job: PgJob, sync: Sync, results: Any) -> None:
    try:
        report = role(job, sync)
    except BaseException:
        # Release the others from the barrier at once instead of after its timeout.
        sync.barrier.abort()
        results.put((name, None, traceback.format_exc()))
        return
    results.put((name, report, None))


def run_group(
    members: Sequence[tuple[str, Role, PgJob]], timeout_seconds: float
) -> dict[str, Report]:
    """Run one process per member (name, role, job); return their reports by name."""
    context = multiprocessing.get_context("spawn")
    sync = Sync(context.Barrier(len(members), timeout=BARRIER_TIMEOUT_SECONDS), context.Event())
    results: multiprocessing.Queue[tuple[str, Report | None, str | None]] = context.Queue()
    processes = {
        name: context.Process(
            target=_child,
            args=(role, name, job, sync, results),
            name=f"eventyard-bench-{job.system}-{name}",
            daemon=True,
        )
        for name, role, job in members
    }
    for process in processes.values():
        process.start()
    reports: dict[str, Report] = {}
    deadline = time.monotonic() + timeout_seconds
    what = members[0][2].system
    try:
        while len(reports) < len(processes):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BenchmarkError(f"{what} did not finish in {timeout_seconds:.0f} s")
            try:
                name, report, error = results.get(timeout=min(remaining, 1.0))
            except queue.Empty:
                # A process that was killed (OOM, signal) never reports; _child always does.
                for name, process in processes.items():
                    if name not in reports and process.exitcode not in (None, 0):
                        raise BenchmarkError(
                            f"{what} {name} died with exit code {process.exitcode}"
                        ) from None
                continue
            if error is not None or report is None:
                raise BenchmarkError(f"{what} {name} failed:\n{error}")
            reports[name] = report
        for process in processes.values():
            process.join(timeout=30)
    finally:
        sync.done.set()
        for process in processes.values():
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
        results.close()
        results.join_thread()
    return reports


def cpu_seconds() -> float:
    """CPU time of this process (all its threads), user + system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def span(reports: Sequence[Report]) -> float:
    """Seconds from the first process's start to the last one's finish."""
    return float(max(r["finished"] for r in reports) - min(r["started"] for r in reports))
