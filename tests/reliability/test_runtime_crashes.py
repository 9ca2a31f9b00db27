"""The function runtime under real failures: ``eventyard run`` and its worker processes.

Each test writes an app file (`runtime_apps`), applies it, and runs it with
``python -m eventyard run APP --db URL`` as a child process, whose workers
are its own children. The tests then do to it what production does:

1. a worker is SIGKILLed inside a batch, inside the transaction of one of
   its records: the batch fails, comes back after the visibility timeout,
   and every order's effect (written through ``@idempotent`` in the same
   transaction as its idempotency record) happens exactly once;
2. a function crashing on every batch does not stop or break another one
   (the throughput of that other function, alone and next to the crashing
   one, is printed and recorded as a property of the test);
3. SIGTERM under load: running batches finish, received ones go back, the
   process exits 0 within its grace period, and after a restart every order
   has exactly one effect and no message is left;
4. a function over its memory limit fails its batch (recorded with the
   message) while another function keeps working.

5. SIGTERM while a consumer gathers a batch over a batching window releases
   the batch at once and exits within the grace period.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from children import wait_until
from runtime_apps import (
    CRASH_LOOP_APP,
    EFFECTS_TABLE,
    KILL_APP,
    MEMORY_APP,
    SHUTDOWN_APP,
    STEADY_TABLE,
    WINDOW_APP,
    read_log,
)

import eventyard
from eventyard.runtime.apply import apply_app
from eventyard.runtime.loader import load_app

pytestmark = pytest.mark.slow

WORKER_MODULE = "eventyard.runtime.worker"


# -- processes -----------------------------------------------------------------------------------


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    return int(stat.rsplit(")", 1)[1].split()[1])


def command_line(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


class RunningApp:
    """``eventyard run APP --db URL`` as a child process (its workers are its children)."""

    def __init__(self, app_path: Path, database_url: str, folder: Path, name: str) -> None:
        self.app_path = app_path
        self.name = name
        self.stdout_path = folder / f"{name}.stdout"
        self.stderr_path = folder / f"{name}.stderr"
        env = dict(os.environ)
        env.pop("EVENTYARD_DB", None)
        self.seen_workers: set[int] = set()
        with self.stdout_path.open("wb") as stdout, self.stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "eventyard", "run", str(app_path), "--db", database_url],
                stdout=stdout,
                stderr=stderr,
                env=env,
                cwd=folder,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        text = self.stderr_path.read_text(errors="replace")
        return f"--- {self.name} (exit code {self.process.poll()}), stderr tail:\n{text[-6000:]}"

    def workers(self) -> list[int]:
        """The pids of its worker processes (children running `eventyard.runtime.worker`)."""
        found = []
        for entry in os.listdir("/proc"):
            if (
                entry.isdigit()
                and _parent_of(int(entry)) == self.pid
                and WORKER_MODULE in command_line(int(entry))
            ):
                found.append(int(entry))
        self.seen_workers.update(found)
        return found

    def stop(self, timeout: float) -> tuple[int, float]:
        """SIGTERM, then wait for the exit: (exit code, seconds it took)."""
        self.workers()
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"{self.name} did not exit within {timeout} s of SIGTERM\n{self.output()}"
            ) from None
        return code, time.monotonic() - started

    def kill(self) -> None:
        """SIGKILL it and every worker it was seen with (never leave processes behind)."""
        if self.alive():
            self.workers()
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)
        for pid in self.seen_workers:
            # Only if that pid is still one of ours (pids are reused).
            if str(self.app_path) in command_line(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


Launch = Callable[[Path, str, str], RunningApp]


@pytest.fixture
def launch() -> Iterator[Launch]:
    started: list[RunningApp] = []

    def start(app_path: Path, database_url: str, name: str) -> RunningApp:
        running = RunningApp(app_path, database_url, app_path.parent, name)
        started.append(running)
        return running

    yield start
    for running in started:
        running.kill()


def watch(running: RunningApp) -> Callable[[], None]:
    """A check for waits: fail at once (with its output) if the app process is gone."""

    def check() -> None:
        if not running.alive():
            raise AssertionError(f"{running.name} exited while the test waited\n{running.output()}")

    return check


def wait_for(condition: Callable[[], Any], timeout: float, what: str, running: RunningApp) -> Any:
    alive = watch(running)

    def checked() -> Any:
        alive()
        return condition()

    try:
        return wait_until(checked, timeout, what, interval=0.05)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{running.output()}") from None


# -- databases -----------------------------------------------------------------------------------


def prepare(folder: Path, source: str, *tables: str) -> tuple[Path, str, eventyard.Client]:
    """Write the app file, apply it to a fresh database, create the app's tables."""
    folder.mkdir(parents=True, exist_ok=True)
    app_path = folder / "app.py"
    app_path.write_text(textwrap.dedent(source))
    database_url = f"sqlite:///{folder / 'app.db'}"
    client = eventyard.connect(database_url, durability="process")
    apply_app(load_app(str(app_path)), client)
    with client.transaction() as tx:
        for table in tables:
            tx.execute(table)
    return app_path, database_url, client


def query(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    path = database_url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(path, timeout=30)) as conn:
        return conn.execute(sql).fetchall()


def effects(database_url: str) -> dict[str, list[int]]:
    """Each order's effect rows (their receive counts), by order id."""
    found: dict[str, list[int]] = {}
    for order_id, n in query(database_url, "SELECT order_id, n FROM effects ORDER BY rowid"):
        found.setdefault(order_id, []).append(n)
    return found


def send_orders(queue: eventyard.Queue, order_ids: list[str]) -> dict[str, str]:
    """Send one message per order; return order id -> message id."""
    sent: dict[str, str] = {}
    for start in range(0, len(order_ids), 10):
        chunk = order_ids[start : start + 10]
        results = queue.send_batch([{"order_id": order_id} for order_id in chunk])
        assert all(r.ok for r in results), [repr(r.error) for r in results if not r.ok]
        sent.update(zip(chunk, (r.message_id for r in results), strict=True))
    return sent


# -- 1. SIGKILL of a worker mid-batch ------------------------------------------------------------

KILL_ORDERS = 20


@pytest.mark.timeout(120)
def test_sigkill_of_a_worker_mid_batch_leaves_every_effect_exactly_once(
    tmp_path: Path, launch: Launch
) -> None:
    app_path, url, client = prepare(tmp_path, KILL_APP, EFFECTS_TABLE)
    with client:
        orders = client.get_queue("orders")
        sent = send_orders(orders, [f"o-{n}" for n in range(KILL_ORDERS)])
        running = launch(app_path, url, "run")

        # The first delivery of a batch holds its second record's transaction open.
        held = wait_for(
            lambda: next(
                (e for e in read_log(tmp_path) if e["event"] == "in_tx" and e["index"] == 1), None
            ),
            60,
            "a worker inside the transaction of its batch's second record",
            running,
        )
        victim = held["pid"]
        assert victim in running.workers(), (
            f"pid {victim} is not a worker child of the supervisor {running.pid}"
        )
        assert WORKER_MODULE in command_line(victim)
        (tmp_path / "killed").touch()  # later deliveries do not hold
        os.kill(victim, signal.SIGKILL)

        log = read_log(tmp_path)
        [killed_batch] = [e["ids"] for e in log if e["event"] == "batch" and e["pid"] == victim]
        first, in_transaction = killed_batch[0], killed_batch[1]
        assert in_transaction == held["order_id"]
        committed_by_victim = {
            e["order_id"] for e in log if e["event"] == "committed" and e["pid"] == victim
        }
        assert committed_by_victim == {first}, "the kill did not land in the second transaction"

        # Everything is eventually handled and deleted (the killed batch after its timeout).
        wait_for(lambda: orders.stats().total == 0, 60, "every message deleted", running)
        assert running.alive()
        code, _ = running.stop(timeout=30)
        assert code == 0, running.output()

        # Exactly one effect per order.
        found = effects(url)
        assert set(found) == set(sent)
        duplicated = {order_id: ns for order_id, ns in found.items() if len(ns) != 1}
        assert not duplicated, f"effects happened more than once: {duplicated}"
        # The first record committed (effect and idempotency record) before the kill; the
        # second was rolled back with its transaction, so both ran again on redelivery,
        # once each: the first was skipped by @idempotent, the rest had their effect then.
        assert found[first] == [1]
        assert all(found[order_id] == [2] for order_id in killed_batch[1:])

        # The killed batch was received at least twice; its first delivery is on record.
        log = read_log(tmp_path)
        deliveries: dict[str, list[int]] = {}
        for event in log:
            if event["event"] == "record":
                deliveries.setdefault(event["order_id"], []).append(event["receive_count"])
        for order_id in killed_batch:
            assert max(deliveries[order_id]) >= 2, (order_id, deliveries[order_id])
            failures = client.message_failures(sent[order_id])
            assert failures, f"no failure recorded for {order_id}"
            assert (failures[0].attempt, failures[0].function) == (1, "ship")
            assert failures[0].error_type == "WorkerCrashed"
            assert "SIGKILL" in failures[0].error_message
        assert deliveries[first][:2] == [1, 2]  # seen again, and skipped by @idempotent
        others = set(sent) - set(killed_batch)
        assert all(deliveries[order_id] == [1] for order_id in others)
        assert not any(client.message_failures(sent[order_id]) for order_id in others)

        # The slot replaced the killed worker.
        later_pids = {e["pid"] for e in log if e["event"] == "done"}
        assert later_pids
        assert victim not in later_pids


# -- 2. one function crashing in a loop does not slow another ------------------------------------

#: Enough for a drain of about a second: the crashing slot's back-off (0.1 s doubling)
#: then allows three or four crashes (each a new worker process) while steady drains.
STEADY_MESSAGES = 10_000
CRASHY_MESSAGES = 40


def run_crash_loop(folder: Path, launch: Launch, crashy_messages: int) -> dict[str, Any]:
    """Drain STEADY_MESSAGES through ``steady`` (with ``crashy`` crashing, or idle)."""
    app_path, url, client = prepare(folder, CRASH_LOOP_APP, STEADY_TABLE)
    with client:
        steady = client.get_queue("steady")
        crashy = client.get_queue("crashy")
        for start in range(0, STEADY_MESSAGES, 10):
            results = steady.send_batch([{"n": n} for n in range(start, start + 10)])
            assert all(r.ok for r in results)
        crashy_ids = send_orders(crashy, [f"c-{n}" for n in range(crashy_messages)])

        launched = time.monotonic()
        running = launch(app_path, url, "run")
        wait_for(
            lambda: query(url, "SELECT count(*) FROM steady_done")[0][0] >= STEADY_MESSAGES,
            60,
            f"steady to handle {STEADY_MESSAGES} messages",
            running,
        )
        wall = time.monotonic() - launched
        wait_for(lambda: steady.stats().total == 0, 30, "steady's messages deleted", running)
        assert running.alive(), running.output()
        crashes = [e for e in read_log(folder) if e["event"] == "crash"]
        code, _ = running.stop(timeout=30)
        assert code == 0, running.output()

        rows = query(url, "SELECT n, at FROM steady_done")
        counts = Counter(n for n, _ in rows)
        assert len(counts) == STEADY_MESSAGES, "a message of steady was not handled"
        assert set(counts.values()) == {1}, "a message of steady was handled twice"
        kept = crashy.stats().total + client.get_queue("crashy-dlq").stats().total
        assert kept == crashy_messages, "a message of crashy was lost"
        if crashy_messages:
            assert crashes, "crashy never ran"
            crashed_ids = [sent for sent in crashy_ids.values() if client.message_failures(sent)]
            assert crashed_ids
            failure = client.message_failures(crashed_ids[0])[0]
            assert (failure.function, failure.error_type) == ("crashy", "WorkerCrashed")
            assert "exited with code 3" in failure.error_message
        first = min(at for _, at in rows)
        last = max(at for _, at in rows)
        return {
            "messages_per_second": round(STEADY_MESSAGES / max(last - first, 1e-3)),
            "drain_seconds": round(last - first, 2),
            "wall_seconds": round(wall, 2),
            "crashes": len(crashes),
            "crashes_while_draining": sum(1 for e in crashes if first <= e["at"] <= last),
        }


@pytest.mark.timeout(150)
def test_a_function_crashing_in_a_loop_does_not_slow_another(
    tmp_path: Path,
    launch: Launch,
    record_property: Callable[[str, object], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    alone = run_crash_loop(tmp_path / "alone", launch, crashy_messages=0)
    beside = run_crash_loop(tmp_path / "beside-crashy", launch, crashy_messages=CRASHY_MESSAGES)
    record_property("steady_alone", alone)
    record_property("steady_beside_crashy", beside)
    ratio = beside["messages_per_second"] / max(alone["messages_per_second"], 1)
    record_property("steady_ratio_beside_over_alone", round(ratio, 2))
    with capsys.disabled():  # the figures are reported: show them even without -s
        print(
            f"\n[runtime crash loop] steady alone: {alone}\n"
            f"[runtime crash loop] steady beside crashy: {beside}\n"
            f"[runtime crash loop] throughput ratio (beside / alone): {ratio:.2f}"
        )
    assert alone["crashes"] == 0
    assert beside["crashes"] >= 1


# -- 3. graceful shutdown under load -------------------------------------------------------------


class Producer(threading.Thread):
    """Sends orders in batches of 10, continuously, until told to stop."""

    def __init__(self, database_url: str, interval: float) -> None:
        super().__init__(name="producer", daemon=True)
        self.database_url = database_url
        self.interval = interval
        self.sent: list[str] = []
        self.error: BaseException | None = None
        self.stop_event = threading.Event()

    def run(self) -> None:
        try:
            with eventyard.connect(self.database_url, durability="process") as client:
                queue = client.get_queue("orders")
                while not self.stop_event.is_set():
                    start = len(self.sent)
                    order_ids = [f"o-{n}" for n in range(start, start + 10)]
                    send_orders(queue, order_ids)
                    self.sent.extend(order_ids)
                    self.stop_event.wait(self.interval)
        except BaseException as exc:
            self.error = exc

    def finish(self) -> list[str]:
        self.stop_event.set()
        self.join(30)
        assert not self.is_alive(), "the producer did not stop"
        if self.error is not None:
            raise self.error
        return self.sent


def unfinished(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The batches the app's log shows started and not (yet) ended."""
    ended = Counter((e["pid"], tuple(e["ids"])) for e in log if e["event"] == "end")
    running = []
    for event in log:
        if event["event"] == "start":
            key = (event["pid"], tuple(event["ids"]))
            if ended[key]:
                ended[key] -= 1
            else:
                running.append(event)
    return running


GRACE_SECONDS = 10  # the supervisor's default: the longest function timeout (5 s) + 5 s


@pytest.mark.timeout(120)
def test_sigterm_under_load_finishes_running_batches_and_loses_nothing(
    tmp_path: Path, launch: Launch
) -> None:
    app_path, url, client = prepare(tmp_path, SHUTDOWN_APP, EFFECTS_TABLE)
    producer = Producer(url, interval=0.15)
    with client:
        orders = client.get_queue("orders")
        try:
            producer.start()
            running = launch(app_path, url, "run")
            wait_for(
                lambda: sum(1 for e in read_log(tmp_path) if e["event"] == "end") >= 10,
                60,
                "batches handled under load",
                running,
            )
            wait_for(lambda: unfinished(read_log(tmp_path)), 30, "a batch in progress", running)
            signalled_at = time.time()
            code, took = running.stop(timeout=GRACE_SECONDS + 30)
            assert code == 0, running.output()
            assert took < GRACE_SECONDS, f"exit took {took:.1f} s, over the grace period"
            time.sleep(0.3)  # the producer goes on a little while nothing consumes
        finally:
            sent = producer.finish()

        # The batches that ran at SIGTERM finished: their effects are there, their
        # messages deleted (below: nothing is in flight, nothing is both done and queued).
        log = read_log(tmp_path)
        ends = {(e["pid"], tuple(e["ids"])): e["at"] for e in log if e["event"] == "end"}
        at_sigterm = [
            e
            for e in log
            if e["event"] == "start"
            and e["at"] < signalled_at
            and ends.get((e["pid"], tuple(e["ids"])), float("inf")) > signalled_at
        ]
        assert at_sigterm, "no batch was running at SIGTERM"
        unfinished_batches = unfinished(log)
        assert not unfinished_batches, f"batches did not finish: {unfinished_batches}"
        found = effects(url)
        assert all(len(found.get(i, [])) == 1 for e in at_sigterm for i in e["ids"])
        print(
            f"\nSIGTERM with {len(at_sigterm)} batch(es) running: exit 0 after {took:.2f} s "
            f"(grace {GRACE_SECONDS} s); {len(found)} of {len(sent)} orders done before the restart"
        )
        # Nothing left in flight: finished batches were deleted, received ones released.
        stats = orders.stats()
        assert stats.in_flight == 0, stats
        assert stats.visible + sum(len(ns) for ns in found.values()) == len(sent), (
            stats,
            len(found),
            len(sent),
        )

        # A restart drains the rest, well before a visibility timeout (60 s) could end.
        again = launch(app_path, url, "restart")
        wait_for(
            lambda: orders.stats().total == 0 and len(effects(url)) >= len(sent),
            40,
            "the restarted app to drain the queue",
            again,
        )
        code, _ = again.stop(timeout=GRACE_SECONDS + 30)
        assert code == 0, again.output()

        found = effects(url)
        assert set(found) == set(sent), "an order was lost"
        duplicated = {order_id: ns for order_id, ns in found.items() if len(ns) != 1}
        assert not duplicated, f"effects happened more than once: {duplicated}"
        assert orders.stats().total == 0
        assert len(sent) >= 100  # the producer really kept sending during the run


# -- 4. memory limit -----------------------------------------------------------------------------


@pytest.mark.timeout(90)
def test_a_function_over_its_memory_limit_fails_its_batch_and_others_keep_working(
    tmp_path: Path, launch: Launch
) -> None:
    app_path, url, client = prepare(tmp_path, MEMORY_APP, EFFECTS_TABLE)
    with client:
        hog = client.get_queue("hog")
        steady = client.get_queue("steady")
        hog_sent = send_orders(hog, ["h-small-1"])
        hog_sent |= send_orders(hog, ["h-gigabyte"])
        steady_sent = send_orders(steady, [f"s-{n}" for n in range(100)])
        running = launch(app_path, url, "run")

        big = hog_sent["h-gigabyte"]
        wait_for(lambda: client.message_failures(big), 60, "the 1 GB batch to fail", running)
        [failure] = client.message_failures(big)
        assert failure.function == "hog"
        assert failure.error_type in ("MemoryError", "WorkerCrashed"), failure
        if failure.error_type == "MemoryError":
            assert "bytearray(1024**3)" in failure.traceback
        log = read_log(tmp_path)
        assert any(e["event"] == "allocating" for e in log)
        assert not any(e["event"] == "allocated" for e in log), "1 GB fit under a 256 MB limit"

        # Both functions go on: hog with its next batch, steady with new messages.
        hog_sent |= send_orders(hog, ["h-small-2"])
        steady_sent |= send_orders(steady, [f"s-{n}" for n in range(100, 150)])
        expected = {"h-small-1", "h-small-2"} | set(steady_sent)
        wait_for(
            lambda: expected <= set(effects(url)), 60, "both functions to go on working", running
        )
        # The handlers' effects commit before the supervisor deletes their batch.
        wait_for(lambda: steady.stats().total == 0, 30, "steady's batches to be deleted", running)
        wait_for(lambda: hog.stats().total == 1, 30, "hog's good batch to be deleted", running)
        # (the failed batch stays, in flight until its timeout)
        assert "h-gigabyte" not in effects(url)
        assert running.alive()
        code, _ = running.stop(timeout=30)
        assert code == 0, running.output()
        found = effects(url)
        assert all(len(ns) == 1 for ns in found.values())


# -- SIGTERM while a batch is being gathered over a batching window --------------------------


@pytest.mark.timeout(60)
def test_sigterm_during_a_batching_window_releases_the_batch_within_the_grace_period(
    tmp_path: Path, launch: Launch
) -> None:
    app_path, url, client = prepare(tmp_path, WINDOW_APP, EFFECTS_TABLE)
    grace = 1 + 5  # the supervisor's default: the function timeout (1 s) + 5 s
    with client:
        orders = client.get_queue("orders")
        send_orders(orders, ["o-1"])
        running = launch(app_path, url, "run")
        # Received: the mapping now waits for more, up to 30 s, to fill its batch of 100.
        wait_for(lambda: orders.stats().in_flight == 1, 30, "the batch to be gathering", running)
        time.sleep(0.5)
        started = time.monotonic()
        running.process.send_signal(signal.SIGTERM)
        try:
            code = running.process.wait(timeout=grace + 3)
        except subprocess.TimeoutExpired:
            code = None
        took = time.monotonic() - started
        assert code == 0, f"still running {took:.1f} s after SIGTERM (grace {grace} s)"
        # Received but not started: released at once, not left in flight for 60 s.
        stats = orders.stats()
        assert (stats.visible, stats.in_flight) == (1, 0), stats
        assert "is closed" not in running.stderr_path.read_text()
