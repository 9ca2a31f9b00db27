"""Functions under the supervisor, with real worker processes on a real SQLite file."""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import eventyard
from eventyard.runtime.apply import apply_app
from eventyard.runtime.loader import load_app
from eventyard.runtime.supervisor import Supervisor

pytestmark = pytest.mark.slow

RunApp = Callable[..., tuple[eventyard.Client, Supervisor]]


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


@pytest.fixture
def run_app(
    tmp_path: Path, database_url: str
) -> Iterator[Callable[..., tuple[eventyard.Client, Supervisor]]]:
    started: list[tuple[eventyard.Client, Supervisor]] = []

    def start(source: str, **options: object) -> tuple[eventyard.Client, Supervisor]:
        path = tmp_path / f"app_{len(started)}.py"
        path.write_text(textwrap.dedent(source))
        app = load_app(str(path))
        client = eventyard.connect(database_url, durability="process")
        apply_app(app, client)
        supervisor = Supervisor(app, str(path), client, **options)  # type: ignore[arg-type]
        started.append((client, supervisor))
        return client, supervisor

    yield start
    for client, supervisor in started:
        supervisor.shutdown()
        client.close()


def test_partial_batch_failure_deletes_only_the_successes(
    run_app: RunApp,
) -> None:
    client, supervisor = run_app(
        """
        import eventyard
        app = eventyard.App("t")
        orders = app.queue("orders", visibility_timeout=30)
        done = app.queue("done")

        @app.consumer(orders, batch_size=10, timeout_seconds=5, max_concurrency=1)
        def handle(batch, context):
            response = eventyard.BatchResponse()
            for record in batch:
                if record.body["n"] == 3:
                    response.fail(record)
                elif record.body["n"] == 6:
                    response.fail(record, LookupError(f"no sku for {record.body['n']}"))
                elif record.body["n"] == 9:
                    response.fail(record, "the printer jammed")
                else:
                    context.client.get_queue("done").send(record.body)
            return response
        """,
        run_dispatcher=False,
    )
    orders = client.get_queue("orders")
    sent = orders.send_batch([{"n": n} for n in range(1, 10)])
    supervisor.start()
    wait_until(lambda: client.get_queue("done").stats().visible == 6)
    wait_until(lambda: orders.stats().in_flight == 3)
    assert orders.stats().visible == 0
    reasons = [
        [(f.error_type, f.error_message) for f in client.message_failures(sent[n - 1].message_id)]
        for n in (3, 6, 9)
    ]
    assert reasons == [
        [("BatchItemFailure", "the handler reported this message as failed")],
        [("LookupError", "no sku for 6")],
        [("BatchItemFailure", "the printer jammed")],
    ]


def test_a_poison_message_reaches_the_dlq_with_its_last_error(
    run_app: RunApp,
) -> None:
    client, supervisor = run_app(
        """
        import eventyard
        app = eventyard.App("t")
        orders = app.queue(
            "orders", visibility_timeout=1, dead_letter_queue="orders-dlq", max_receive_count=2
        )

        @app.consumer(orders, batch_size=1, timeout_seconds=1, max_concurrency=1)
        def handle(batch):
            for record in batch:
                if record.body.get("poison"):
                    raise ValueError(f"cannot ship order {record.body['id']}")
        """,
        run_dispatcher=False,
    )
    message_id = client.get_queue("orders").send({"id": 7, "poison": True})
    supervisor.start()
    dlq = client.get_queue("orders-dlq")
    wait_until(lambda: dlq.stats().visible == 1, timeout=30)
    failures = client.message_failures(message_id)
    assert [f.attempt for f in failures] == [1, 2]
    last = failures[-1]
    assert (last.function, last.queue, last.error_type) == ("handle", "orders", "ValueError")
    assert last.error_message == "cannot ship order 7"
    assert "raise ValueError" in last.traceback


def test_a_crashing_function_does_not_stop_another(
    run_app: RunApp,
) -> None:
    client, supervisor = run_app(
        """
        import os
        import eventyard
        app = eventyard.App("t")
        crashy = app.queue("crashy", visibility_timeout=2)
        steady = app.queue("steady", visibility_timeout=30)
        done = app.queue("done")

        @app.consumer(crashy, batch_size=1, timeout_seconds=1, max_concurrency=1)
        def crash(batch):
            os._exit(3)

        @app.consumer(steady, batch_size=10, timeout_seconds=5, max_concurrency=2)
        def work(batch, context):
            context.client.get_queue("done").send_batch([r.body for r in batch])
        """,
        run_dispatcher=False,
    )
    crash_id = client.get_queue("crashy").send("boom")
    steady = client.get_queue("steady")
    for start in range(0, 200, 10):
        steady.send_batch([{"n": n} for n in range(start, start + 10)])
    supervisor.start()
    wait_until(lambda: client.get_queue("done").stats().visible == 200, timeout=60)
    wait_until(lambda: supervisor.stats()["crash"]["restarts"] >= 1, timeout=30)
    crashy = client.get_queue("crashy")
    assert crashy.stats().total == 1  # its message comes back after the visibility timeout
    failures = client.message_failures(crash_id)
    assert failures[0].error_type == "WorkerCrashed"
    assert "exited with code 3" in failures[0].error_message


def test_a_function_past_its_timeout_is_killed_and_replaced(
    run_app: RunApp,
) -> None:
    client, supervisor = run_app(
        """
        import time
        import eventyard
        app = eventyard.App("t")
        slow = app.queue("slow", visibility_timeout=30)

        @app.consumer(slow, batch_size=1, timeout_seconds=1, max_concurrency=1)
        def hang(batch):
            if batch[0].body == "hang":
                time.sleep(60)
        """,
        run_dispatcher=False,
    )
    slow = client.get_queue("slow")
    message_id = slow.send("hang")
    slow.send("quick")
    supervisor.start()
    wait_until(lambda: len(client.message_failures(message_id)) == 1, timeout=30)
    assert client.message_failures(message_id)[0].error_type == "Timeout"
    wait_until(lambda: slow.stats().in_flight == 1 and slow.stats().visible == 0, timeout=30)


def test_async_functions_retry_then_reach_their_destinations(
    run_app: RunApp,
) -> None:
    client, supervisor = run_app(
        """
        import eventyard
        app = eventyard.App("t")
        orders = app.topic("orders")
        ok = app.queue("ok")
        failed = app.queue("failed")

        @app.on_topic(orders, on_success=ok)
        def confirm(notification):
            return {"confirmed": notification["Message"]}

        @app.on_event(pattern={"source": ["shop"]}, retries=2, on_failure=failed)
        def review(event):
            raise RuntimeError(f"cannot review {event['detail']['id']}")
        """,
        run_dispatcher=False,
        async_retry_delay_seconds=1,
    )
    supervisor.start()
    client.get_topic("orders").publish("order 1")
    client.bus().put_events([{"source": "shop", "detail_type": "Order", "detail": {"id": 5}}])
    ok = client.get_queue("ok")
    wait_until(lambda: ok.stats().visible == 1)
    [success] = ok.receive()
    record = success.body
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["functionArn"].endswith(":function:confirm:$LATEST")
    assert record["responsePayload"] == {"confirmed": "order 1"}
    assert record["requestPayload"]["Message"] == "order 1"
    failed = client.get_queue("failed")
    wait_until(lambda: failed.stats().visible == 1, timeout=30)
    [failure] = failed.receive()
    record = failure.body
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    assert record["requestPayload"]["detail"] == {"id": 5}


def test_a_lambda_style_handler_runs_unchanged_with_powertools(
    run_app: RunApp,
) -> None:
    client, supervisor = run_app(
        """
        import json
        import eventyard
        from aws_lambda_powertools.utilities.batch import (
            BatchProcessor,
            EventType,
            process_partial_response,
        )

        app = eventyard.App("t")
        orders = app.queue("orders", visibility_timeout=30)
        done = app.queue("done")
        processor = BatchProcessor(event_type=EventType.SQS)

        def record_handler(record):
            order = json.loads(record.body)
            if order["n"] == 2:
                raise ValueError("bad order")
            eventyard.connect().get_queue("done").send(order)

        @app.consumer(
            orders, batch_size=10, timeout_seconds=10, max_concurrency=1, style="lambda"
        )
        def handler(event, context):
            assert context.get_remaining_time_in_millis() > 0
            assert context.function_name == "handler"
            return process_partial_response(
                event=event, record_handler=record_handler, processor=processor, context=context
            )
        """,
        run_dispatcher=False,
    )
    orders = client.get_queue("orders")
    orders.send_batch([{"n": n} for n in range(1, 5)])
    supervisor.start()
    wait_until(lambda: client.get_queue("done").stats().visible == 3)
    wait_until(lambda: orders.stats().in_flight == 1 and orders.stats().visible == 0)
    [stuck] = orders.receive(visibility_timeout=0) or [None]
    assert stuck is None  # still in flight: only the failed message was kept
    assert (
        json.dumps(sorted(m.body["n"] for m in client.get_queue("done").receive(10))) == "[1, 3, 4]"
    )


def test_a_failed_message_returns_after_the_queues_visibility_timeout_not_the_claims(
    run_app: RunApp,
) -> None:
    # The mapping claims batches for window + 2 x timeout + 5 s (here 7 s) so a batch waiting
    # its turn never reappears; a failure shortens that to the queue's own 1 s.
    client, supervisor = run_app(
        """
        import time
        import eventyard
        app = eventyard.App("t")
        orders = app.queue("orders", visibility_timeout=1)
        tries = app.queue("tries")

        @app.consumer(orders, batch_size=1, timeout_seconds=1, max_concurrency=1)
        def handle(batch, context):
            record = batch[0]
            context.client.get_queue("tries").send({"at": time.time(), "n": record.receive_count})
            if record.receive_count == 1:
                raise RuntimeError("first try fails")
        """,
        run_dispatcher=False,
    )
    client.get_queue("orders").send("x")
    supervisor.start()
    tries = client.get_queue("tries")
    wait_until(lambda: tries.stats().visible == 2, timeout=30)
    first, second = sorted((m.body for m in tries.receive(max_messages=2)), key=lambda b: b["n"])
    assert (first["n"], second["n"]) == (1, 2)
    assert second["at"] - first["at"] < 7  # the claim's 7 s did not hold it back


def test_functions_record_their_statistics_for_every_process(
    run_app: RunApp, database_url: str
) -> None:
    client, supervisor = run_app(
        """
        import time
        import eventyard
        app = eventyard.App("t")
        orders = app.queue("orders", visibility_timeout=30)
        news = app.topic("news")

        @app.consumer(orders, batch_size=5, timeout_seconds=5, max_concurrency=1)
        def handle(batch):
            time.sleep(0.02)
            if any(record.body.get("fail") for record in batch):
                raise ValueError("no")

        @app.on_topic(news, retries=0)
        def notify(notification):
            return None
        """,
        run_dispatcher=False,
    )
    orders = client.get_queue("orders")
    orders.send_batch([{"n": n} for n in range(5)])
    supervisor.start()
    wait_until(lambda: orders.stats().total == 0)
    orders.send({"fail": True})
    client.get_topic("news").publish("hello")
    with eventyard.connect(database_url) as other:  # another process's view: the same figures
        wait_until(
            lambda: (
                {"handle", "notify"} <= set(other.function_stats())
                and other.function_stats()["handle"].errors == 1
            )
        )
        stats = other.function_stats(window_seconds=60)
    handle = stats["handle"]
    assert (handle.invocations, handle.errors, handle.messages) == (2, 1, 6)
    assert (handle.total_invocations, handle.total_messages) == (2, 6)
    assert handle.p50_ms is not None
    assert handle.p50_ms >= 10.0  # the handler sleeps 20 ms
    assert sum(handle.total_buckets) == 2
    assert (stats["notify"].invocations, stats["notify"].errors) == (1, 0)
    assert orders.counters().received >= 6
