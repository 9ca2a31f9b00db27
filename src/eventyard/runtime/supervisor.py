"""The supervisor: runs an app's functions, its dispatcher and its HTTP server.

Per function, one thread per unit of concurrency, each owning one worker
process (`WorkerSlot`) and feeding it (`QueueMapping` for queue consumers,
`AsyncInvoker` for functions invoked by topics and rules). A worker that
crashes, hangs past its timeout or runs out of memory fails only its own
batch and is replaced with a back-off; other functions never notice.

Shutdown (SIGTERM, SIGINT, or `stop`): stop receiving; batches already sent
to a worker finish (up to the grace period); batches received but not
started are released at once; then the workers stop and the process exits 0.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.routing import BaseRoute

from eventyard.broker.client import Client
from eventyard.runtime.app import App
from eventyard.runtime.invoker import AsyncInvoker
from eventyard.runtime.mapping import QueueMapping
from eventyard.runtime.slot import WorkerSlot

log = logging.getLogger("eventyard.runtime")


@dataclass
class _Running:
    function: str
    slot: WorkerSlot
    loop: QueueMapping | AsyncInvoker
    thread: threading.Thread


class Supervisor:
    def __init__(
        self,
        app: App,
        app_reference: str,
        client: Client,
        *,
        run_dispatcher: bool = True,
        http: tuple[str, int] | None = None,
        grace_seconds: float | None = None,
        async_retry_delay_seconds: int | None = None,
        admin_routes: Sequence[BaseRoute] = (),
    ) -> None:
        """``http``: (host, port) to serve the app's routes on, with ``admin_routes`` (the
        admin surface, served even if the app has no routes)."""
        self.app = app
        self.app_reference = app_reference
        self.client = client
        self.stop_event = threading.Event()
        self._run_dispatcher = run_dispatcher
        self._http = http
        self._admin_routes = tuple(admin_routes)
        self._grace = grace_seconds
        self._async_retry_delay = async_retry_delay_seconds
        self._running: list[_Running] = []
        self._extra_threads: list[threading.Thread] = []
        self.http_ready = threading.Event()
        #: Why the supervisor stopped on its own (e.g. the HTTP port was taken), if it did.
        self.failure: str | None = None

    def start(self) -> Supervisor:
        from eventyard.idempotency import set_default_client

        client = self.client
        set_default_client(client)  # @idempotent in routes and in-process code: this client
        database_url = client.store.connect_url  # client.url masks a password
        for spec in self.app.functions.values():
            for index in range(spec.max_concurrency):
                slot = WorkerSlot(
                    self.app_reference,
                    spec.name,
                    database_url,
                    self.stop_event,
                    client.store.durability,
                )
                loop: QueueMapping | AsyncInvoker
                if spec.trigger == "queue":
                    loop = QueueMapping(client, spec, slot, self.stop_event)
                else:
                    loop = AsyncInvoker(
                        client,
                        spec,
                        slot,
                        self.stop_event,
                        **(
                            {"retry_delay_seconds": self._async_retry_delay}
                            if self._async_retry_delay is not None
                            else {}
                        ),
                    )
                thread = threading.Thread(
                    target=self._guarded(loop.run), name=f"eventyard-{spec.name}-{index}"
                )
                self._running.append(_Running(spec.name, slot, loop, thread))
        for running in self._running:
            running.thread.start()
        if self._run_dispatcher:
            dispatcher = client.dispatcher()
            self._start_thread(dispatcher.run, "eventyard-dispatcher")
            self._dispatcher_stop: Callable[[], None] | None = dispatcher.request_stop
        else:
            self._dispatcher_stop = None
        if self._http is not None and (self.app.routes or self._admin_routes):
            self._start_http(*self._http)
        return self

    def _guarded(self, run: Callable[[], None]) -> Callable[[], None]:
        def guarded() -> None:
            try:
                run()
            except Exception:
                log.exception("a function loop stopped on an unexpected error")

        return guarded

    def _start_thread(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=self._guarded(target), name=name, daemon=True)
        thread.start()
        self._extra_threads.append(thread)

    def _start_http(self, host: str, port: int) -> None:
        from eventyard.runtime.http import create_asgi_app, serve

        asgi = create_asgi_app(
            self.app.routes, lambda: self.client, admin_routes=self._admin_routes
        )
        # The dashboard draws the queue -> function links from the app (the database has none).
        asgi.state.eventyard_app = self.app

        def run_http() -> None:
            try:
                serve(asgi, host, port, ready=self.http_ready, stop=self.stop_event)
            except OSError as exc:
                self.failure = f"cannot serve HTTP on {host}:{port}: {exc}"
                log.error(self.failure)
                self.request_stop()

        self._start_thread(run_http, "eventyard-http")

    def install_signal_handlers(self) -> None:
        def handle(signum: int, frame: Any) -> None:
            log.info("received %s: stopping", signal.Signals(signum).name)
            self.request_stop()

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)

    def request_stop(self) -> None:
        self.stop_event.set()
        if self._dispatcher_stop is not None:
            self._dispatcher_stop()

    def wait(self) -> None:
        """Block until asked to stop, then shut down cleanly."""
        while not self.stop_event.wait(0.5):
            pass
        self.shutdown()

    def shutdown(self) -> None:
        self.request_stop()
        grace = self._grace
        if grace is None:
            grace = max((s.timeout_seconds for s in self.app.functions.values()), default=3) + 5
        for running in self._running:
            running.thread.join(grace)
        for running in self._running:
            running.slot.close()
        for thread in self._extra_threads:
            thread.join(10)

    def stats(self) -> dict[str, dict[str, int]]:
        result: dict[str, dict[str, int]] = {}
        for running in self._running:
            entry = result.setdefault(
                running.function, {"invocations": 0, "restarts": 0, "slots": 0}
            )
            entry["invocations"] += running.loop.invocations
            entry["restarts"] += running.slot.restarts
            entry["slots"] += 1
        return result
