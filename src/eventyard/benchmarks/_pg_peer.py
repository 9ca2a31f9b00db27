"""The peer a user would pick instead on PostgreSQL: PGQueuer, measured like eventyard.

PGQueuer is used as its own drain benchmark (``tools/benchmark.py``) and its
documentation set it up:

* the asyncpg driver (its fastest; one ``asyncpg`` connection per
  `PgQueuer`), uvloop when it is installed (its benchmark runs on uvloop);
* its schema installed with ``Queries.install()`` (default durability
  "durable": every table logged), plus ``Queries.optimize_autovacuum()``
  (``pgq autovac``: its recommended storage settings for busy queues);
* producer: ``Queries.enqueue`` with lists of 10 jobs (one statement per
  batch, autocommit), each job's payload one of the same ~200-byte bodies;
* consumer: one `PgQueuer` per process (as ``pgq run`` starts it) with a
  no-op ``async`` entrypoint, ``run(batch_size=10,
  mode=QueueExecutionMode.drain)``, which returns once the queue has no
  queued job and its own jobs are done (their status flushed to
  ``pgqueuer_log``); otherwise its defaults. Or, with ``options["dequeuers"]``,
  several `PgQueuer` instances per process, each on its own connection, run
  together: its drain benchmark's set-up is 5 of them ("dequeue tasks") in
  one process.

Durability "process": the connection sets ``synchronous_commit = off``
(eventyard's "process" does the same), as PGQueuer has no knob of its own.
Only importable when pgqueuer and asyncpg are installed (benchmark-only
dependencies: ``pip install 'eventyard[bench]'``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Final, TypeVar

import asyncpg  # type: ignore[import-untyped]
from pgqueuer import AsyncpgDriver, PgQueuer, Queries
from pgqueuer.adapters.persistence.qb import (
    DBSettings,
    QueryBuilderEnvironment,
    QueryQueueBuilder,
    QuerySchedulerBuilder,
)
from pgqueuer.models import Job
from pgqueuer.types import QueueExecutionMode

from eventyard.benchmarks._harness import BATCH, BODY_BYTES, Report, batches, bodies
from eventyard.benchmarks._pg_harness import PgJob, Sync, cpu_seconds
from eventyard.benchmarks._pg_server import conninfo

ENTRYPOINT: Final = "eventyard_bench"
_T = TypeVar("_T")

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop comes with pgqueuer's extras, not always
    uvloop = None  # type: ignore[assignment]
#: PGQueuer's own benchmark runs on uvloop.
EVENT_LOOP: Final = "asyncio" if uvloop is None else "uvloop"


def _run(main: Callable[[], Awaitable[_T]]) -> _T:
    async def wrapper() -> _T:
        return await main()

    if uvloop is not None:
        return uvloop.run(wrapper())
    return asyncio.run(wrapper())


def _settings(job: PgJob) -> DBSettings:
    return DBSettings(db_schema=job.schema)


def _queries(driver: AsyncpgDriver, job: PgJob) -> Queries:
    settings = _settings(job)
    return Queries(
        driver,
        qbe=QueryBuilderEnvironment(settings),
        qbq=QueryQueueBuilder(settings),
        qbs=QuerySchedulerBuilder(settings),
    )


def _pgqueuer(conn: Any, job: PgJob) -> PgQueuer:
    driver = AsyncpgDriver(conn)
    return PgQueuer(driver, channel=_settings(job).channel, queries=_queries(driver, job))


async def _connect(job: PgJob) -> Any:
    server_settings = {"synchronous_commit": "off"} if job.durability == "process" else None
    return await asyncpg.connect(dsn=conninfo(job.url), server_settings=server_settings)


def _quiet() -> None:
    # PGQueuer logs every dispatch at DEBUG and start-up at INFO: keep the output clean.
    logging.getLogger("pgqueuer").setLevel(logging.WARNING)


def prepare(job: PgJob) -> None:
    """Install PGQueuer's schema in the measurement's schema, with its autovacuum settings."""

    async def main() -> None:
        conn = await _connect(job)
        try:
            queries = _queries(AsyncpgDriver(conn), job)
            await queries.install()
            await queries.optimize_autovacuum()
        finally:
            await conn.close()

    _run(main)


def remaining(job: PgJob) -> int:
    async def main() -> int:
        conn = await _connect(job)
        try:
            table = _settings(job).qualified.queue_table
            return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
        finally:
            await conn.close()

    return _run(main)


def producer(job: PgJob, sync: Sync) -> Report:
    _quiet()
    work = [[b.encode() for b in batch] for batch in batches(bodies(job.messages))]

    async def main() -> Report:
        conn = await _connect(job)
        queries = _queries(AsyncpgDriver(conn), job)
        entrypoints, priorities = [ENTRYPOINT] * BATCH, [0] * BATCH
        sync.barrier.wait()
        cpu = cpu_seconds()
        started = time.monotonic()
        for payloads in work:
            size = len(payloads)
            await queries.enqueue(entrypoints[:size], list(payloads), priorities[:size])
        finished = time.monotonic()
        cpu = cpu_seconds() - cpu
        await conn.close()
        return {"started": started, "finished": finished, "cpu": cpu, "pid": os.getpid()}

    return _run(main)


def consumer(job: PgJob, sync: Sync) -> Report:
    _quiet()

    async def main() -> Report:
        # One PgQueuer per process, as ``pgq run`` starts it; or several (each with its own
        # connection), as PGQueuer's drain benchmark runs 5 "dequeue tasks" in one process.
        connections = [await _connect(job) for _ in range(job.options.get("dequeuers", 1))]
        instances = [_pgqueuer(conn, job) for conn in connections]
        executed = 0

        for pgq in instances:

            @pgq.entrypoint(ENTRYPOINT)
            async def noop(_job: Job) -> None:
                nonlocal executed
                executed += 1

        sync.barrier.wait()
        # As PGQueuer's drain benchmark: the clock runs from before run() (its set-up:
        # a structure check and LISTEN, a few ms) until run() returns.
        cpu = cpu_seconds()
        started = time.monotonic()
        await asyncio.gather(
            *(pgq.run(batch_size=BATCH, mode=QueueExecutionMode.drain) for pgq in instances)
        )
        finished = time.monotonic()
        cpu = cpu_seconds() - cpu
        for conn in connections:
            await conn.close()
        return {
            "started": started,
            "finished": finished,
            "cpu": cpu,
            "deleted": executed,
            "pid": os.getpid(),
        }

    return _run(main)


# -- wake-up latency: enqueue -> entrypoint start ------------------------------------------
def latency_producer(job: PgJob, sync: Sync) -> Report:
    _quiet()
    rng = random.Random(job.seed)
    gaps = [rng.uniform(*job.options["gap_seconds"]) for _ in range(job.sends)]
    pad = " " + "x" * (BODY_BYTES - 19)

    async def main() -> Report:
        conn = await _connect(job)
        queries = _queries(AsyncpgDriver(conn), job)
        sync.barrier.wait()
        # The consumer starts PGQueuer (LISTEN) before the barrier; let it settle.
        await asyncio.sleep(0.2)
        for gap in gaps:
            await queries.enqueue(ENTRYPOINT, f"{time.time():.6f}{pad}".encode())
            await asyncio.sleep(gap)  # the load generator's pacing, not measured
        await conn.close()
        return {"sent": len(gaps)}

    return _run(main)


def latency_consumer(job: PgJob, sync: Sync) -> Report:
    _quiet()

    async def main() -> Report:
        conn = await _connect(job)
        pgq = _pgqueuer(conn, job)
        latencies: list[float] = []

        @pgq.entrypoint(ENTRYPOINT)
        async def record(job_: Job) -> None:
            started = time.time()
            assert job_.payload is not None
            latencies.append(started - float(job_.payload.split(b" ", 1)[0]))
            if len(latencies) >= job.sends:
                pgq.shutdown.set()

        running = asyncio.create_task(
            pgq.run(batch_size=BATCH, dequeue_timeout=timedelta(seconds=30))
        )
        await asyncio.sleep(0.5)  # its set-up and LISTEN, before the producer starts
        await asyncio.get_running_loop().run_in_executor(None, sync.barrier.wait)
        await asyncio.wait_for(running, timeout=60 + job.sends * 0.1)
        await conn.close()
        return {"latencies": latencies}

    return _run(main)
