"""The peer a user would pick instead: huey's ``SqliteHuey``, measured like eventyard.

A producer process enqueues the same count of trivial tasks (each carrying
one of the same ~200-byte bodies); a consumer process runs huey's own
consumer with 2 worker threads, otherwise at its defaults, and the clock
stops when huey reports the last task complete. huey enqueues one task per
transaction (it has no batch enqueue) and dequeues one per transaction;
idle workers poll with a back-off starting at 0.1 s.

Durability: huey's only knob is ``fsync``. ``fsync=True`` is
``synchronous=FULL`` (our "full"); ``fsync=False`` is ``synchronous=OFF``,
which is *less* durable than our "process" (``NORMAL``) and so favours
huey. Only importable when huey is installed (a benchmark-only dependency).
"""

from __future__ import annotations

import logging
import signal
import sqlite3
import threading
import time
from multiprocessing.synchronize import Barrier
from typing import Any, Final

from huey import SqliteHuey  # type: ignore[import-untyped]
from huey.signals import SIGNAL_COMPLETE  # type: ignore[import-untyped]

from eventyard.benchmarks._harness import Job, Report, bodies

_WORKERS: Final = 2
_TASK_NAME: Final = "eventyard_bench_noop"


class _Tally:
    """Counts executed tasks in the consumer process and says when all have run."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.executed = 0
        self.lock = threading.Lock()
        self.done = threading.Event()

    def add(self) -> None:
        with self.lock:
            self.executed += 1
            if self.executed >= self.target:
                self.done.set()


#: Set in the consumer process only; the producer never runs the task.
_tally: _Tally | None = None


def _noop(body: str) -> None:
    """The trivial task: count itself (returns None, so huey stores no result).

    Counted here rather than on huey's "complete" signal: under write contention
    huey's post-execution bookkeeping can fail with "database is locked" after the
    task ran, and the signal never comes (see ``incomplete`` in the report).
    """
    if _tally is not None:
        _tally.add()


def _huey(job: Job) -> tuple[Any, Any]:
    # Both processes register the task under the same explicit name, so the
    # consumer finds what the producer enqueued whatever the module path.
    instance = SqliteHuey("eventyard-bench", filename=job.path, fsync=job.durability == "full")
    task = instance.task(name=_TASK_NAME)(_noop)
    return instance, task


def prepare(job: Job) -> None:
    """Create the tables (in the parent, so the two processes do not race on the DDL)."""
    instance, _ = _huey(job)
    instance.storage.close()


def remaining(job: Job) -> int:
    instance, _ = _huey(job)
    try:
        return int(instance.storage.queue_size())
    finally:
        instance.storage.close()


def producer(job: Job, barrier: Barrier) -> Report:
    instance, task = _huey(job)
    work = bodies(job.messages)
    lock_errors = 0
    barrier.wait()
    started = time.perf_counter()
    for item in work:
        while True:
            try:
                task(item)
                break
            except sqlite3.OperationalError:
                # huey's 5 s busy timeout expired ("database is locked"): what a user's
                # enqueue would raise. Count it and enqueue again, to drain the same count.
                lock_errors += 1
    seconds = time.perf_counter() - started
    instance.storage.close()
    return {"seconds": seconds, "lock_errors": lock_errors}


class _ErrorCount(logging.Handler):
    """Counts the errors huey logs (it logs and carries on) instead of printing tracebacks."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def consumer(job: Job, barrier: Barrier) -> Report:
    global _tally
    tally = _tally = _Tally(job.messages)
    errors = _ErrorCount()
    huey_logger = logging.getLogger("huey")
    huey_logger.addHandler(errors)
    huey_logger.propagate = False
    instance, _ = _huey(job)
    completed = 0
    lock = threading.Lock()

    def on_complete(_signal: str, _task: object, *_args: object) -> None:
        nonlocal completed
        with lock:
            completed += 1

    instance.signal(SIGNAL_COMPLETE)(on_complete)
    consumer = instance.create_consumer(workers=_WORKERS)
    barrier.wait()
    started = time.perf_counter()
    consumer.start()
    # huey's consumer takes over SIGTERM for a graceful stop; give it back so the
    # parent can still end this process if the run hangs.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    tally.done.wait()
    seconds = time.perf_counter() - started
    consumer.stop(graceful=True)
    instance.storage.close()
    return {
        "seconds": seconds,
        "executed": tally.executed,
        "incomplete": tally.executed - completed,
        "logged_errors": errors.count,
        "workers": _WORKERS,
    }
