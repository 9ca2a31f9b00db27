"""``eventyard bench checkout``: the checkout example under load, against the fragile way.

Two systems, each served by ``python -m eventyard run <app> --db … --port …``
in a subprocess on a fresh SQLite file in a new temporary directory, as a
user runs them:

* **event-driven**: the example's ``app.py``. ``POST /checkout`` saves the
  order and publishes ``NewOrderEvent`` in one transaction (and puts
  ``OrderPlaced`` on the bus); ``update_stock`` and ``print_labels`` run later,
  in worker processes;
* **synchronous baseline**: ``fragile.py``, the chapter's "fragile way".
  ``POST /checkout`` saves the order, takes the stock and writes the label
  (waiting for the printer) inside the request and its transaction.

Both use the same validation, tables, label code and printer switch. For
each: start the server; ``POST /printer {"print_ms": …}``; warm up (serial
orders until their stock and labels are done, so worker processes have
started); then N client threads (one keep-alive ``httpx.Client`` each,
connected before the clock starts) place valid orders back to back for S
seconds, recording each request's start, latency and status. Accepted
orders/s = 201 answers / (load start → last answer). After the load, the
benchmark waits (bounded) until every accepted order has its stock taken
and its label printed, then reads from the database, per accepted order,
``stock_taken_at - placed_at`` and ``label_printed_at - placed_at``
(``placed_at`` is written by the request, just before its commit). The
drain time is the last label's (or stock update's) time minus the end of the
load. Runs are interleaved (run 1 of both systems, then run 2...); medians
are reported.

Targets (the issue's): the event-driven checkout's p99 ≤ 50 ms at the rate
the machine sustains, and the event-driven system accepts ≥ 3x the orders/s
of the synchronous baseline when labels take 20 ms each.
"""

from __future__ import annotations

import bisect
import importlib.util
import json
import math
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any, Final

import httpx

from eventyard.benchmarks._checkout_report import (
    TARGET_P99_MS,
    TARGET_PRINT_MS,
    TARGET_RATIO,
    plot,
    render,
)
from eventyard.benchmarks._checkout_server import SYSTEMS, Server, order_times, wait_done
from eventyard.benchmarks._harness import BenchmarkError
from eventyard.benchmarks.queue import _machine, _percentile, _progress, _ratio
from eventyard.demo.samples import PRICES, order

DEFAULT_CLIENTS: Final = 16
DEFAULT_SECONDS: Final = 30.0
DEFAULT_DRAIN_TIMEOUT: Final = 900.0
_WARM_UP_ORDERS: Final = 20
_WARM_UP_TIMEOUT: Final = 120.0
_REQUEST_TIMEOUT_SECONDS: Final = 60.0
_CLIENT_START_SECONDS: Final = 60.0
_ORDER_POOL: Final = 256


# -- the workload -------------------------------------------------------------------------------
def orders(count: int, seed: int) -> list[dict[str, Any]]:
    """Valid ``POST /checkout`` bodies: 1-3 distinct skus of 1-3 each, varied addresses."""
    rng = random.Random(seed)
    made = []
    for number in range(count):
        skus = rng.sample(sorted(PRICES), rng.randint(1, 3))
        items: list[dict[str, Any]] = [{"sku": sku, "quantity": rng.randint(1, 3)} for sku in skus]
        made.append(order(number, items, customer=f"customer{seed}-{number}@example.com"))
    return made


# -- the load -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Request:
    started: float  # seconds since the load started
    latency: float  # seconds
    status: int  # 0: no answer (a transport error)
    order_id: str | None


def _client_thread(
    base_url: str,
    work: list[dict[str, Any]],
    offset: int,
    ready: threading.Barrier,
    clock: list[float],
    seconds: float,
    out: list[_Request],
    failures: list[str],
) -> None:
    try:
        with httpx.Client(base_url=base_url, timeout=_REQUEST_TIMEOUT_SECONDS) as http:
            http.get("/").raise_for_status()  # connect before the clock starts (keep-alive)
            ready.wait()
            origin = clock[0]
            deadline = origin + seconds
            index = offset
            while True:
                started = time.perf_counter()
                if started >= deadline:
                    break
                order = work[index % len(work)]
                index += 1
                status, order_id = 0, None
                try:
                    response = http.post("/checkout", json=order)
                    status = response.status_code
                    if status == 201:
                        order_id = response.json()["order_id"]
                except httpx.TransportError:
                    pass
                ended = time.perf_counter()
                out.append(_Request(started - origin, ended - started, status, order_id))
    except BaseException as exc:
        failures.append(f"{type(exc).__name__}: {exc}")
        ready.abort()


def _load(base_url: str, clients: int, seconds: float, seed: int) -> tuple[list[_Request], float]:
    """N client threads placing orders for `seconds`; (the requests, the load's start, wall)."""
    work = orders(_ORDER_POOL, seed)
    clock = [0.0]
    ready = threading.Barrier(clients + 1, timeout=_CLIENT_START_SECONDS)
    per_thread: list[list[_Request]] = [[] for _ in range(clients)]
    failures: list[str] = []
    threads = [
        threading.Thread(
            target=_client_thread,
            args=(base_url, work, i * 17, ready, clock, seconds, per_thread[i], failures),
            name=f"bench-checkout-client-{i}",
            daemon=True,
        )
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    try:
        # Every thread has connected; the clock is set before any of them is let go.
        clock[0] = time.perf_counter()
        wall = time.time()
        ready.wait()
    except threading.BrokenBarrierError:
        for thread in threads:
            thread.join(timeout=_REQUEST_TIMEOUT_SECONDS)
        raise BenchmarkError(f"a client failed to start: {'; '.join(failures)}") from None
    for thread in threads:
        thread.join()
    if failures:
        raise BenchmarkError(f"a client failed: {'; '.join(failures)}")
    return [request for taken in per_thread for request in taken], wall


def _warm_up(base_url: str, database: str, seed: int) -> None:
    """Serial orders until done end to end: the server, its worker processes, the label path."""
    with httpx.Client(base_url=base_url, timeout=_REQUEST_TIMEOUT_SECONDS) as http:
        for order in orders(_WARM_UP_ORDERS, seed):
            response = http.post("/checkout", json=order)
            if response.status_code != 201:
                raise BenchmarkError(
                    f"warm-up order refused: {response.status_code} {response.text[:200]}"
                )
    if not wait_done(database, _WARM_UP_TIMEOUT):
        raise BenchmarkError("the warm-up orders were not all stocked and labelled in time")


# -- one measurement ----------------------------------------------------------------------------
def _ms(values: list[float], fraction: float) -> float | None:
    return round(_percentile(values, fraction) * 1000, 2) if values else None


def _series(requests: list[_Request], seconds: int) -> dict[str, list[Any]]:
    """Per second of the load (by request start): accepted orders and POST p50/p99 in ms."""
    accepted = [0] * seconds
    latencies: list[list[float]] = [[] for _ in range(seconds)]
    for request in requests:
        second = min(int(request.started), seconds - 1)
        latencies[second].append(request.latency)
        if request.status == 201:
            accepted[second] += 1
    return {
        "accepted": accepted,
        "p50_ms": [_ms(values, 0.50) for values in latencies],
        "p99_ms": [_ms(values, 0.99) for values in latencies],
    }


def _backlog(
    times: list[tuple[float, float | None, float | None]], wall: float, until: float
) -> list[int]:
    """Orders placed but without a label at the end of each second since the load started."""
    placed = sorted(t[0] - wall for t in times)
    printed = sorted(t[2] - wall for t in times if t[2] is not None)
    out = []
    for second in range(1, math.ceil(until) + 1):
        out.append(_count_le(placed, second) - _count_le(printed, second))
    return out


def _count_le(sorted_values: list[float], limit: float) -> int:
    return bisect.bisect_right(sorted_values, limit)


def measure(
    system: str,
    clients: int,
    seconds: float,
    print_ms: int,
    drain_timeout: float,
    seed: int,
    directory: str | None = None,
) -> dict[str, Any]:
    """One run of one system on a fresh database: the JSON-ready sample."""
    with tempfile.TemporaryDirectory(prefix="eventyard-bench-checkout-", dir=directory) as tmp:
        server = Server(system, tmp)
        try:
            server.start()
            printer = httpx.post(server.base_url + "/printer", json={"print_ms": print_ms})
            if printer.status_code != 200:
                raise BenchmarkError(f"{system}: POST /printer: {printer.status_code}")
            _warm_up(server.base_url, server.database, seed)
            warm = set(order_times(server.database))
            requests, wall = _load(server.base_url, clients, seconds, seed)
            load_seconds = max(r.started + r.latency for r in requests) if requests else seconds
            load_end = wall + load_seconds
            drained = wait_done(server.database, drain_timeout)
            times = order_times(server.database)
        except BenchmarkError as exc:
            raise BenchmarkError(f"{exc}\nserver log (end):\n{server.output()}") from None
        finally:
            server.stop()
    accepted_ids = {r.order_id for r in requests if r.order_id is not None}
    ours = [times[order_id] for order_id in accepted_ids if order_id in times]
    stranger = set(times) - warm - accepted_ids  # committed, but the client saw no 201
    to_stock = [stock - placed for placed, stock, _ in ours if stock is not None]
    to_label = [label - placed for placed, _, label in ours if label is not None]
    stock_times = [stock for _, stock, _ in ours if stock is not None]
    label_times = [label for _, _, label in ours if label is not None]
    latencies = [r.latency for r in requests]
    accepted = sum(1 for r in requests if r.status == 201)
    errors: dict[str, int] = {}
    for request in requests:
        if request.status != 201:
            key = str(request.status) if request.status else "no answer"
            errors[key] = errors.get(key, 0) + 1
    last = max(label_times, default=load_end)
    return {
        "accepted": accepted,
        "accepted_per_s": round(accepted / load_seconds, 1),
        "requests": len(requests),
        "errors": sum(errors.values()),
        "errors_by_status": errors,
        "load_seconds": round(load_seconds, 3),
        "post_ms": {
            "p50": _ms(latencies, 0.50),
            "p99": _ms(latencies, 0.99),
            "max": _ms(latencies, 1.0),
        },
        "to_stock_ms": {"p50": _ms(to_stock, 0.50), "p99": _ms(to_stock, 0.99)},
        "to_label_ms": {"p50": _ms(to_label, 0.50), "p99": _ms(to_label, 0.99)},
        "drained": drained,
        "stock_drain_s": round(max(0.0, max(stock_times, default=load_end) - load_end), 2),
        "label_drain_s": round(max(0.0, last - load_end), 2),
        "orders_missing": len(accepted_ids) - len(ours),
        "orders_committed_without_201": len(stranger),
        "labels_pending": len(ours) - len(to_label),
        "stock_pending": len(ours) - len(to_stock),
        "series": {
            **_series(requests, max(1, math.ceil(seconds))),
            "label_backlog": _backlog(ours, wall, max(last - wall, load_seconds)),
        },
    }


# -- orchestration ------------------------------------------------------------------------------
def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(float(statistics.median(present)), 2) if present else None


def _summary(taken: list[dict[str, Any]]) -> dict[str, Any]:
    def med(*path: str) -> float | None:
        values = []
        for sample in taken:
            value: Any = sample
            for key in path:
                value = value[key]
            values.append(value)
        return _median(values)

    return {
        "accepted_per_s": med("accepted_per_s"),
        "errors": med("errors"),
        "post_ms": {"p50": med("post_ms", "p50"), "p99": med("post_ms", "p99")},
        "to_stock_ms": {"p50": med("to_stock_ms", "p50"), "p99": med("to_stock_ms", "p99")},
        "to_label_ms": {"p50": med("to_label_ms", "p50"), "p99": med("to_label_ms", "p99")},
        "stock_drain_s": med("stock_drain_s"),
        "label_drain_s": med("label_drain_s"),
        "drained": all(sample["drained"] for sample in taken),
        "runs": taken,
    }


def run(
    clients: int,
    seconds: float,
    print_ms: int,
    runs: int,
    drain_timeout: float,
    directory: str | None = None,
) -> dict[str, Any]:
    """Measure both systems `runs` times, interleaved; one JSON-ready object."""
    machine = _machine(directory)
    samples: dict[str, list[dict[str, Any]]] = {system: [] for system in SYSTEMS}
    for run_number in range(1, runs + 1):
        for system, (_, label) in SYSTEMS.items():
            sample = measure(
                system, clients, seconds, print_ms, drain_timeout, run_number, directory
            )
            samples[system].append(sample)
            _progress(
                f"[run {run_number}/{runs}] {label:<26} {sample['accepted_per_s']:>8,.1f} "
                f"orders/s, POST p50 {sample['post_ms']['p50']} ms p99 "
                f"{sample['post_ms']['p99']} ms, {sample['errors']} errors; label p99 "
                f"{sample['to_label_ms']['p99']} ms, labels drained "
                f"{sample['label_drain_s']} s after the load"
                + ("" if sample["drained"] else f" (NOT drained: {sample['labels_pending']} left)")
            )
    summaries = {system: _summary(taken) for system, taken in samples.items()}
    event, baseline = summaries["event_driven"], summaries["synchronous"]
    ratio = _ratio(event["accepted_per_s"], baseline["accepted_per_s"])
    for index, sample in enumerate(samples["event_driven"]):
        sample["ratio_to_synchronous"] = _ratio(
            sample["accepted_per_s"], samples["synchronous"][index]["accepted_per_s"]
        )
    p99 = event["post_ms"]["p99"]
    machine["load_average_1m"].append(round(os.getloadavg()[0], 2))
    return {
        "benchmark": "checkout",
        "machine": machine,
        "parameters": {
            "clients": clients,
            "seconds": seconds,
            "print_ms": print_ms,
            "runs": runs,
            "drain_timeout_s": drain_timeout,
            "warm_up_orders": _WARM_UP_ORDERS,
            "durability": "full",
        },
        "targets": {
            "event_driven_post_p99_ms_max": TARGET_P99_MS,
            "ratio_event_driven_synchronous_min": TARGET_RATIO,
            "ratio_target_print_ms": TARGET_PRINT_MS,
        },
        "systems": summaries,
        "ratio_event_driven_synchronous": ratio,
        "target_met": {
            "post_p99": p99 is not None and p99 <= TARGET_P99_MS,
            "ratio": ratio is not None and ratio >= TARGET_RATIO,
        },
    }


def main(
    clients: int = DEFAULT_CLIENTS,
    seconds: float = DEFAULT_SECONDS,
    print_ms: int = TARGET_PRINT_MS,
    runs: int = 1,
    plot_file: str | None = None,
    as_json: bool = False,
    *,
    drain_timeout: float = DEFAULT_DRAIN_TIMEOUT,
    directory: str | None = None,
) -> int:
    """Run the benchmark and print it (a table, or one JSON object); the exit code."""
    if clients < 1 or seconds <= 0 or runs < 1 or drain_timeout < 0:
        print(
            "clients and runs must be at least 1, seconds more than 0, the drain timeout at "
            "least 0",
            file=sys.stderr,
        )
        return 2
    if not 0 <= print_ms <= 10_000:
        print(f"print-ms must be 0 to 10000, got {print_ms}", file=sys.stderr)
        return 2
    if plot_file is not None and importlib.util.find_spec("matplotlib") is None:
        print("--plot needs matplotlib: pip install 'eventyard[plot]'", file=sys.stderr)
        return 2
    try:
        result = run(clients, seconds, print_ms, runs, drain_timeout, directory)
    except BenchmarkError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    if plot_file is not None:
        plot(result, plot_file)
        _progress(f"plot written to {plot_file}")
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        render(result)
    return 0
