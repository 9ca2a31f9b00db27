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
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import IO, Any, Final

import httpx

import eventyard
from eventyard.benchmarks._harness import BenchmarkError
from eventyard.benchmarks.queue import _machine, _percentile, _progress, _ratio, _url

#: System key -> (the example file, the label in reports).
SYSTEMS: Final = {
    "event_driven": ("app.py", "event-driven (app.py)"),
    "synchronous": ("fragile.py", "synchronous (fragile.py)"),
}
TARGET_P99_MS: Final = 50.0
TARGET_RATIO: Final = 3.0
#: The ratio target is stated for labels that take this long to print.
TARGET_PRINT_MS: Final = 20
DEFAULT_CLIENTS: Final = 16
DEFAULT_SECONDS: Final = 30.0
DEFAULT_DRAIN_TIMEOUT: Final = 900.0
_STARTUP_SECONDS: Final = 60.0
_WARM_UP_ORDERS: Final = 20
_WARM_UP_TIMEOUT: Final = 120.0
_STOP_SECONDS: Final = 60.0
_REQUEST_TIMEOUT_SECONDS: Final = 60.0
_POLL_SECONDS: Final = 0.25
_ORDER_POOL: Final = 256
#: The example's catalog with made-up prices (the example trusts the stated total).
_PRICES: Final = {
    "BOOK-001": 24.5,
    "BOOK-002": 31.0,
    "MUG-RED": 12.0,
    "MUG-BLUE": 12.0,
    "TEE-M": 19.9,
    "TEE-L": 19.9,
    "LAMP-01": 79.0,
    "DESK-01": 899.0,
}
_CITIES: Final = (("Delft", "2611 AB", "NL"), ("Gent", "9000", "BE"), ("Lyon", "69001", "FR"))


# -- the workload -------------------------------------------------------------------------------
def orders(count: int, seed: int) -> list[dict[str, Any]]:
    """Valid ``POST /checkout`` bodies: 1-3 distinct skus of 1-3 each, varied addresses."""
    rng = random.Random(seed)
    made = []
    for number in range(count):
        skus = rng.sample(sorted(_PRICES), rng.randint(1, 3))
        items: list[dict[str, Any]] = [{"sku": sku, "quantity": rng.randint(1, 3)} for sku in skus]
        total = sum(_PRICES[item["sku"]] * item["quantity"] for item in items)
        city, postal_code, country = _CITIES[number % len(_CITIES)]
        made.append(
            {
                "customer": f"customer{seed}-{number}@example.com",
                "items": items,
                "shipping_address": {
                    "name": f"Customer {number}",
                    "line1": f"{number} Harbour Street",
                    "city": city,
                    "postal_code": postal_code,
                    "country": country,
                },
                "total": f"{total:.2f}",
            }
        )
    return made


# -- the server ---------------------------------------------------------------------------------
def example_folder() -> str:
    """The checkout example's folder: the installed ``eventyard.examples.checkout``, or the
    repository's ``examples/checkout`` when eventyard runs from a checkout whose install does
    not map ``eventyard.examples`` (a path-only editable install)."""
    try:
        spec = importlib.util.find_spec("eventyard.examples.checkout")
    except ModuleNotFoundError:
        spec = None
    if spec is not None and spec.submodule_search_locations:
        return next(iter(spec.submodule_search_locations))
    source = os.path.dirname(os.path.abspath(eventyard.__file__))
    folder = os.path.normpath(os.path.join(source, "..", "..", "examples", "checkout"))
    if os.path.isfile(os.path.join(folder, "app.py")):
        return folder
    raise BenchmarkError("cannot find the checkout example (eventyard.examples.checkout)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class _Server:
    """``python -m eventyard run <example>:app`` on a fresh database, its output in a log file."""

    system: str
    directory: str
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None

    @property
    def database(self) -> str:
        return os.path.join(self.directory, "checkout.db")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        app_file = os.path.join(example_folder(), SYSTEMS[self.system][0])
        env = {**os.environ, "CHECKOUT_LABELS_DIR": os.path.join(self.directory, "labels")}
        self.log = open(os.path.join(self.directory, "server.log"), "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "eventyard",
                "run",
                f"{app_file}:app",
                "--db",
                _url(self.database),
                "--port",
                str(self.port),
            ],
            cwd=self.directory,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + _STARTUP_SECONDS
        while True:
            if self.process.poll() is not None:
                raise BenchmarkError(f"{self.system}: the server exited:\n{self.output()}")
            try:
                if httpx.get(self.base_url + "/", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise BenchmarkError(f"{self.system}: the server did not answer in time")
            time.sleep(0.1)

    def output(self, tail: int = 4000) -> str:
        try:
            with open(os.path.join(self.directory, "server.log"), "rb") as file:
                return file.read()[-tail:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self.log is not None:
            self.log.close()


def _pending(database: str) -> tuple[int, int]:
    """(orders without their stock taken, orders without a label), read-only."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as db:
        row = db.execute(
            "SELECT COALESCE(SUM(stock_taken_at IS NULL), 0),"
            " COALESCE(SUM(label_printed_at IS NULL), 0) FROM orders"
        ).fetchone()
    return int(row[0]), int(row[1])


def _order_times(database: str) -> dict[str, tuple[float, float | None, float | None]]:
    """order id -> (placed_at, stock_taken_at, label_printed_at)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as db:
        rows = db.execute(
            "SELECT order_id, placed_at, stock_taken_at, label_printed_at FROM orders"
        ).fetchall()
    return {order_id: (placed, stock, label) for order_id, placed, stock, label in rows}


def _wait_done(database: str, timeout: float) -> bool:
    """Wait until every order has its stock taken and its label printed; False on timeout."""
    deadline = time.monotonic() + timeout
    next_report = time.monotonic() + 30
    while True:
        stock, labels = _pending(database)
        if stock == labels == 0:
            return True
        if time.monotonic() > deadline:
            return False
        if time.monotonic() > next_report:
            _progress(f"    ... {labels:,} labels and {stock:,} stock updates still to do")
            next_report += 30
        time.sleep(_POLL_SECONDS)


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
    ready = threading.Barrier(clients + 1, timeout=_STARTUP_SECONDS)
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
    if not _wait_done(database, _WARM_UP_TIMEOUT):
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
        server = _Server(system, tmp)
        try:
            server.start()
            printer = httpx.post(server.base_url + "/printer", json={"print_ms": print_ms})
            if printer.status_code != 200:
                raise BenchmarkError(f"{system}: POST /printer: {printer.status_code}")
            _warm_up(server.base_url, server.database, seed)
            warm = set(_order_times(server.database))
            requests, wall = _load(server.base_url, clients, seconds, seed)
            load_seconds = max(r.started + r.latency for r in requests) if requests else seconds
            load_end = wall + load_seconds
            drained = _wait_done(server.database, drain_timeout)
            times = _order_times(server.database)
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


# -- output -------------------------------------------------------------------------------------
def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit == " ms" and value >= 1000:
        return f"{value / 1000:,.{2 if value < 10_000 else 0}f} s"
    return f"{value:,.1f}{unit}" if value < 10_000 else f"{value:,.0f}{unit}"


def _pair(entry: dict[str, Any], key: str) -> str:
    return f"{_fmt(entry[key]['p50'], ' ms')} / {_fmt(entry[key]['p99'], ' ms')}"


def render(result: dict[str, Any]) -> None:
    """Print the report: a rich table of medians, the ratio and the targets."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:  # a file or a pipe: do not squeeze the table into 80 columns
        console = Console(width=150)
    machine, parameters = result["machine"], result["parameters"]
    console.print(
        f"eventyard bench checkout: {parameters['clients']} concurrent HTTP clients placing orders "
        f"for {parameters['seconds']:g} s, labels take {parameters['print_ms']} ms to print; "
        f"median of {parameters['runs']} run(s)"
    )
    console.print(
        f"machine: {machine['cpu_count']} CPUs, {machine['platform']}, Python {machine['python']},"
        f" SQLite {machine['sqlite']}; one fsync ≈ {machine['fsync_ms']} ms here; load average "
        f"{machine['load_average_1m'][0]} before, {machine['load_average_1m'][-1]} after;"
        f" eventyard {machine['eventyard']} ({machine['eventyard_revision'] or 'not a checkout'})"
    )
    table = Table()
    for column in (
        "system",
        "orders/s",
        "errors",
        "POST p50 / p99",
        "→ stock p50 / p99",
        "→ label p50 / p99",
        "labels drained",
        "runs (orders/s)",
    ):
        table.add_column(column, justify="left" if column == "system" else "right")
    for system, (_, label) in SYSTEMS.items():
        entry = result["systems"][system]
        drained = _fmt(entry["label_drain_s"], " s") + ("" if entry["drained"] else " (timeout)")
        table.add_row(
            label,
            _fmt(entry["accepted_per_s"]),
            f"{entry['errors']:g}",
            _pair(entry, "post_ms"),
            _pair(entry, "to_stock_ms"),
            _pair(entry, "to_label_ms"),
            drained,
            " / ".join(f"{s['accepted_per_s']:,.1f}" for s in entry["runs"]),
        )
    console.print(table)
    ratio = result["ratio_event_driven_synchronous"]
    met = result["target_met"]
    p99 = result["systems"]["event_driven"]["post_ms"]["p99"]

    def verdict(ok: bool) -> str:
        return "[green]met[/green]" if ok else "[red]missed[/red]"

    console.print(
        f"event-driven / synchronous accepted orders/s: [bold]{_fmt(ratio)}x[/bold] "
        f"(target ≥ {TARGET_RATIO:g}x with {TARGET_PRINT_MS} ms labels: {verdict(met['ratio'])}"
        + (
            ""
            if parameters["print_ms"] == TARGET_PRINT_MS
            else f"; this run used {parameters['print_ms']} ms"
        )
        + ")"
    )
    console.print(
        f"event-driven POST /checkout p99: [bold]{_fmt(p99, ' ms')}[/bold] (target ≤ "
        f"{TARGET_P99_MS:g} ms at the rate the machine sustains: {verdict(met['post_p99'])})"
    )


def plot(result: dict[str, Any], path: str) -> None:
    """Accepted orders/s and POST p50/p99 per second of the load, and the label backlog.

    Each system's run is the one with its median accepted orders/s.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parameters = result["parameters"]
    figure = plt.figure(figsize=(9, 10))
    rate = figure.add_subplot(3, 1, 1)
    latency = figure.add_subplot(3, 1, 2, sharex=rate)
    backlog = figure.add_subplot(3, 1, 3)
    colours = {"event_driven": "tab:blue", "synchronous": "tab:red"}
    for system, (_, label) in SYSTEMS.items():
        taken = result["systems"][system]["runs"]
        ranked = sorted(taken, key=lambda sample: sample["accepted_per_s"])
        series = ranked[(len(ranked) - 1) // 2]["series"]
        colour = colours[system]
        seconds = [second + 0.5 for second in range(len(series["accepted"]))]
        rate.plot(seconds, series["accepted"], color=colour, label=label)
        latency.plot(seconds, series["p50_ms"], color=colour, label=f"{label} p50")
        latency.plot(seconds, series["p99_ms"], color=colour, linestyle="--", label=f"{label} p99")
        backlog.plot(
            range(1, len(series["label_backlog"]) + 1),
            series["label_backlog"],
            color=colour,
            label=label,
        )
    rate.set_ylabel("accepted orders / s")
    rate.set_ylim(bottom=0)
    rate.set_xlim(0, parameters["seconds"])
    rate.legend(loc="lower left", fontsize="small")
    latency.set_ylabel("POST /checkout latency (ms)")
    latency.set_yscale("log")
    latency.set_xlabel("seconds since the load started (by request start)")
    latency.axhline(TARGET_P99_MS, color="grey", linewidth=0.8, linestyle=":")
    latency.legend(loc="lower left", fontsize="x-small", ncol=2)
    backlog.set_ylabel("orders waiting for a label")
    backlog.set_xlabel("seconds since the load started (the load ends at the dotted line)")
    backlog.axvline(parameters["seconds"], color="grey", linewidth=0.8, linestyle=":")
    backlog.set_ylim(bottom=0)
    backlog.legend(loc="upper right", fontsize="small")
    figure.suptitle(
        f"eventyard bench checkout: {parameters['clients']} clients, {parameters['seconds']:g} s, "
        f"labels {parameters['print_ms']} ms each (median run of {parameters['runs']})"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


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
